"""Which usual mistake does a wrong value reproduce: one matcher for losses, tensors and images.

A check knows the correct value (a stored reference, or one the judge computed) and the values of
the usual mistakes on the same inputs (stored with a public case, or computed by the judge). A
wrong value is named as a mistake only when it *reproduces* that mistake's value (same shape,
equal within the tolerance); otherwise the message says what differs and restates the formula,
without guessing.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import torch

from vizgen.author.cases import StoredCase
from vizgen.author.messages import CheckFailure, Figure

# What a loss (a scalar) that is not finite says; a tensor's says only where to look, naming no cause.
NOT_FINITE = ("for large inputs compute log(1 + exp(-x)) stably, e.g. with F.binary_cross_entropy_with_logits, "
              "never log(sigmoid(x)); look for a log of 0 or a division by 0")
NOT_FINITE_VALUES = "every value must be finite: look for a log of 0 or a division by 0"


def _tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double()
    if isinstance(value, np.ndarray) and value.dtype != object:
        return torch.from_numpy(np.asarray(value, dtype=np.float64))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64)
    return None


MIN_SIDE = 5  # an output smaller than 5 x 5 pixels is a table of numbers, not a picture


def _images(t: torch.Tensor) -> list[torch.Tensor] | None:
    """``t`` as a list of pictures ``(H, W)`` or ``(H, W, 3)``: ``(H, W)``, one colour image ``(H, W, 3)``,
    ``(N, H, W)`` or ``(N, C, H, W)`` (one channel, three as colour, else the first); None when it is not
    image-like."""
    if t.dim() == 2:
        items = [t]
    elif t.dim() == 3 and t.shape[-1] == 3 and min(t.shape[:2]) >= MIN_SIDE:
        items = [t]
    elif t.dim() == 3:
        items = list(t)
    elif t.dim() == 4:
        items = [x.permute(1, 2, 0) if x.shape[0] == 3 else x[0] for x in t]
    else:
        return None
    return items if items and min(items[0].shape[:2]) >= MIN_SIDE else None


def image_figure(got: torch.Tensor, want: torch.Tensor) -> Figure | None:
    """The student's output beside the expected one and their difference, for the item that differs most;
    None when the outputs are not pictures of the same shape."""
    if got.shape != want.shape:
        return None
    ours, theirs = _images(got), _images(want)
    if ours is None:
        return None
    worst = max(range(len(ours)), key=lambda i: float(torch.nan_to_num((ours[i] - theirs[i]).abs()).max()))
    item = f" (item {worst})" if len(ours) > 1 else ""
    panels = ((f"yours{item}", ours[worst].numpy()), ("expected", theirs[worst].numpy()),
              ("|difference|", (ours[worst] - theirs[worst]).abs().numpy()))
    return Figure(panels, expected=("expected",), same_scale=(f"yours{item}", "expected"))


def reproduces(value: Any, candidate: Any, atol: float, rtol: float) -> bool:
    """Whether ``value`` equals ``candidate``: same shape, every entry within ``atol + rtol * |candidate|``; a
    mistake's NaN (a constant filter's 0 / 0) is reproduced by a NaN in the same place."""
    got, want = _tensor(value), _tensor(candidate)
    if got is None or want is None or got.shape != want.shape:
        return False
    return bool(torch.allclose(got, want, atol=atol, rtol=rtol, equal_nan=True))


def reproduced_mistake(value: Any, mistakes: Mapping[str, Any], atol: float, rtol: float) -> str:
    """The first mistake whose value ``value`` reproduces, or "" when it reproduces none."""
    return next((name for name, wrong in mistakes.items() if reproduces(value, wrong, atol, rtol)), "")


def expect_match(value: Any, correct: Any, mistakes: Mapping[str, Any], name: str, formula: str,
                 atol: float = 1e-6, rtol: float = 1e-4, scalar: bool = False, not_finite: str | None = None) -> None:
    """``value`` equals ``correct`` (a number, tensor or array, compared as float64); else fail naming the
    mistake of ``mistakes`` it reproduces, or, when it reproduces none, what differs and ``formula``.
    ``scalar``: the value must be a one-element tensor (a loss). ``not_finite``: what a NaN or infinite value
    says (default: ``NOT_FINITE`` for a loss, ``NOT_FINITE_VALUES`` for a tensor)."""
    not_finite = not_finite or (NOT_FINITE if scalar else NOT_FINITE_VALUES)
    got = _tensor(value)
    if got is None:
        wanted = "a scalar tensor" if scalar else "a tensor"
        raise CheckFailure(f"{name} is a {type(value).__name__}; expected {wanted}: return the torch.Tensor itself.")
    if scalar and got.numel() != 1:
        raise CheckFailure(f"{name} has shape {tuple(got.shape)}; expected a scalar: reduce it as {formula}.")
    want = _tensor(correct)
    if reproduces(got, want, atol, rtol):
        return
    mistake = reproduced_mistake(got, mistakes, atol, rtol)
    if scalar:
        number = float(got.reshape(()))
        if not math.isfinite(number):
            raise CheckFailure(f"{name} is {number}; expected {float(want):.6g}: the loss is not finite: {not_finite}.")
        said = f"likely bug: {mistake}" if mistake else f"compute {formula}"
        raise CheckFailure(f"{name} is {number:.6g}; expected {float(want):.6g}: {said}.")
    figure = image_figure(got, want)
    if mistake:
        raise CheckFailure(f"{name} is wrong: likely bug: {mistake}.", figure)
    if got.shape != want.shape:
        raise CheckFailure(f"{name} has shape {tuple(got.shape)}; expected {tuple(want.shape)}: compute {formula}.")
    if not torch.isfinite(got).all():
        raise CheckFailure(f"{name} has {int((~torch.isfinite(got)).sum())} NaN or infinite values: {not_finite}; "
                           f"compute {formula}.")
    diff = (got - want).abs()
    worst = int(diff.argmax())
    raise CheckFailure(
        f"{name} differs from the expected values by up to {diff.max().item():.3g} (got "
        f"{got.flatten()[worst].item():.4g}, expected {want.flatten()[worst].item():.4g}; tolerance {atol:g} + "
        f"{rtol:g}·|expected|): compute {formula}.", figure)


def expect_case(value: Any, case: StoredCase, name: str, formula: str, scalar: bool = False,
                mistakes: Mapping[str, Any] | None = None, not_finite: str | None = None) -> None:
    """``expect_match`` against a stored case: its output is correct within its tolerance, and its stored
    mistakes (and ``mistakes``, computed by the judge on the case's inputs) name a wrong value."""
    expect_match(value, case.output, {**case.mistakes, **(mistakes or {})}, name, formula, atol=case.atol,
                 rtol=case.rtol, scalar=scalar, not_finite=not_finite)
