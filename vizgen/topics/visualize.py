"""Class visualization by regularized gradient ascent on the input image.

Split the way lucent (https://github.com/greentfrapp/lucent) splits feature visualization:

* what is optimized: a single image of pixels in the classifier's input space [-1, 1]
  (``random_image``), a leaf tensor ``(1, 3, H, W)`` with ``requires_grad``;
* what is maximized: the regularized class score ``s_y(I) - l2_reg * ||I||_2^2`` of Simonyan
  et al. 2014, eq. (1). The student's ``update_step`` computes it and takes one normalized
  gradient-ascent step in place;
* how it is transformed: random jitter before each step (undone after it, Olah et al. 2017,
  "transformation robustness"), and after the step the regularizers ``r_theta`` of Yosinski et al.
  2015, Sec. 3: clamping to the valid range, periodic Gaussian blur, and clipping pixels with a
  small norm (``regularize``);
* the loop: ``create_class_visualization``;
* how it is judged by eye rather than by the classifier's own score (which noise maximizes too):
  ``survives_blur_downscale`` (is the class still recognized in a blurred half-size copy?) and
  ``high_frequency_energy`` (how much of the image's power lies in the band a 2x downscale discards).

Randomness comes only from an explicit ``torch.Generator`` seeded by ``seed``.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vizgen.library.image import blur_image, jitter, random_offsets
from vizgen.library.models import model_device

UpdateStep = Callable[[torch.Tensor, nn.Module, int, float, float], None]
Callback = Callable[[int, torch.Tensor], None]

INPUT_RANGE = (-1.0, 1.0)  # the classifier's input range (vizgen.library.image.preprocess)


def random_image(image_size: int, generator: torch.Generator, scale: float = 0.1) -> torch.Tensor:
    """The starting image: Gaussian noise around grey (0), clamped to the input range; ``(1, 3, S, S)``."""
    noise = torch.randn(1, 3, image_size, image_size, generator=generator)  # (1, 3, S, S)
    return (scale * noise).clamp(*INPUT_RANGE)


def clip_small_pixels(img: torch.Tensor, percentile: float) -> torch.Tensor:
    """Zero the pixels whose norm over the colour channels is below the ``percentile``-th percentile.

    Yosinski et al. 2015, Sec. 3, "clipping pixels with small norm": 0 is grey in the input space,
    so weak pixels fade to a neutral background. ``img`` is ``(N, C, H, W)``; same shape returned.
    """
    norms = img.norm(dim=1, keepdim=True)  # (N, 1, H, W)
    threshold = torch.quantile(norms.flatten(1), percentile / 100.0, dim=1)  # (N,)
    return img * (norms >= threshold.view(-1, 1, 1, 1))  # (N, C, H, W)


def regularize(
    img: torch.Tensor, iteration: int, *, blur_every: int, blur_sigma: float, clip_percentile: float
) -> torch.Tensor:
    """The regularizer ``r_theta`` applied after step ``iteration`` (0-based); returns a new tensor.

    Clamp to [-1, 1]; every ``blur_every`` steps blur with ``blur_sigma`` (0 disables blurring);
    zero pixels below the ``clip_percentile`` norm percentile (0 disables clipping).
    """
    img = img.clamp(*INPUT_RANGE)  # (1, 3, H, W)
    if blur_every and (iteration + 1) % blur_every == 0:
        img = blur_image(img, blur_sigma)
    if clip_percentile > 0:
        img = clip_small_pixels(img, clip_percentile)
    return img


def _check_settings(
    num_iterations: int, max_jitter: int, blur_every: int, blur_sigma: float, clip_percentile: float
) -> None:
    if num_iterations < 0:
        raise ValueError(f"num_iterations must be >= 0, got {num_iterations}.")
    if max_jitter < 0:
        raise ValueError(f"max_jitter must be >= 0, got {max_jitter}.")
    if blur_every < 0:
        raise ValueError(f"blur_every must be >= 0 (0 disables blurring), got {blur_every}.")
    if blur_every and blur_sigma <= 0:
        raise ValueError(f"blur_sigma must be > 0 when blurring (blur_every={blur_every}), got {blur_sigma}.")
    if not 0 <= clip_percentile < 100:
        raise ValueError(f"clip_percentile must be in [0, 100) (0 disables clipping), got {clip_percentile}.")


def create_class_visualization(
    target_y: int,
    model: nn.Module,
    update_step: UpdateStep,
    *,
    num_iterations: int = 100,
    learning_rate: float = 25.0,
    l2_reg: float = 1e-3,
    max_jitter: int = 16,
    blur_every: int = 4,
    blur_sigma: float = 1.0,
    clip_percentile: float = 10.0,
    image_size: int = 224,
    seed: int = 0,
    init: torch.Tensor | None = None,
    callback: Callback | None = None,
) -> torch.Tensor:
    """An image that the model scores highly as class ``target_y``; ``(1, 3, H, W)`` float32 in [-1, 1].

    Each iteration ``t`` (0-based): roll the image by random offsets of at most ``max_jitter``
    pixels, call ``update_step(img, model, target_y, l2_reg, learning_rate)`` (one in-place
    ascent step on the leaf ``img``), roll back, then apply ``regularize`` (Yosinski et al. 2015,
    Sec. 3). The defaults are the schedule chosen by ``benchmarks/class_visualization.py``: the fewest
    steps whose result passes ``survives_blur_downscale`` for at least 4 of its 5 classes on every seed
    studied and for all 5 on seed 0, the default. After every iteration
    ``callback(t, img)`` receives a detached copy, so it is called ``num_iterations`` times.

    ``init`` (``(1, 3, H, W)``, not modified) replaces the random start drawn from ``seed``;
    ``image_size`` is ignored then. Setting ``max_jitter=0``, ``blur_every=0`` and
    ``clip_percentile=0`` leaves only the update step and the clamp to [-1, 1].
    """
    if init is not None and (init.dim() != 4 or init.shape[:2] != (1, 3)):
        raise ValueError(f"init must have shape (1, 3, H, W), got {tuple(init.shape)}.")
    _check_settings(num_iterations, max_jitter, blur_every, blur_sigma, clip_percentile)
    generator = torch.Generator().manual_seed(seed)
    start = random_image(image_size, generator) if init is None else init.detach().float()
    img = start.clone().to(model_device(model)).requires_grad_(True)  # (1, 3, H, W) leaf
    for t in range(num_iterations):
        ox, oy = random_offsets(max_jitter, generator)
        with torch.no_grad():
            img.copy_(jitter(img, ox, oy))
        update_step(img, model, target_y, l2_reg, learning_rate)
        with torch.no_grad():
            img.copy_(jitter(img, -ox, -oy))  # undo the jitter
            img.copy_(regularize(img, t, blur_every=blur_every, blur_sigma=blur_sigma, clip_percentile=clip_percentile))
        if callback is not None:
            callback(t, img.detach().clone())
    return img.detach().clone()


VIEW_BLUR_SIGMA = 1.0  # the viewer's test: blur with sigma 1 px ...
VIEW_DOWNSCALE = 2  # ... then downscale by 2


def blur_downscale(img: torch.Tensor, sigma: float = VIEW_BLUR_SIGMA, factor: int = VIEW_DOWNSCALE) -> torch.Tensor:
    """What a viewer sees of a thumbnail: blur ``(N, C, H, W)`` with ``sigma`` px, average-pool by
    ``factor``, then upsample bilinearly back to ``(H, W)`` so the classifier sees its usual input size."""
    small = F.avg_pool2d(blur_image(img, sigma), factor)  # (N, C, H / factor, W / factor)
    return F.interpolate(small, size=img.shape[-2:], mode="bilinear", align_corners=False)  # (N, C, H, W)


def survives_blur_downscale(img: torch.Tensor, model: nn.Module, target_y: int) -> bool:
    """True when ``model`` still predicts ``target_y`` (argmax) for ``blur_downscale(img)``, ``img`` ``(1, C, H, W)``.

    High-frequency noise that fools the classifier rarely survives a blur and a 2x downscale; a
    picture of the class should.
    """
    with torch.no_grad():
        scores = model(blur_downscale(img.detach().to(model_device(model))))  # (1, classes)
    return int(scores.argmax(dim=1).item()) == target_y


def high_frequency_energy(img: torch.Tensor, cutoff: float = 0.25) -> float:
    """The share of the image's spectral power above ``cutoff`` cycles per pixel; ``img`` is ``(N, C, H, W)``.

    Radial frequency ``sqrt(fx^2 + fy^2)``, power ``|FFT|^2`` of each channel with its mean removed,
    summed over the batch and channels. The default cutoff, 0.25, is the Nyquist frequency of a 2x
    downscaled copy: the share is the part of the image a half-size thumbnail cannot show.
    White noise has about ``1 - pi / 16`` ~ 0.80 of its power there; a smooth image almost none.
    """
    x = img.detach().double()
    x = x - x.mean(dim=(-2, -1), keepdim=True)  # (N, C, H, W) without the DC term
    power = torch.fft.fft2(x).abs().pow(2).sum(dim=(0, 1))  # (H, W)
    fy = torch.fft.fftfreq(x.shape[-2], dtype=torch.float64).view(-1, 1)  # (H, 1) cycles per pixel
    fx = torch.fft.fftfreq(x.shape[-1], dtype=torch.float64).view(1, -1)  # (1, W)
    high = (fy**2 + fx**2).sqrt() > cutoff  # (H, W)
    total = power.sum()
    return float(power[high].sum() / total) if total > 0 else 0.0
