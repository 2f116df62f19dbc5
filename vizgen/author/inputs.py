"""Seeded inputs for checks: random images and small photos, made without touching global RNG state.

Inputs that only one assignment uses live in that assignment's support module.
"""

from __future__ import annotations

import numpy as np
import torch

from vizgen.library.data import load_package_photo
from vizgen.library.image import preprocess


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
