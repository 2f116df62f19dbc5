"""vizgen.topics.gan (the GAN training loop, sampler, interpolation and grids) on tiny models and fake data."""

from __future__ import annotations

import copy

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vizgen.library.sampling import generate, interpolate
from vizgen.library.grids import image_grid, show_grid
from vizgen.library.training import linear_decay, minibatches
from vizgen.topics.gan import train_gan

NOISE, PIXELS = 4, 784  # tiny noise; real digit size so the grid helpers apply


def sample_noise(batch_size, dim):
    return 2 * torch.rand(batch_size, dim) - 1  # (batch_size, dim), global RNG as in the notebook


def d_loss(logits_real, logits_fake):
    return (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake)))


def g_loss(logits_fake):
    return F.binary_cross_entropy_with_logits(logits_fake, torch.ones_like(logits_fake))


def d_step(D, G, D_solver, loss_fn, x, z):
    """The discriminator update the notebook asks for (the fakes detached)."""
    fake = G(z).detach()  # (B, 784)
    scores_real, scores_fake = D(x), D(fake)  # (B, 1), (B, 1)
    loss = loss_fn(scores_real, scores_fake)
    D_solver.zero_grad()
    loss.backward()
    D_solver.step()
    return loss.detach(), scores_real.detach(), scores_fake.detach()


def g_step(D, G, G_solver, loss_fn, z):
    """The generator update the notebook asks for (through D, only G steps)."""
    loss = loss_fn(D(G(z)))
    G_solver.zero_grad()
    loss.backward()
    G_solver.step()
    return loss.detach()


