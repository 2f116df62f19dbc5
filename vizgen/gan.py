"""Training machinery for the GAN assignment, in small pieces (the way lucent splits its loops).

* what is sampled: minibatches of real digits (``minibatches``), drawn with an explicit
  ``torch.Generator``, and noise from the student's ``sample_noise(batch_size, dim)``;
* what is optimized: the student's discriminator ``D`` and generator ``G``, with the student's
  losses, one discriminator step and then one generator step per iteration as in the alternating
  algorithm of Goodfellow et al. 2014, "Generative Adversarial Nets" (NeurIPS), Algorithm 1 (k = 1).
  The same loop trains the original GAN (Goodfellow et al. 2014, eq. 1 with the non-saturating
  generator loss of their Sec. 3), the least squares GAN (Mao et al. 2017, "Least Squares
  Generative Adversarial Networks", ICCV, eq. 2) and the DCGAN (Radford et al. 2016,
  "Unsupervised Representation Learning with Deep Convolutional Generative Adversarial
  Networks", ICLR);
* what is shown: samples of a fixed batch of noise every ``show_every`` iterations
  (``on_samples``), a grid of digits (``show_grid``), and a walk through the latent space
  (``interpolate``, Radford et al. 2016, Sec. 6.1).

Images are flattened MNIST digits ``(N, 784)`` in [-1, 1], the range of the generator's tanh.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from vizgen.models import model_device

Loss = Callable[..., torch.Tensor]
NoiseSampler = Callable[[int, int], torch.Tensor]
SampleCallback = Callable[[int, torch.Tensor], None]
LrSchedule = Callable[[int], float]


def minibatches(data: torch.Tensor, batch_size: int, generator: torch.Generator | None = None) -> Iterator[torch.Tensor]:
    """An endless stream of minibatches ``(batch_size, ...)`` of the rows of ``data`` ``(N, ...)``.

    Each pass (epoch) visits the rows in a fresh random order drawn from ``generator`` (torch's
    global RNG when None) and drops the last ``N % batch_size`` rows, so every batch is full (batch
    norm sees equal batches). ``data`` is not modified; batches are copies.
    """
    if not 1 <= batch_size <= len(data):
        raise ValueError(f"batch_size must be between 1 and the number of images ({len(data)}), got {batch_size}.")
    while True:
        order = torch.randperm(len(data), generator=generator)  # (N,)
        for start in range(0, len(data) - batch_size + 1, batch_size):
            yield data[order[start : start + batch_size]]  # (batch_size, ...)


@torch.no_grad()
def generate(G: nn.Module, noise: torch.Tensor) -> torch.Tensor:
    """``G(noise)`` in eval mode (batch norm uses its running statistics, so each sample depends only
    on its own noise), detached, on the CPU; ``G``'s train/eval mode is restored afterwards.

    ``noise`` is ``(N, noise_dim)``; returns ``(N, ...)``, e.g. ``(N, 784)`` for our generators.
    """
    was_training = G.training
    G.eval()
    try:
        return G(noise.to(model_device(G))).cpu()  # (N, 784)
    finally:
        G.train(was_training)


@contextlib.contextmanager
def _repeatable(generator: torch.Generator | None) -> Iterator[None]:
    """With a generator: fork torch's global CPU RNG and seed it from ``generator``, so that
    ``sample_noise`` (which calls ``torch.rand``, as in CS231n) is repeatable; the caller's global
    RNG is restored on exit. Without one: torch's global RNG is used as it is."""
    if generator is None:
        yield
        return
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):  # CPU only: the noise is drawn on the CPU
        torch.random.default_generator.manual_seed(seed)
        yield


def linear_decay(num_iterations: int, start: float = 0.5) -> LrSchedule:
    """Learning-rate multipliers that keep 1.0 for the first ``start`` share of ``num_iterations``
    and then fall linearly towards 0.0: 1 / (decaying iterations) at the last one, so no step is
    wasted (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks", ICCV, Sec. 4: "keep the same learning rate for the first 100 epochs and
    linearly decay the rate to zero over the next 100 epochs").

    Returns ``factor(t)`` for iterations ``t = 0 .. num_iterations - 1``.
    """
    if num_iterations < 1 or not 0.0 <= start < 1.0:
        raise ValueError(f"need num_iterations >= 1 and 0 <= start < 1, got {num_iterations} and {start}.")
    first = int(start * num_iterations)  # iterations at the full rate
    steps = num_iterations - first  # iterations that decay, >= 1

    def factor(t: int) -> float:
        return 1.0 if t < first else (num_iterations - t) / steps  # 1.0 at t = first, 1/steps at the end

    return factor


