"""Small seeded models that checks name by plain data (``ModelSpec``), so the grader can ask the
process running student code to build the same model without sending a pickled module.

``SMALL_MODELS`` are every assignment's; an assignment registers its own in its probes module
(``Support(models=...)``). ``build_model`` makes a fresh, frozen, eval-mode model from a spec.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable, Mapping

import torch
from torch import nn

from vizgen.course.config import CoursePaths
from vizgen.errors import AssetError
from vizgen.library.models import load_classifier


class TinyCNN(nn.Module):
    """A small seeded CNN with ReLU, in-place ReLU6 and BatchNorm, for fast, exact checks."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.ReLU6(inplace=True),
            nn.Conv2d(16, 16, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.head = nn.Linear(16 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) -> (N, num_classes)
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


class FailingCNN(TinyCNN):
    """TinyCNN (same module names) whose forward runs its first ``layers_before_error`` feature layers, so
    hooks on them fire, then raises a RuntimeError naming the class: checks use it to see that a student's
    hooks are removed even when the forward raises (``expect.expect_hooks_removed_on_error``)."""

    layers_before_error = 3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.features[:self.layers_before_error](x)  # (N, 8, H, W)
        raise RuntimeError(f"{type(self).__name__} always fails (this is part of the check)")


class RaisingCNN(FailingCNN):
    """FailingCNN that raises before any layer runs: an implementation that stops the forward early at
    the hooked layer sees the error too."""

    layers_before_error = 0


class CountingModel(nn.Module):
    """Wraps a model and counts forward calls (to check that work is batched)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.inner(x)


@dataclass(frozen=True)
class ModelSpec:
    """A model named by plain data: ``ModelSpec("tiny_cnn", seed=3)``."""

    name: str
    seed: int = 0
    num_classes: int = 10
    count_calls: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


# Small models every assignment may use; an assignment registers its own in its support module.
SMALL_MODELS: dict[str, type[nn.Module]] = {"tiny_cnn": TinyCNN, "failing_cnn": FailingCNN, "raising_cnn": RaisingCNN}


def _seeded(cls: Callable[[int], nn.Module], spec: ModelSpec) -> nn.Module:
    """Build with a private generator state, so the caller's random stream is untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)
        model = cls(spec.num_classes)
        for bn in model.modules():
            if isinstance(bn, nn.BatchNorm2d):  # eval and train mode give different outputs
                bn.running_mean.uniform_(-0.5, 0.5)
                bn.running_var.uniform_(0.5, 2.0)
    return model.eval().requires_grad_(False)


def build_model(spec: ModelSpec, paths: CoursePaths | None = None,
                extra: Mapping[str, Callable[[int], nn.Module]] | None = None) -> nn.Module:
    """A fresh model for a spec, in eval mode with parameters frozen; ``extra``: an assignment's own
    small models (``support.Support.models``), beside ``SMALL_MODELS``."""
    small = {**SMALL_MODELS, **(extra or {})}
    if spec.name == "classifier":
        if paths is None:
            raise AssetError("the classifier needs the course paths: pass paths=vizgen.course.config.course_paths().")
        model = load_classifier(paths)
    elif spec.name in small:
        model = _seeded(small[spec.name], spec)
    else:
        known = ", ".join(["classifier", *small])
        raise ValueError(f"unknown model {spec.name!r}: use one of {known}.")
    return CountingModel(model).eval() if spec.count_calls else model
