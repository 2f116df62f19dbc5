"""Training machinery for the GAN assignment, in small pieces (the way lucent splits its loops).

* what is sampled: minibatches of real digits (``vizgen.library.training.minibatches``), drawn
  with an explicit ``torch.Generator``, and noise from the student's ``sample_noise(batch_size, dim)``;
* what is optimized: the student's discriminator ``D`` and generator ``G``, with the student's
  losses, one discriminator step and then one generator step per iteration as in the alternating
  algorithm of Goodfellow et al. 2014, "Generative Adversarial Nets" (NeurIPS), Algorithm 1 (k = 1).
  The same loop trains the original GAN (Goodfellow et al. 2014, eq. 1 with the non-saturating
  generator loss of their Sec. 3), the least squares GAN (Mao et al. 2017, "Least Squares
  Generative Adversarial Networks", ICCV, eq. 2) and the DCGAN (Radford et al. 2016,
  "Unsupervised Representation Learning with Deep Convolutional Generative Adversarial
  Networks", ICLR);
* what is shown: samples of a fixed batch of noise every ``show_every`` iterations
  (``on_samples``); grids of digits and walks through the latent space are general helpers
  (``vizgen.library.grids``, ``vizgen.library.sampling``).

Images are flattened MNIST digits ``(N, 784)`` in [-1, 1], the range of the generator's tanh.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch
from torch import nn
from tqdm import tqdm

from vizgen.library.models import model_device
from vizgen.library.sampling import generate
from vizgen.library.seeding import seeded_from
from vizgen.library.training import LrSchedule, minibatches

Loss = Callable[..., torch.Tensor]
NoiseSampler = Callable[[int, int], torch.Tensor]
SampleCallback = Callable[[int, torch.Tensor], None]


@contextlib.contextmanager
def _scheduled(optimizers: tuple[torch.optim.Optimizer, ...],
               schedule: LrSchedule | None) -> Iterator[Callable[[int], None]]:
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
    with seeded_from(generator), _scheduled((D_solver, G_solver), lr_schedule) as set_lr:
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