@contextlib.contextmanager
def _scheduled(optimizers: tuple[torch.optim.Optimizer, ...], schedule: LrSchedule | None) -> Iterator[Callable[[int], None]]:
    """Yields ``set_lr(t)``, which sets every param group's lr to its lr on entry times ``schedule(t)``
    (a no-op without a schedule). The optimizers' own learning rates are restored on exit, so the
    student's optimizers leave training as they came in."""
    base = [[group["lr"] for group in opt.param_groups] for opt in optimizers]

    def set_lr(t: int) -> None:
        if schedule is None:
            return
        factor = schedule(t)
        for opt, lrs in zip(optimizers, base):
            for group, lr in zip(opt.param_groups, lrs):
                group["lr"] = lr * factor

    try:
        yield set_lr
    finally:
        for opt, lrs in zip(optimizers, base):
            for group, lr in zip(opt.param_groups, lrs):
                group["lr"] = lr


def _check_settings(num_iterations: int, show_every: int, noise_size: int, sample_count: int) -> None:
    if num_iterations < 0:
        raise ValueError(f"num_iterations must be >= 0, got {num_iterations}.")
    if show_every < 1:
        raise ValueError(f"show_every must be >= 1 (use on_samples=None to show nothing), got {show_every}.")
    if noise_size < 1 or sample_count < 1:
        raise ValueError(f"noise_size and sample_count must be >= 1, got {noise_size} and {sample_count}.")


def train_gan(
    D: nn.Module,
    G: nn.Module,
    D_solver: torch.optim.Optimizer,
    G_solver: torch.optim.Optimizer,
    discriminator_loss: Loss,
    generator_loss: Loss,
    real_images: torch.Tensor,
    *,
    sample_noise: NoiseSampler,
    discriminator_step: Callable,
    generator_step: Callable,
    noise_size: int = 96,
    batch_size: int = 128,
    num_iterations: int = 1000,
    show_every: int = 250,
    on_samples: SampleCallback | None = None,
    sample_count: int = 16,
    progress: bool = True,
    generator: torch.Generator | None = None,
    lr_schedule: LrSchedule | None = None,
) -> dict[str, list[float]]:
    """Train ``D`` and ``G`` against each other; returns the loss histories.

    Inputs:
    - D: discriminator, ``(B, 784)`` images -> ``(B, 1)`` scores (logits for the original GAN).
    - G: generator, ``(B, noise_size)`` noise -> ``(B, 784)`` images in [-1, 1].
    - D_solver, G_solver: optimizers of D's and of G's parameters.
    - discriminator_loss(scores_real, scores_fake), generator_loss(scores_fake): scalar losses.
    - real_images: ``(N, 784)`` (or ``(N, 1, 28, 28)``, flattened here) float32 in [-1, 1].
    - sample_noise(batch_size, dim): ``(batch_size, dim)`` noise, uniform in [-1, 1].
    - on_samples(iteration, images): called with ``G``'s images ``(sample_count, 784)`` (eval mode,
      CPU) of one fixed batch of noise after ``iteration`` = 0 (before training), show_every,
      2 * show_every, ... completed iterations, and at the end.
    - lr_schedule(t): multiplies both optimizers' learning rates at iteration t (e.g. ``linear_decay``);
      their own learning rates are restored when training ends. None keeps them constant.
    - discriminator_step(D, G, D_solver, discriminator_loss, x, z) -> (loss, scores_real, scores_fake)
      and generator_step(D, G, G_solver, generator_loss, z) -> loss: one update of each player, the
      student's (the notebook's exercise, so vizgen ships no implementation of them).
    - generator: makes the run repeatable: minibatches come from it, and torch's global RNG (used
      by ``sample_noise``) is forked and seeded from it for the run, then restored.

    Each iteration (Goodfellow et al. 2014, Algorithm 1 with k = 1):
    1. discriminator step on a real batch x and a fake batch G(z) (detached, so only D learns):
       ``discriminator_loss(D(x), D(G(z)))``;
    2. generator step on fresh noise z': ``generator_loss(D(G(z')))``; only G's optimizer steps,
       and D's gradients are cleared before its next step.

    Returns ``{"d_loss", "g_loss", "d_real", "d_fake"}``, lists of ``num_iterations`` floats: the
    two losses, and D's mean score on the real and on the fake batch of each discriminator step.
    """
    _check_settings(num_iterations, show_every, noise_size, sample_count)
    real_images = real_images.reshape(len(real_images), -1)  # (N, 784)
    history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
    device = model_device(G)
    D.train()
    G.train()
    with _repeatable(generator), _scheduled((D_solver, G_solver), lr_schedule) as set_lr:
        batches = minibatches(real_images, batch_size, generator)
        fixed_noise = sample_noise(sample_count, noise_size)  # (sample_count, noise_size), drawn even
        # without a callback, so that training is the same with or without one
        if on_samples is not None:
            on_samples(0, generate(G, fixed_noise))
        bar = tqdm(range(num_iterations), disable=not progress, mininterval=2.0, desc="training")
        for t in bar:
            set_lr(t)
            # 1. Discriminator step: ascend its objective = descend discriminator_loss.
            x = next(batches).to(device)  # (B, 784)
            z = sample_noise(batch_size, noise_size).to(device)  # (B, noise_size)
            d_loss, scores_real, scores_fake = discriminator_step(D, G, D_solver, discriminator_loss, x, z)
            # 2. Generator step: fool the (just updated) discriminator on fresh noise.
            g_loss = generator_step(D, G, G_solver, generator_loss, sample_noise(batch_size, noise_size).to(device))

            for key, value in zip(history, (d_loss, g_loss, scores_real.mean(), scores_fake.mean())):
                history[key].append(value.item())
            if t % 50 == 0:
                bar.set_postfix(D=f"{history['d_loss'][-1]:.3f}", G=f"{history['g_loss'][-1]:.3f}", refresh=False)
            done = t + 1
            if on_samples is not None and (done % show_every == 0 or done == num_iterations):
                on_samples(done, generate(G, fixed_noise))
        bar.close()
    return history


