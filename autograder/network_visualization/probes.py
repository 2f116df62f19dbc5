"""The network visualization assignment's support (see ``vizgen.author.support``): the small
seeded models whose gradients are known by hand, and the synthetic GrabCut scene.

``linear`` and ``mlp`` are registered as models (``failing_cnn`` is the engine's), so checks name them by
``ModelSpec`` and the worker builds them; checks build the same model in the grader with
``SUPPORT.build_model(spec)`` to compute what the student's function should return.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from vizgen.author.support import Support


class LinearProbe(nn.Module):
    """Linear scores of an 8x8 RGB image: gradients are the weight rows, known by hand."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, 8, 8) -> (N, num_classes)
        return self.net(x)


class TinyMLP(nn.Module):
    """Linear -> ReLU -> Linear on 8x8 RGB images: guided gradients computable by hand."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 16), nn.ReLU(), nn.Linear(16, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, 8, 8) -> (N, num_classes)
        return self.net(x)


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


SUPPORT = Support(models={"linear": LinearProbe, "mlp": TinyMLP})
