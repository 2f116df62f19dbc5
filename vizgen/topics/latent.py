"""Two small experiments of the GAN notebook, measured rather than eyeballed.

* **The bilinear game** ``min_x max_y f(x, y) = x y`` (the CS231n question; Mescheder et al. 2017,
  "The Numerics of GANs", NeurIPS, Sec. 2): its only equilibrium is (0, 0), yet gradient steps
  circle around it. ``bilinear_game`` records the trajectory of simultaneous or alternating steps.
* **Latent vector arithmetic** (Radford et al. 2016, Sec. 6.3, "smiling woman - neutral woman +
  neutral man"): on digits, the attribute is stroke thickness, measured by the ink mass of an image
  (``ink_mass``); ``attribute_direction`` is the difference between the mean latent vectors of the
  samples with the most and with the least of a measured attribute.
"""

from __future__ import annotations

import torch


def bilinear_game(start: tuple[float, float] = (1.0, 1.0), lr: float = 0.1, steps: int = 100,
                  alternating: bool = False) -> torch.Tensor:
    """Gradient steps on f(x, y) = x y: x descends (x <- x - lr * y), y ascends (y <- y + lr * x).

    Simultaneous steps use the old x in y's update; alternating steps (as in GAN training: D, then
    G) use the new one. Returns the trajectory ``(steps + 1, 2)`` in float64, starting at ``start``.
    """
    if steps < 0 or lr <= 0:
        raise ValueError(f"need steps >= 0 and lr > 0, got steps={steps}, lr={lr}.")
    x, y = (float(v) for v in start)
    path = [(x, y)]
    for _ in range(steps):
        new_x = x - lr * y  # df/dx = y: x minimizes
        y = y + lr * (new_x if alternating else x)  # df/dy = x: y maximizes
        x = new_x
        path.append((x, y))
    return torch.tensor(path, dtype=torch.float64)  # (steps + 1, 2)


def ink_mass(images: torch.Tensor) -> torch.Tensor:
    """The share of ink in each digit: the mean of its pixels mapped from [-1, 1] to [0, 1].

    ``images`` ``(N, 784)`` or ``(N, 1, 28, 28)`` in [-1, 1] (white strokes on black, as in MNIST);
    returns ``(N,)`` in [0, 1]. Thicker strokes of the same digit mean more ink.
    """
    flat = torch.as_tensor(images).detach().float().flatten(1)  # (N, 784)
    return ((flat.clamp(-1, 1) + 1) / 2).mean(dim=1)  # (N,)


def attribute_direction(z: torch.Tensor, score: torch.Tensor, share: float = 0.25) -> torch.Tensor:
    """Mean latent vector of the ``share`` of samples with the highest ``score`` minus that of the
    ``share`` with the lowest: ``z`` ``(N, D)``, ``score`` ``(N,)``; returns ``(D,)``."""
    if len(z) != len(score) or not 0 < share <= 0.5:
        raise ValueError(f"need one score per latent vector and 0 < share <= 0.5, got {len(z)}, {len(score)}, {share}.")
    count = max(1, int(share * len(z)))
    order = torch.argsort(score)  # (N,) ascending
    return z[order[-count:]].mean(dim=0) - z[order[:count]].mean(dim=0)  # (D,)
