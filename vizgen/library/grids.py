"""Grids of MNIST digits: one array (``image_grid``, ``digit_grid``) or one matplotlib figure
(``show_grid``, ``show_digits``) for a batch of flattened ``(N, 784)`` digits."""

from __future__ import annotations

import numpy as np
import torch


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


def show_digits(images: torch.Tensor, ncols: int = 10, title: str | None = None, scale: float = 0.6):
    """A Figure of digits ``(N, 784)`` with pixel values in [0, 1] (grey levels, binary digits or
    Bernoulli means), ``ncols`` per row. It does not call ``plt.show()``."""
    return show_grid(torch.as_tensor(images).float() * 2 - 1, ncols=ncols, title=title, scale=scale)


def digit_grid(images: torch.Tensor, ncols: int) -> np.ndarray:
    """``image_grid`` for digits in [0, 1]: one float array in [0, 1] with white gaps."""
    return image_grid(torch.as_tensor(images).float() * 2 - 1, ncols)
