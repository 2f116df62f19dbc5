"""The feature visualization assignment's probes module: what runs beside the student's code.

It ships to students with the public checks and is imported in the process that runs a student's
function, so it computes no correct answer, no usual mistake and no verdict: those live in
``judge.py`` (grader only) and, for the public checks, in the stored ``public/references.pt``.

Models (built in the worker from a ``ModelSpec``, and in the grader by ``SUPPORT.build_model``):
``conv_relu_conv`` (Conv-ReLU-1x1 Conv, whose guided gradients and DeepDream steps the judge computes
by hand) and ``two_linear_cnn`` (a head of two Linear layers: the last one's input is not the first's);
hook hygiene on error uses the engine's ``raising_cnn``.
The probe ``receptive_field_of`` builds a stack of layers from plain descriptions next to the
student's ``receptive_field`` (modules cannot cross the process boundary) and returns what the
student's function returned. The input builders (``hand_filters``, ``integer_points``,
``spread_data``) make the checks' seeded inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from vizgen.author.models import RaisingCNN, TinyCNN
from vizgen.author.support import Support

RAISES = RaisingCNN.__name__  # the word the error of the engine's ``raising_cnn`` carries


class ConvReluConv(nn.Module):
    """features = Conv2d(3, 4, 3) -> ReLU(inplace=True) -> Conv2d(4, 2, 1): every unit is a known function of
    one 3x3 window, so guided gradients and DeepDream steps are computable by hand. Channel 0 of features.0 is
    negative everywhere (bias -10), so the in-place ReLU turns all of it into 0: read after the ReLU, its
    strongest unit is lost."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=True), nn.Conv2d(4, 2, 1))
        with torch.no_grad():
            self.features[0].bias[0] = -10.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 3, H, W) -> (N, 2, H - 2, W - 2)
        return self.features(x)


class TwoLinearCNN(TinyCNN):
    """TinyCNN with a two-layer head, Linear(64, 32) -> ReLU -> Linear(32, classes): the penultimate features
    (the last Linear's input, (N, 32)) are not the first Linear's input (N, 64)."""

    def __init__(self, num_classes: int = 10):
        super().__init__(num_classes)
        self.head = nn.Sequential(nn.Linear(16 * 4, 32), nn.ReLU(), nn.Linear(32, num_classes))


# ---- inputs the checks build ---------------------------------------------------------------------


def hand_filters() -> torch.Tensor:
    """Five 3 x 2 x 2 filters with very different ranges: one min-max over the stack would show only one."""
    base = torch.arange(12, dtype=torch.float32).view(3, 2, 2)  # (3, 2, 2): values 0..11
    return torch.stack([base, 100 * base - 7, -base, base.flip(0) * 0.01, base * base])  # (5, 3, 2, 2)


def integer_points(n: int, d: int, seed: int, high: int = 3) -> torch.Tensor:
    """``(n, d)`` float32 points on a small integer grid: many exactly equal distances (ties)."""
    return torch.randint(0, high, (n, d), generator=torch.Generator().manual_seed(seed)).float()


def spread_data(n: int, d: int, seed: int) -> torch.Tensor:
    """``(n, d)`` float64 rows with variances 16 down to 0.25 along random orthogonal directions, centred at 2:
    every principal direction is well defined (distinct variances)."""
    generator = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(d, d, generator=generator, dtype=torch.float64))  # (d, d) orthogonal
    scales = torch.linspace(4.0, 0.5, d, dtype=torch.float64)  # (d,) standard deviations
    return (torch.randn(n, d, generator=generator, dtype=torch.float64) * scales) @ basis.T + 2.0  # (n, d)


# ---- the receptive-field probe -------------------------------------------------------------------

# Layer descriptions for receptive_field_of: (kind, kernel, stride, padding, dilation) or (kind,) for
# the layers that keep geometry. Kernel settings are ints or pairs.
_BUILD: dict[str, Callable[..., nn.Module]] = {
    "conv": lambda k, s, p, d: nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d),
    "maxpool": lambda k, s, p, d: nn.MaxPool2d(k, stride=s, padding=p, dilation=d),
    "avgpool": lambda k, s, p, d: nn.AvgPool2d(k, stride=s, padding=p),
    "relu": lambda: nn.ReLU(),
    "bn": lambda: nn.BatchNorm2d(1),
}


def build_stack(stack: list) -> list[nn.Module]:
    """The modules a plain description lists, in order (``("vgg19", "conv3_1")`` is VGG19's layers to conv3_1)."""
    if stack and stack[0][0] == "vgg19":
        from vizgen.topics.style import VGG19Features, layer_index

        return list(VGG19Features("avg", stack[0][1]).features[: layer_index(stack[0][1]) + 1])
    return [_BUILD[kind](*settings) for kind, *settings in stack]


def receptive_field_of(receptive_field: Callable, stack: list, as_sequential: bool = False):
    """Call the student's ``receptive_field`` on the layers ``stack`` describes (a list, or an nn.Sequential);
    return its value as is: the grader judges it."""
    layers = build_stack(stack)
    return receptive_field(nn.Sequential(*layers) if as_sequential else layers)


# How each function's result is defined, told to a student whose value matches none of the usual
# mistakes (shipped: public and hidden checks and the judge say it alike).
DREAM_FORMULA = ("img + learning_rate * g / (mean |g| + 1e-8), with g the gradient with respect to img of one half "
                 "the sum of the squared activations a of the layer, a as the module returned it")
GRID_FORMULA = ("filter k goes to row k // cols, column k % cols, at (row * (h + padding), col * (w + padding)), as "
                "(w - min) / (max - min) over that filter's own 3 * h * w values, channels last, on a zero background")
GRID_LAYOUT = ("cols = ceil(sqrt(K)), rows = ceil(K / cols), so (rows * (h + padding) - padding, "
               "cols * (w + padding) - padding, 3) with channels last")
GRID_FINITE = "every pixel must be finite (a constant filter becomes 0)"
NEIGHBORS_FORMULA = "the Euclidean distance of every query to every database row, then the k smallest, nearest first"


SUPPORT = Support(models={"conv_relu_conv": ConvReluConv, "two_linear_cnn": TwoLinearCNN},
                  probes={"receptive_field_of": receptive_field_of})