def interpolate(G: nn.Module, z0: torch.Tensor, z1: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """Images along the straight line from ``z0`` to ``z1`` in the latent space (Radford et al. 2016,
    Sec. 6.1, "walking in the latent space").

    ``z0``, ``z1``: ``(noise_dim,)`` or ``K`` pairs ``(K, noise_dim)``. The latent codes are
    ``z = (1 - a) z0 + a z1`` for ``steps`` values of ``a`` evenly spaced from 0 to 1, so the first
    image is exactly ``G(z0)`` and the last ``G(z1)``. ``G`` runs in eval mode (``generate``).
    Returns ``(steps, 784)`` for single codes, ``(K, steps, 784)`` for pairs; detached, on the CPU.
    """
    if z0.shape != z1.shape or z0.dim() not in (1, 2):
        raise ValueError(f"z0 and z1 must both be (noise_dim,) or (K, noise_dim), got {tuple(z0.shape)} and {tuple(z1.shape)}.")
    if steps < 2:
        raise ValueError(f"steps must be >= 2 to include both ends, got {steps}.")
    single = z0.dim() == 1
    z0, z1 = (z0[None], z1[None]) if single else (z0, z1)  # (K, noise_dim)
    a = torch.linspace(0, 1, steps).view(1, steps, 1)  # (1, steps, 1)
    z = (1 - a) * z0[:, None] + a * z1[:, None]  # (K, steps, noise_dim)
    images = generate(G, z.flatten(0, 1))  # (K * steps, 784)
    images = images.view(len(z0), steps, *images.shape[1:])  # (K, steps, 784)
    return images[0] if single else images


def image_grid(images: torch.Tensor, ncols: int, pad: int = 1) -> np.ndarray:
    """Tile images ``(N, 784)`` or ``(N, 1, 28, 28)`` in [-1, 1] into one float array in [0, 1],
    ``ncols`` per row with ``pad`` white pixels between them; ``(rows * 29 - 1, ncols * 29 - 1)``
    for pad = 1. Unused cells at the end are white."""
    images = torch.as_tensor(images).detach().cpu().float().reshape(len(images), 28, 28)  # (N, 28, 28)
    if len(images) == 0 or ncols < 1:
        raise ValueError(f"need at least one image and ncols >= 1, got {len(images)} images and ncols={ncols}.")
    ncols = min(ncols, len(images))
    rows = -(-len(images) // ncols)
    cell = 28 + pad
    grid = np.ones((rows * cell - pad, ncols * cell - pad), dtype=np.float32)  # white background
    for k, image in enumerate(((images.clamp(-1, 1) + 1) / 2).numpy()):  # (28, 28) in [0, 1]
        r, c = divmod(k, ncols)
        grid[r * cell : r * cell + 28, c * cell : c * cell + 28] = image
    return grid


def show_grid(images: torch.Tensor, ncols: int = 8, title: str | None = None, scale: float = 0.6):
    """A matplotlib Figure with ``images`` ``(N, 784)`` in [-1, 1] tiled ``ncols`` per row in one axes
    (``scale`` inches per digit). It does not call ``plt.show()``."""
    import matplotlib.pyplot as plt

    grid = image_grid(images, ncols)  # (H, W) in [0, 1]
    fig, ax = plt.subplots(figsize=(scale * grid.shape[1] / 29, scale * grid.shape[0] / 29 + (0.3 if title else 0)))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
