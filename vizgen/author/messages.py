"""Student-facing messages: what went wrong, and what to do about it.

Every exception here is shown to the student as is, as the reason a check failed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Figure:
    """What a failed check on an image-valued output shows: plain arrays, drawn by the grader.

    ``panels``: (title, image) pairs, each image ``(H, W)`` or ``(H, W, 3)`` in any range (scaled for display);
    ``expected``: the titles that show the correct answer, which a hidden check's figure leaves out;
    ``same_scale``: the titles drawn on one shared scale, ``scale`` when given (e.g. (-1, 1), the range the
    output should span), else their joint range; ``caption``: a measured value to read beside the images (e.g.
    what the image is classified as).
    """

    panels: tuple[tuple[str, np.ndarray], ...]
    caption: str = ""
    expected: tuple[str, ...] = ()
    same_scale: tuple[str, ...] = ()  # titles of panels drawn on one shared scale (yours and expected)
    scale: tuple[float, float] | None = None  # that scale, when fixed; else the panels' joint range


class StudentFacing(Exception):
    """An exception whose message is meant for the student."""


class CheckFailure(StudentFacing, AssertionError):
    """The function ran but its result is wrong; ``figure`` shows it when the output is an image."""

    def __init__(self, message: str, figure: Figure | None = None):
        super().__init__(message)
        self.figure = figure


class FunctionUnavailable(StudentFacing):
    """The function cannot be called: missing, wrong signature, or broken by an earlier call."""


class StudentCodeError(StudentFacing):
    """The student's function raised; ``kind`` is the exception's type name, ``effects`` the
    side-effect report of the call (hooks left behind even so, ...)."""

    def __init__(self, message: str, kind: str = "", effects: dict | None = None):
        super().__init__(message)
        self.kind = kind
        self.effects = effects or {}


class StudentTimeout(StudentFacing):
    """The student's function did not return in time."""


class StudentCrash(StudentFacing):
    """The process running the student's function died."""


# Substrings of common error messages, and the usual cause in these assignments.
_HINTS = {
    "does not require grad":
        "make the input require gradients (X = X.clone().requires_grad_()) before the forward pass",
    "can't convert cuda": "call .cpu() before .numpy()",
    "Can't call numpy() on Tensor that requires grad": "call .detach() before .numpy()",
    "a leaf Variable that requires grad is being used in an in-place operation": (
        "update the image inside `with torch.no_grad():` (or through .data)"
    ),
    "of BackwardHookFunction is a view and is being modified inplace": (
        "the model has in-place activations (ReLU6(inplace=True)), which register_full_backward_hook cannot wrap "
        "(cloning does not help): use a forward hook on each activation instead, which registers a tensor hook "
        "on the activation's output that clamps the incoming gradient at 0"
    ),
    "Trying to backward through the graph a second time": "run a fresh forward pass before each backward",
    "expected scalar type": "keep the dtype of the input (float32)",
    "mat1 and mat2 shapes cannot be multiplied": "keep the (N, 3, H, W) input shape the model expects",
    "shape '[": "check the reshape: the sizes must multiply to the number of elements",
    "can't allocate memory": "use less memory: grading limits each function's memory, so work on the batch you are "
                             "given and build no huge tensors or lists",
    "MemoryError": "use less memory: grading limits each function's memory",
}


def hint_for(message: str) -> str:
    for needle, hint in _HINTS.items():
        if needle in message:
            return f" Likely fix: {hint}."
    return ""


def student_error(function: str, cell: str, error: dict, effects: dict) -> StudentCodeError:
    """Turn the child's error report into the exception a check fails with."""
    kind, text = error["type"], error["message"]
    return StudentCodeError(_describe_error(function, cell, kind, text, error.get("where", [])), kind, effects)


NOT_IMPLEMENTED = "is not implemented yet"  # in the message of a function still raising NotImplementedError


def _describe_error(function: str, cell: str, kind: str, text: str, where_list: list[str]) -> str:
    where = f" ({'; '.join(where_list)})" if where_list else ""
    if kind == "NotImplementedError":
        return (
            f"{function} {NOT_IMPLEMENTED}: replace `raise NotImplementedError()` in cell "
            f"'{cell}' with your code."
        )
    if kind == "SystemExit":
        return f"{function} called sys.exit({text}){where}: return the result instead of exiting."
    if kind == "SandboxViolation":
        return (
            f"{function}: {text}{where}. Grading runs your function on its own: compute the result from its arguments."
        )
    if kind == "NotPlainData":
        return f"{function}: {text}."
    return f"{function} raised {kind}: {text}{where}.{hint_for(text)}"


def missing_function(function: str, defined: list[str], problems: list[str]) -> FunctionUnavailable:
    close = difflib.get_close_matches(function, defined, n=1)
    renamed = f" Found {close[0]!r}: did you rename it? Keep the starter name." if close else ""
    extra = f" ({'; '.join(problems)})" if problems else ""
    return FunctionUnavailable(
        f"{function} is not defined in any solution cell.{renamed}{extra} Restore the starter cell if you deleted it."
    )


def wrong_signature(function: str, got: list[str], expected: list[str]) -> FunctionUnavailable:
    return FunctionUnavailable(
        f"{function} takes ({', '.join(got)}) but the checks call it as {function}({', '.join(expected)}): "
        "keep the starter signature (you may add parameters with defaults after it)."
    )
