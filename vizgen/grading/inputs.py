"""Seeded inputs for checks: random images and small photos, made without touching global RNG state."""

from __future__ import annotations

import numpy as np
import torch

from vizgen.data import load_package_photo
from vizgen.image import preprocess


def random_images(n: int, size: int, seed: int) -> torch.Tensor:
    """``(n, 3, size, size)`` float32 in roughly [-1, 1], from a private generator."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, size, size, generator=generator) * 2 - 1).contiguous()  # (N, 3, H, W)


def photo_batch(names: list[str], size: int) -> torch.Tensor:
    """Package photos (e.g. "chelsea", "coffee") as classifier inputs ``(N, 3, size, size)``."""
    return preprocess(np.stack([load_package_photo(name, size) for name in names]))


def photo(name: str, size: int) -> np.ndarray:
    """One package photo as uint8 ``(size, size, 3)``."""
    return load_package_photo(name, size)


def square_scene(size: int = 32, lo: int = 10, hi: int = 22) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red square on a blue background, a saliency map that is high on the square, and the square's mask."""
    img = np.zeros((size, size, 3), dtype=np.uint8)
    img[...] = (30, 60, 200)
    img[lo:hi, lo:hi] = (220, 40, 30)
    truth = np.zeros((size, size), dtype=bool)
    truth[lo:hi, lo:hi] = True
    centre = (lo + hi - 1) / 2
    return img, gaussian_blob(size, centre, centre, (hi - lo) / 2), truth


def gaussian_blob(size: int, cy: float, cx: float, radius: float) -> np.ndarray:
    """A (size, size) float32 saliency map exp(-d^2 / (2 radius^2)), d the distance to (cy, cx)."""
    yy, xx = np.mgrid[:size, :size]
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2)).astype(np.float32)  # (H, W)