def tiny_models(seed: int = 0) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(seed)
    D = nn.Sequential(nn.Linear(PIXELS, 8), nn.LeakyReLU(0.01), nn.Linear(8, 1))
    G = nn.Sequential(nn.Linear(NOISE, 16), nn.ReLU(), nn.BatchNorm1d(16), nn.Linear(16, PIXELS), nn.Tanh())
    return D, G


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models run fastest single-threaded (and much slower with 2 threads on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data() -> torch.Tensor:
    return torch.rand(40, PIXELS, generator=torch.Generator().manual_seed(1)) * 2 - 1  # (40, 784) in [-1, 1)


def train(D, G, data, *, d_lr=1e-2, g_lr=1e-2, seed=0, **kw):
    kw = {"noise_size": NOISE, "batch_size": 8, "num_iterations": 6, "progress": False, **kw}
    D_solver, G_solver = torch.optim.Adam(D.parameters(), lr=d_lr), torch.optim.Adam(G.parameters(), lr=g_lr)
    return train_gan(D, G, D_solver, G_solver, d_loss, g_loss, data, sample_noise=sample_noise,
                     discriminator_step=d_step, generator_step=g_step,
                     generator=torch.Generator().manual_seed(seed), **kw)


def params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def all_changed(before, model) -> bool:
    return all(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_histories_have_one_finite_entry_per_iteration(data):
    history = train(*tiny_models(), data, num_iterations=7)
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for values in history.values():
        assert len(values) == 7
        assert all(isinstance(v, float) and torch.isfinite(torch.tensor(v)) for v in values)
    assert train(*tiny_models(), data, num_iterations=0) == {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}


def test_every_parameter_of_both_networks_changes(data):
    D, G = tiny_models()
    d_before, g_before = params(D), params(G)
    train(D, G, data)
    assert all_changed(d_before, D) and all_changed(g_before, G)


@pytest.mark.parametrize("frozen", ["D", "G"])
def test_each_optimizer_moves_only_its_own_network(data, frozen):
    D, G = tiny_models()
    d_before, g_before = params(D), params(G)
    train(D, G, data, d_lr=0.0 if frozen == "D" else 1e-2, g_lr=0.0 if frozen == "G" else 1e-2)
    assert all(torch.equal(b, p)
               for b, p in zip(d_before if frozen == "D" else g_before, (D if frozen == "D" else G).parameters()))
    assert all_changed(g_before if frozen == "D" else d_before, G if frozen == "D" else D)


def test_discriminator_loss_falls_when_only_the_discriminator_learns(data):
    history = train(*tiny_models(), data, g_lr=0.0, num_iterations=25)
    assert sum(history["d_loss"][-5:]) / 5 < 0.5 * sum(history["d_loss"][:5]) / 5
    assert history["d_real"][-1] > 0 > history["d_fake"][-1]  # logits: real -> positive, fake -> negative


def test_a_generator_makes_the_run_repeatable_and_leaves_the_global_rng_alone(data):
    D1, G1 = tiny_models()
    D2, G2 = copy.deepcopy(D1), copy.deepcopy(G1)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = train(D1, G1, data, seed=5)
    assert torch.equal(torch.get_rng_state(), state)  # forked, not consumed
    torch.manual_seed(999)  # a different global state must not matter
    second = train(D2, G2, data, seed=5)
    assert first == second
    assert all(torch.equal(a, b) for a, b in zip(G1.state_dict().values(), G2.state_dict().values()))
    assert train(*tiny_models(), data, seed=6)["d_loss"] != first["d_loss"]


def test_callback_gets_fixed_noise_samples_every_show_every_iterations(data):
    calls = []
    train(*tiny_models(), data, num_iterations=10, show_every=3, sample_count=5,
          on_samples=lambda it, images: calls.append((it, images)))
    assert [it for it, _ in calls] == [0, 3, 6, 9, 10]
    for _, images in calls:
        assert images.shape == (5, PIXELS) and not images.requires_grad
        assert images.abs().max() <= 1
    assert not torch.equal(calls[0][1], calls[-1][1])  # G learned in between


def test_training_is_the_same_with_or_without_a_callback(data):
    D1, G1 = tiny_models()
    D2, G2 = copy.deepcopy(D1), copy.deepcopy(G1)
    quiet = train(D1, G1, data, num_iterations=5)
    shown = train(D2, G2, data, num_iterations=5, show_every=1, on_samples=lambda it, images: None)
    assert quiet == shown
    assert G2.training  # generate() restored train mode


def test_linear_decay_keeps_the_rate_then_falls_to_zero():
    factor = linear_decay(10, start=0.6)  # 6 iterations at the full rate, then 4 that decay
    assert [factor(t) for t in range(10)] == [1.0] * 6 + [1.0, 0.75, 0.5, 0.25]
    assert [linear_decay(4, start=0.0)(t) for t in range(4)] == [1.0, 0.75, 0.5, 0.25]
    for bad in [dict(num_iterations=0), dict(num_iterations=5, start=1.0), dict(num_iterations=5, start=-0.1)]:
        with pytest.raises(ValueError):
            linear_decay(**bad)


def test_lr_schedule_scales_each_step_and_restores_the_optimizers(data):
    """With a schedule of zeros after the first iteration, only the first step moves the weights;
    the optimizers leave with the learning rates they came with."""
    D, G = tiny_models()
    D_solver, G_solver = torch.optim.Adam(D.parameters(), lr=1e-2), torch.optim.SGD(G.parameters(), lr=0.5)
    seen = []

    def schedule(t):
        seen.append(t)
        return 1.0 if t == 0 else 0.0

    after_first = {}
    train_gan(D, G, D_solver, G_solver, d_loss, g_loss, data, sample_noise=sample_noise, discriminator_step=d_step,
              generator_step=g_step, noise_size=NOISE, batch_size=8, num_iterations=4, progress=False,
              lr_schedule=schedule, show_every=1, on_samples=lambda it, _: after_first.setdefault(it, params(G)))
    assert seen == [0, 1, 2, 3]
    assert all(torch.equal(a, b) for a, b in zip(after_first[1], G.parameters())), "steps with lr 0 moved G"
    assert not all(torch.equal(a, b) for a, b in zip(after_first[0], after_first[1])), "the first step did not move G"
    assert D_solver.param_groups[0]["lr"] == 1e-2 and G_solver.param_groups[0]["lr"] == 0.5


def test_bad_settings_raise(data):
    with pytest.raises(ValueError, match="show_every"):
        train(*tiny_models(), data, show_every=0)
    with pytest.raises(ValueError, match="batch_size"):
        train(*tiny_models(), data, batch_size=41)


def test_minibatches_visit_every_row_once_per_epoch_and_repeat_given_a_generator():
    data = torch.arange(10).view(10, 1)  # (10, 1): row i holds i
    stream = minibatches(data, 3, torch.Generator().manual_seed(0))
    epoch = [next(stream) for _ in range(3)]  # 3 full batches; the last row of the epoch is dropped
    rows = torch.cat(epoch).flatten().tolist()
    assert all(b.shape == (3, 1) for b in epoch) and len(set(rows)) == 9
    again = minibatches(data, 3, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, next(again)) for a in epoch)
    assert next(stream).shape == (3, 1)  # the stream goes on with a new epoch
    with pytest.raises(ValueError, match="batch_size"):
        next(minibatches(data, 11))


def test_interpolation_starts_at_G_z0_ends_at_G_z1():
    _, G = tiny_models()
    G.train()
    G(sample_noise(8, NOISE))  # give batch norm running statistics
    z0, z1 = sample_noise(2, NOISE)  # (NOISE,) each
    path = interpolate(G, z0, z1, steps=5)
    assert path.shape == (5, PIXELS) and G.training
    ends = generate(G, torch.stack([z0, z1]))  # (2, 784), eval mode
    assert torch.allclose(path[0], ends[0], atol=1e-6) and torch.allclose(path[-1], ends[1], atol=1e-6)
    middle = generate(G, ((z0 + z1) / 2)[None])[0]
    assert torch.allclose(path[2], middle, atol=1e-6)
    pairs = interpolate(G, torch.stack([z0, z1]), torch.stack([z1, z0]), steps=4)
    assert pairs.shape == (2, 4, PIXELS)
    assert torch.allclose(pairs[1, 0], ends[1], atol=1e-6) and torch.allclose(pairs[1, -1], ends[0], atol=1e-6)
    with pytest.raises(ValueError, match="z0 and z1"):
        interpolate(G, z0, z1[:2])


def test_image_grid_tiles_and_rescales():
    images = torch.stack([torch.full((PIXELS,), v) for v in (-1.0, 0.0, 1.0)])  # (3, 784)
    grid = image_grid(images, ncols=2)
    assert grid.shape == (2 * 29 - 1, 2 * 29 - 1)
    assert grid[0, 0] == 0.0 and grid[0, 29] == 0.5 and grid[29, 0] == 1.0
    assert grid[28, 0] == 1.0 and (grid[29:, 29:] == 1.0).all()  # padding and the empty cell are white
    fig = show_grid(images.view(3, 1, 28, 28), ncols=3, title="three")
    assert isinstance(fig, matplotlib.figure.Figure)
    plt.close(fig)
