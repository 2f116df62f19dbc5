"""The network visualization assignment's support (see ``vizgen.author.support``), loaded beside the
student's code and shipped with the public checks: small seeded models and the inputs the public checks
need. Nothing here computes a graded function's output, a mistake's value or a verdict (that is
``judge.py``, in the grader, and the stored public cases, ``public/references.pt``).

``linear`` and ``mlp`` (gradients known by hand) and ``deep_linear`` (a fixed cost per forward, for the
batching check) are registered as models (``tiny_cnn`` and ``failing_cnn`` are the engine's), so checks
name them by ``ModelSpec`` and the worker builds them; the grader builds the same models from the same
specs with ``SUPPORT.build_model(spec)``.
"""

from __future__ import annotations

import time

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


class DeepLinear(nn.Module):
    """Linear scores of an 8x8 RGB image refined by ``depth`` small residual layers
    ``s <- s + 0.05 * clamp(a_k * s + b_k, -1, 1)`` (seeded ``a_k``, ``b_k``).

    Like a deep network's, each forward costs a fixed overhead (about 8 ms of CPU time, one small
    op after another) whatever the batch size, so one forward per occluded copy costs many times
    what a few batched forwards cost, in the CPU time the worker reads from the kernel's clock of the
    function's process (``Call.cpu_seconds``), which code running there cannot forge. Every tensor of
    the layers stays far below torch's 32768-element grain, so no thread pool inflates that time. The
    layers change the scores, so a forward that skips them gives another occlusion map.
    """

    depth = 800

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.linear = nn.Linear(3 * 8 * 8, num_classes)
        self.gain = nn.Parameter(torch.empty(self.depth, num_classes).uniform_(-1, 1))  # (depth, C)
        self.shift = nn.Parameter(torch.empty(self.depth, num_classes).uniform_(-1, 1))  # (depth, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, 8, 8) -> (N, num_classes)
        scores = self.linear(x.flatten(1))  # (N, C)
        for gain, shift in zip(self.gain, self.shift):  # (C,) each
            scores = scores + 0.05 * (gain * scores + shift).clamp(-1, 1)
        return scores


def forward_cpu_seconds(model: nn.Module, image: torch.Tensor, repeats: int = 5) -> float:
    """CPU time of one forward of ``model`` on ``image`` (1, 3, H, W) in the calling process: the least of
    ``repeats`` runs. Checks call it in the grader, on the grader's own copy of the model, to know what one
    forward costs on this machine (never from the process that runs the student's code)."""
    best = float("inf")
    with torch.no_grad():
        for _ in range(repeats):
            start = time.process_time()
            model(image)
            best = min(best, time.process_time() - start)
    return best


def square_scene(size: int = 32, lo: int = 10, hi: int = 22) -> tuple[np.ndarray, np.ndarray]:
    """A red square (rows and columns lo:hi) on a blue background, and a saliency map that is high on it."""
    img = np.zeros((size, size, 3), dtype=np.uint8)
    img[...] = (30, 60, 200)
    img[lo:hi, lo:hi] = (220, 40, 30)
    centre = (lo + hi - 1) / 2
    return img, gaussian_blob(size, centre, centre, (hi - lo) / 2)


def gaussian_blob(size: int, cy: float, cx: float, radius: float) -> np.ndarray:
    """A (size, size) float32 saliency map exp(-d^2 / (2 radius^2)), d the distance to (cy, cx)."""
    yy, xx = np.mgrid[:size, :size]
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2)).astype(np.float32)  # (H, W)


# How each function's result is defined, told to a student whose value matches none of the usual
# mistakes (shipped: public and hidden checks and the judge say it alike).
CLASSVIS_FORMULA = ("img + learning_rate * g / ||g||_2 with g the gradient of s_y(img) - l2_reg * ||img||_2^2 "
                    "(squared norm over all pixels and channels), in place on img")
GUIDED_FORMULA = ("the gradient of the raw score s_y with respect to X in which every ReLU / ReLU6 passes gradient "
                  "only where its own gradient is nonzero AND the gradient arriving from above is positive")
OCCLUSION_FORMULA = ("softmax(model(occluded copy))[y[n]] for each patch position, the patch (i, j) covering rows "
                     "i*stride : i*stride+patch_size and columns j*stride : j*stride+patch_size, filled with `fill`")
SALIENCY_FORMULA = ("M[n, i, j] = max over the colour channels c of |d s_y / d X[n, c, i, j]|, s_y the raw score of "
                    "class y[n] (not the softmax or the loss)")


SUPPORT = Support(models={"linear": LinearProbe, "mlp": TinyMLP, "deep_linear": DeepLinear})
