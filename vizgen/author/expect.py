"""Assertions for checks, each failing with a message a student can act on.

Checks fail one way: through these helpers (``expect_shape(value, (2, 16, 16), "saliency",
hint="take the max over the colour channel")``), or ``fail(message)`` for a condition of their
own; never a bare ``assert`` or ``AssertionError``. Side effects are named by parameter
(``expect_clean_model(call, "model")``); a name the function does not have is refused.
"""

from __future__ import annotations


import typing
from typing import Any, Sequence

import numpy as np
import torch

from vizgen.errors import CourseLayoutError
from vizgen.author.messages import CheckFailure, Figure, StudentCodeError
from vizgen.author.call import Call
from vizgen.author.matching import expect_match


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}, dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _hint(hint: str) -> str:
    return f": {hint}" if hint else ""


def fail(message: str, figure: Figure | None = None) -> typing.NoReturn:
    """Fail the check with ``message``: what is wrong, then what to do about it; ``figure`` shows it."""
    raise CheckFailure(message, figure)


def effects_of(call: Call, param: str) -> dict:
    """The side-effect report of ``call``'s argument ``param`` (a parameter name, e.g. "model").

    A name with no report (not a parameter of the function, or not a model, tensor or array
    argument) is a mistake in the check, refused so that the check cannot pass without looking.
    """
    if param not in call.effects:
        order = {name: i for i, name in enumerate(call.params)}
        known = ", ".join(sorted(call.effects, key=lambda k: order.get(k, len(order)))) or "none"
        raise CourseLayoutError(f"this check asks for the side effects on {call.function}'s argument {param!r}, which "
                                f"has none recorded (arguments with a report: {known}): name one of those.")
    return call.effects[param]


