"""Sampling a generator network: ``generate`` (eval mode, detached, on the CPU) and ``interpolate`` (a
straight walk between two latent codes, Radford et al. 2016, Sec. 6.1)."""

from __future__ import annotations

import torch
from torch import nn

from vizgen.library.models import model_device


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


def interpolate(G: nn.Module, z0: torch.Tensor, z1: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """Images along the straight line from ``z0`` to ``z1`` in the latent space (Radford et al. 2016,
    Sec. 6.1, "walking in the latent space").

    ``z0``, ``z1``: ``(noise_dim,)`` or ``K`` pairs ``(K, noise_dim)``. The latent codes are
    ``z = (1 - a) z0 + a z1`` for ``steps`` values of ``a`` evenly spaced from 0 to 1, so the first
    image is exactly ``G(z0)`` and the last ``G(z1)``. ``G`` runs in eval mode (``generate``).
    Returns ``(steps, 784)`` for single codes, ``(K, steps, 784)`` for pairs; detached, on the CPU.
    """
    if z0.shape != z1.shape or z0.dim() not in (1, 2):
        raise ValueError(f"z0 and z1 must both be (noise_dim,) or (K, noise_dim), got {tuple(z0.shape)} "
                         f"and {tuple(z1.shape)}.")
    if steps < 2:
        raise ValueError(f"steps must be >= 2 to include both ends, got {steps}.")
    single = z0.dim() == 1
    z0, z1 = (z0[None], z1[None]) if single else (z0, z1)  # (K, noise_dim)
    a = torch.linspace(0, 1, steps).view(1, steps, 1)  # (1, steps, 1)
    z = (1 - a) * z0[:, None] + a * z1[:, None]  # (K, steps, noise_dim)
    images = generate(G, z.flatten(0, 1))  # (K * steps, 784)
    images = images.view(len(z0), steps, *images.shape[1:])  # (K, steps, 784)
    return images[0] if single else images
