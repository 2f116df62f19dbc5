"""vizgen.topics.visualize (the class-visualization driver) and vizgen.library.plotting, on tiny seeded models."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from vizgen.library import plotting
from vizgen.library.image import blur_image, jitter
from vizgen.author.models import ModelSpec, build_model
from vizgen.topics.visualize import (
    blur_downscale,
    clip_small_pixels,
    create_class_visualization,
    high_frequency_energy,
    random_image,
    survives_blur_downscale,
)

SIZE = 16  # image side used throughout: tiny and fast


@pytest.fixture(scope="module")
def model():
    return build_model(ModelSpec("tiny_cnn", seed=0))


def ascent_step(img, model, target_y, l2_reg, learning_rate):
    """A reference update step: normalized ascent on s_y(I) - l2_reg * ||I||^2."""
    objective = model(img)[0, target_y] - l2_reg * img.pow(2).sum()
    objective.backward()
    with torch.no_grad():
        img += learning_rate * img.grad / img.grad.norm()
        img.grad.zero_()


def add_step(img, model, target_y, l2_reg, learning_rate):
    """A hand-checkable update step: adds learning_rate to every pixel."""
    with torch.no_grad():
        img += learning_rate


def noop_step(img, model, target_y, l2_reg, learning_rate):
    pass


PLAIN = {"max_jitter": 0, "blur_every": 0, "clip_percentile": 0}  # only the update step and the clamp


def ramp(size: int = SIZE) -> torch.Tensor:
    """A (1, 3, size, size) init with distinct values in [-0.9, 0.9], so rolls and blurs are visible."""
    return torch.linspace(-0.9, 0.9, 3 * size * size).view(1, 3, size, size)


def test_output_shape_dtype_and_range(model):
    out = create_class_visualization(3, model, ascent_step, num_iterations=5, learning_rate=5.0, image_size=SIZE)
    assert out.shape == (1, 3, SIZE, SIZE)
    assert out.dtype == torch.float32
    assert not out.requires_grad
    assert out.min() >= -1 and out.max() <= 1


def test_plain_loop_matches_hand_computation(model):
    init = ramp()
    before = init.clone()
    out = create_class_visualization(0, model, add_step, num_iterations=3, learning_rate=0.25, init=init, **PLAIN)
    expected = init
    for _ in range(3):
        expected = (expected + 0.25).clamp(-1, 1)
    torch.testing.assert_close(out, expected)
    assert torch.equal(init, before)  # init is not modified


def test_jitter_is_applied_and_undone(model):
    seen = []

    def record(img, model, target_y, l2_reg, learning_rate):
        seen.append(img.detach().clone())

    init = ramp()
    settings = {"max_jitter": 4, "blur_every": 0, "clip_percentile": 0}
    out = create_class_visualization(0, model, record, num_iterations=6, init=init, seed=1, **settings)
    assert torch.equal(out, init)  # every roll was undone exactly
    assert any(not torch.equal(s, init) for s in seen)  # but the update step saw shifted images
    assert all(any(torch.equal(s, jitter(init, ox, oy)) for ox in range(-4, 5) for oy in range(-4, 5)) for s in seen)


def test_blur_every_k_steps(model):
    init = ramp()
    settings = {"max_jitter": 0, "blur_every": 2, "blur_sigma": 0.8, "clip_percentile": 0}
    out = create_class_visualization(0, model, noop_step, num_iterations=5, init=init, **settings)
    expected = blur_image(blur_image(init, 0.8), 0.8)  # after steps 2 and 4
    torch.testing.assert_close(out, expected)


def test_update_step_gets_a_leaf_that_requires_grad(model):
    flags = []

    def check(img, model, target_y, l2_reg, learning_rate):
        flags.append((img.is_leaf, img.requires_grad, target_y, l2_reg, learning_rate))

    create_class_visualization(7, model, check, num_iterations=2, l2_reg=0.01, learning_rate=3.0, image_size=SIZE)
    assert flags == [(True, True, 7, 0.01, 3.0)] * 2


def test_callback_called_once_per_iteration_with_copies(model):
    calls = []

    def callback(t, img):
        calls.append(t)
        img.fill_(5.0)  # must not leak into the optimization

    out = create_class_visualization(1, model, ascent_step, num_iterations=7, image_size=SIZE, callback=callback)
    assert calls == list(range(7))
    assert out.abs().max() <= 1


def test_seed_determines_the_result(model):
    def run(seed):
        return create_class_visualization(2, model, ascent_step, num_iterations=4, image_size=SIZE, seed=seed)

    torch.testing.assert_close(run(3), run(3), rtol=0, atol=0)
    assert not torch.equal(run(3), run(4))
    state = torch.random.get_rng_state()
    run(3)
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is not used


def test_ascent_raises_the_target_score(model):
    init = random_image(SIZE, torch.Generator().manual_seed(0))
    out = create_class_visualization(4, model, ascent_step, num_iterations=20, learning_rate=2.0, init=init, **PLAIN)
    with torch.no_grad():
        gain = model(out)[0] - model(init)[0]  # (10,) score changes; the untrained tiny CNN's scores span ~0.3
    assert gain[4] > 0.05
    assert gain.argmax() == 4


def test_clip_small_pixels_zeroes_the_weakest_pixels():
    img = ramp(10)
    out = clip_small_pixels(img, 30.0)
    norms = img.norm(dim=1)  # (1, 10, 10)
    zeroed = (out == 0).all(dim=1)  # (1, 10, 10)
    assert 0.25 <= zeroed.float().mean() <= 0.35
    assert norms[zeroed].max() <= norms[~zeroed].min()
    torch.testing.assert_close(out[:, :, ~zeroed[0]], img[:, :, ~zeroed[0]])


@pytest.mark.parametrize(
    "settings",
    [
        {"num_iterations": -1},
        {"clip_percentile": 100},
        {"max_jitter": -1},
        {"blur_every": 2, "blur_sigma": 0.0},
        {"init": torch.zeros(3, 8, 8)},
    ],
)
def test_bad_settings_raise_value_error(model, settings):
    with pytest.raises(ValueError):
        create_class_visualization(0, model, noop_step, image_size=SIZE, **settings)


# ---------------------------------------------------------------------------------------------
# judging a visualization by eye: high-frequency energy and the blur + downscale test
# ---------------------------------------------------------------------------------------------


def sinusoid(cycles_per_pixel: float, size: int = 64) -> torch.Tensor:
    """A (1, 3, size, size) vertical grating with the given frequency, in [-0.5, 0.5]."""
    x = torch.arange(size, dtype=torch.float32)
    wave = 0.5 * torch.cos(2 * torch.pi * cycles_per_pixel * x)  # (size,)
    return wave.view(1, 1, 1, size).expand(1, 3, size, size).clone()


def test_high_frequency_energy_of_noise_gratings_and_blur():
    noise = torch.randn(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))  # (1, 3, 128, 128)
    share = high_frequency_energy(noise)
    assert abs(share - (1 - torch.pi / 16)) < 0.02  # white noise: the area outside the circle of radius 0.25
    assert high_frequency_energy(blur_image(noise, 1.0)) < 0.15 < 0.5 < high_frequency_energy(blur_image(noise, 0.5))
    assert high_frequency_energy(sinusoid(0.0625)) < 1e-6  # 4 cycles in 64 px: all power below the cutoff
    assert high_frequency_energy(sinusoid(0.375)) > 1 - 1e-6  # 24 cycles in 64 px: all above
    assert high_frequency_energy(torch.full((1, 3, 16, 16), 0.3)) == 0.0  # no power at all but the mean
    smooth = blur_image(noise, 3.0)
    assert high_frequency_energy(smooth + 0.3 * noise) > 10 * high_frequency_energy(smooth)


def test_blur_downscale_keeps_the_size_and_removes_fine_detail():
    checker = ((torch.arange(16).view(-1, 1) + torch.arange(16).view(1, -1)) % 2).float() * 2 - 1  # (16, 16)
    img = checker.expand(1, 3, 16, 16).clone()
    out = blur_downscale(img)
    assert out.shape == img.shape
    assert out.abs().max() < 0.05  # a 1-px checkerboard averages to grey
    flat = torch.full((1, 3, 16, 16), 0.4)
    torch.testing.assert_close(blur_downscale(flat), flat)
    assert high_frequency_energy(blur_downscale(noise := torch.randn(1, 3, 32, 32))) < high_frequency_energy(noise)


class DetailOrBrightness(nn.Module):
    """Class 0 scores fine detail (the image minus its blur), class 1 scores mean brightness."""

    def forward(self, x):  # (N, 3, H, W) -> (N, 2)
        detail = (x - blur_image(x, 1.0)).abs().mean(dim=(1, 2, 3))  # (N,)
        return torch.stack([detail, x.mean(dim=(1, 2, 3))], dim=1)


def test_survives_blur_downscale_tells_noise_from_a_picture():
    model = DetailOrBrightness()
    noise = (0.2 + torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))).clamp(-1, 1)
    with torch.no_grad():
        assert model(noise).argmax().item() == 0  # the raw noise is classified as "detail" ...
    assert not survives_blur_downscale(noise, model, 0)  # ... but not once blurred and downscaled
    bright = blur_image(noise, 3.0)  # the same picture without its fine detail
    assert survives_blur_downscale(bright, model, 1)
    assert survives_blur_downscale(noise, model, 1)  # what the viewer sees of the noise: its brightness


# ---------------------------------------------------------------------------------------------
# plotting
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def photos():
    rng = np.random.default_rng(0)
    yield rng.integers(0, 256, size=(3, 12, 12, 3), dtype=np.uint8)
    plt.close("all")


def test_show_images_grid(photos):
    fig = plotting.show_images([*photos, photos[0].mean(axis=2)], ["a", "b", "c", "grey"], ncols=3)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 6  # a 2 x 3 grid, the last two cells blank
    assert [ax.get_title() for ax in fig.axes[:4]] == ["a", "b", "c", "grey"]


def test_show_saliency_masks_occlusion_and_fooling(photos):
    maps = torch.rand(3, 12, 12)
    assert len(plotting.show_saliency(photos, maps).axes) == 6
    assert len(plotting.show_masks(photos, maps.numpy() > 0.5).axes) == 6
    assert len(plotting.show_occlusion(photos, np.random.rand(3, 3, 3), patch_size=4, stride=4).axes) == 6
    x = torch.rand(1, 3, 12, 12) * 2 - 1
    assert len(plotting.show_fooling(x, x + 0.01).axes) == 4


def test_overlay_mask_and_gradient_image(photos):
    mask = np.zeros((12, 12), dtype=bool)
    mask[:4] = True
    out = plotting.overlay_mask(photos[0], mask)
    assert out.dtype == np.uint8 and out.shape == (12, 12, 3)
    assert np.array_equal(out[4:], photos[0][4:]) and not np.array_equal(out[:4], photos[0][:4])
    grads = torch.zeros(2, 3, 5, 5)
    grads[1, 0, 0, 0] = 1.0
    img = plotting.gradient_image(grads)
    assert img.shape == (2, 5, 5, 3) and img.dtype == np.uint8
    assert (img[0] == 128).all() and img[1, 0, 0, 0] == 255


def test_plotting_rejects_mismatched_inputs(photos):
    with pytest.raises(ValueError):
        plotting.show_images(photos, ["only one title"])
    with pytest.raises(ValueError):
        plotting.show_saliency(photos, torch.rand(2, 12, 12))
    with pytest.raises(ValueError):
        plotting.overlay_mask(photos[0], np.zeros((5, 5), dtype=bool))