def expect_tensor(value: Any, name: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise CheckFailure(f"{name} is {_describe(value)}; expected a torch.Tensor (return the tensor, not .numpy()).")
    return value


def expect_array(value: Any, name: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise CheckFailure(f"{name} is {_describe(value)}; expected a NumPy array (convert with .cpu().numpy()).")
    return value


def expect_shape(value: Any, shape: Sequence[int], name: str, hint: str = "") -> None:
    got = tuple(value.shape)
    if got != tuple(shape):
        raise CheckFailure(f"{name} has shape {got}; expected {tuple(shape)}{_hint(hint)}.")


def expect_dtype(value: Any, dtypes: Any, name: str, hint: str = "") -> None:
    allowed = dtypes if isinstance(dtypes, (tuple, list)) else (dtypes,)
    if value.dtype not in allowed:
        want = " or ".join(str(d) for d in allowed)
        raise CheckFailure(f"{name} has dtype {value.dtype}; expected {want}{_hint(hint)}.")


def expect_iou(mask: np.ndarray, truth: np.ndarray, minimum: float, name: str, against: str, hint: str) -> None:
    """``mask`` has ``truth``'s (H, W) shape and overlaps it with intersection over union >= ``minimum``."""
    expect_shape(mask, truth.shape, name, hint="return one boolean per pixel, (H, W)")
    mask = mask.astype(bool)
    iou = float((mask & truth).sum() / max(1, (mask | truth).sum()))
    if iou < minimum:
        figure = Figure(((name, mask.astype(float)), (against, truth.astype(float)),
                         ("disagreement", (mask ^ truth).astype(float))),
                        caption=f"IoU {iou:.2f} (need {minimum:g})", expected=(against,), scale=(0.0, 1.0),
                        same_scale=(name, against, "disagreement"))
        raise CheckFailure(f"{name} overlaps {against} with IoU {iou:.2f} (need {minimum:g}){_hint(hint)}.", figure)


def expect_device(value: torch.Tensor, device: torch.device | str, name: str) -> None:
    if value.device != torch.device(device):
        raise CheckFailure(
            f"{name} is on device {value.device}; expected {device}, the device of the input: "
            "create new tensors with device=X.device and do not move results elsewhere."
        )


def expect_finite(value: Any, name: str, hint: str = "") -> None:
    data = torch.as_tensor(value)
    if data.is_floating_point() and not torch.isfinite(data).all():
        nans = int(torch.isnan(data).sum())
        infs = int(torch.isinf(data).sum())
        raise CheckFailure(f"{name} has {nans} NaN and {infs} infinite values"
                           f"{_hint(hint or 'look for a division by zero')}.")


def expect_close(got: Any, want: Any, name: str, atol: float, rtol: float, hint: str = "") -> None:
    got_t = torch.as_tensor(got).detach().cpu().double()
    want_t = torch.as_tensor(want).detach().cpu().double()
    expect_shape(got_t, want_t.shape, name, hint)
    if not torch.allclose(got_t, want_t, atol=atol, rtol=rtol):
        diff = (got_t - want_t).abs()
        worst = int(diff.argmax())
        raise CheckFailure(
            f"{name} differs from the expected values: largest difference {diff.max().item():.3g} "
            f"(got {got_t.flatten()[worst].item():.4g}, expected {want_t.flatten()[worst].item():.4g}; "
            f"tolerance {atol:g} + {rtol:g}·|expected|){_hint(hint)}."
        )


def expect_clean_model(call: Call, param: str) -> None:
    """The model argument ``param`` is left as found: no hooks, same train/eval mode, same requires_grad."""
    effects, function = effects_of(call, param), call.function
    if effects["hooks_added"] > 0:
        raise CheckFailure(
            f"{function} left {effects['hooks_added']} hook(s) registered on the model: keep the handles returned by "
            "register_*_hook and call handle.remove() in a finally block."
        )
    if effects["mode_changed"]:
        raise CheckFailure(
            f"{function} changed the model's train/eval mode (now training={effects['now_training']}): "
            "do not call model.train() or model.eval(); use the model as given."
        )
    if effects["requires_grad_changed"]:
        raise CheckFailure(
            f"{function} changed requires_grad on {effects['requires_grad_changed']} model parameter(s): "
            "gradients are needed for the input only; leave the parameters as given."
        )


def expect_hooks_removed_on_error(run: typing.Callable[[], Call], function: str, marker: str) -> None:
    """``run()`` calls the student's ``function`` with a model whose forward raises a RuntimeError naming
    ``marker``: that error must reach the grader, and the model must be left without hooks."""
    try:
        run()
    except StudentCodeError as error:
        if error.kind != "RuntimeError" or marker not in str(error):
            raise
        hooks = error.effects.get("model", {}).get("hooks_added", 0)
        if hooks:
            fail(f"when the model's forward raised, {function} left {hooks} hook(s) on it: register the hook(s), run "
                 "the forward inside `try:` and call handle.remove() for each in `finally:`.")
        return
    fail(f"{function} returned although the model's forward raised: let the error propagate (remove the hooks in "
         "`finally:`, do not catch the error).")


def expect_input_unchanged(call: Call, name: str) -> None:
    """The tensor or array argument ``name`` is neither modified in place nor changed in requires_grad."""
    effects, function = effects_of(call, name), call.function
    if effects["mutated"]:
        raise CheckFailure(
            f"{function} modified its input {name} in place: work on a copy (e.g. {name}.clone()) "
            "so the caller's tensor is left as it was."
        )
    if effects["requires_grad_changed"]:
        raise CheckFailure(
            f"{function} changed requires_grad on its input {name}: call requires_grad_() on a copy "
            f"({name}.clone().requires_grad_()), not on the caller's tensor."
        )


def expect_gradients(call: Call, name: str, hint: str) -> None:
    """The gradients a ``differentiate(..., verify=True)`` call reported agree with how the function's value
    changes along a random direction (central differences, same random seed): a gradient the function does
    not have, or a value cut off from its inputs (.detach(), .item(), NumPy), fails with ``hint``."""
    if "directions" not in call.gradient_check:
        raise CourseLayoutError(f"the check asks whether {call.function}'s gradients agree with its values, but the "
                                "call was not made with differentiate(..., verify=True)")
    for check in call.gradient_check["directions"]:  # a random direction, and the reported gradient's own
        reported, measured = check["reported"], check["measured"]
        if abs(reported - measured) > 0.05 * max(abs(reported), abs(measured)) + check["noise"] + 1e-9:
            raise CheckFailure(f"{name}'s gradient does not match how its value changes: along a direction the value "
                               f"changes at a rate of {measured:.4g}, while its gradient gives {reported:.4g}: {hint}.")


def expect_module(summary: dict, name: str, output_shape: Sequence[int] | None = None,
                  parameters: int | None = None, layers: Sequence[str] | None = None,
                  layers_hint: str = "follow the architecture in the notebook, in order",
                  figure: Figure | None = None) -> None:
    """Judge a ``probes.module_summary``: an nn.Module with this output shape, parameter count and layers
    (``layers_hint`` says what to do when the first differing layer is named; ``figure``, e.g. the network's
    images, is shown with a wrong layer)."""
    if not summary["is_module"]:
        raise CheckFailure(f"{name} returned a {summary['type']}; expected an nn.Module (e.g. nn.Sequential(...)).")
    if output_shape is not None:
        if summary["output_error"]:
            raise CheckFailure(f"{name}'s forward pass failed: {summary['output_error']}: check the layer sizes.")
        if tuple(summary["output_shape"]) != tuple(output_shape):
            raise CheckFailure(
                f"{name} outputs shape {tuple(summary['output_shape'])}; expected {tuple(output_shape)}: check the "
                "last layer's size and the final Flatten/Unflatten in the notebook's architecture."
            )
    if layers is not None and list(summary["layers"]) != list(layers):
        got, want = list(summary["layers"]), list(layers)
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        found = got[first] if first < len(got) else "nothing"
        expected = want[first] if first < len(want) else "nothing"
        raise CheckFailure(
            f"{name}'s layer {first + 1} is {found}; expected {expected} "
            f"({len(got)} layers found, {len(want)} expected): {layers_hint}.", figure
        )
    if parameters is not None and summary["parameters"] != parameters:
        raise CheckFailure(
            f"{name} has {summary['parameters']:,} parameters; expected {parameters:,}: check each layer's sizes "
            "(and that no layer is missing or repeated)."
        )


def expect_classified_as(model: torch.nn.Module, image: torch.Tensor, target: int, name: str, hint: str) -> None:
    """The model (built by the grader) predicts ``target`` for ``image``."""
    with torch.no_grad():
        predicted = int(model(image).argmax(dim=1))
    if predicted != target:
        picture = image.detach().cpu().double()[0]  # (3, H, W)
        figure = Figure(((name, picture.permute(1, 2, 0).numpy() if picture.shape[0] == 3 else picture[0].numpy()),),
                        caption=f"classified as {predicted}; target {target}")
        raise CheckFailure(f"{name} is classified as {predicted}, not the target {target}: {hint}.", figure)


# Losses: the correct value, or the usual mistake it reproduces (``matching``, the one matcher).


def expect_loss(value, candidates: dict[str, float], name: str, formula: str, rtol: float = 1e-4,
                atol: float = 1e-5) -> None:
    """``value`` is a finite scalar tensor equal to ``candidates["correct"]``; else name the mistake among the
    other candidates it reproduces, or, when it reproduces none, restate ``formula``."""
    mistakes = {k: v for k, v in candidates.items() if k != "correct"}
    expect_match(value, candidates["correct"], mistakes, name, formula, atol=atol, rtol=rtol, scalar=True)


# Pictures: properties of an image a student's function returns, each failing with a figure of where it
# breaks (the input, the student's picture and a white-on-black map of the pixels that break it).


def _map_figure(sample: np.ndarray, out: np.ndarray, marked: np.ndarray, title: str, caption: str) -> Figure:
    """The sample (an input, left out of a hidden check's figure), the student's picture and the map."""
    return Figure((("sample", sample), ("yours", out), (title, marked.astype(float))), caption=caption,
                  expected=("sample",))


def expect_pixels_from(out: np.ndarray, sample: np.ndarray, name: str) -> None:
    """Every pixel (RGB triple) of ``out`` (H, W, 3) occurs in ``sample``; else fail with a map of those that
    do not."""
    known = {tuple(p) for p in sample.reshape(-1, 3)}
    foreign = np.array([tuple(p) not in known for p in out.reshape(-1, 3)]).reshape(out.shape[:2])  # (H, W)
    if foreign.any():
        fail(f"{name}: {int(foreign.sum())} of {foreign.size} output pixels do not occur in the sample: copy the "
             "centre pixel of a matching sample window (no averaging, blending or interpolation).",
             _map_figure(sample, out, foreign, "not in the sample", f"{int(foreign.sum())} pixels not in the sample"))


def expect_periodic(out: np.ndarray, sample: np.ndarray, period: int, hint: str, minimum: float = 0.9) -> None:
    """At least ``minimum`` of ``out`` (H, W, 3) equals the pixel one ``period`` further, down and across (the
    smaller share); else fail with a map of the pixels that break the period."""
    down = (out[period:] == out[:-period]).all(-1)  # (H - p, W)
    across = (out[:, period:] == out[:, :-period]).all(-1)  # (H, W - p)
    share = float(min(down.mean(), across.mean()))
    if share < minimum:
        broken = np.zeros(out.shape[:2], dtype=bool)  # (H, W)
        broken[period:] |= ~down
        broken[:, period:] |= ~across
        fail(f"only {share:.0%} of the output repeats with the sample's period {period} (expected {minimum:.0%} or "
             f"more): {hint}.", _map_figure(sample, out, broken, "breaks the period", f"{share:.0%} periodic"))


def output_figure(images: object, side: int, low: float, high: float, title: str) -> Figure | None:
    """A network's flat outputs ``(N, side * side)`` as one row of ``side x side`` pictures on the fixed scale
    ``[low, high]`` (the range its last layer promises), with their measured range; None for anything else."""
    if not isinstance(images, torch.Tensor) or images.dim() != 2 or images.shape[1] != side * side or not len(images):
        return None
    row = images.detach().double().reshape(-1, side, side).permute(1, 0, 2).reshape(side, -1)  # (side, N * side)
    return Figure(((title, row.numpy()),), caption=f"values in [{float(images.min()):.2f}, {float(images.max()):.2f}]"
                  f" on the scale [{low:g}, {high:g}]", same_scale=(title,), scale=(low, high))
