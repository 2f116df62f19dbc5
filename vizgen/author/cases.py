"""Reference cases: seeded inputs, the solution's output on them, and a justified tolerance.

Hidden check modules declare ``REFERENCE_CASES``; ``vizgen references build`` runs the
solution notebook's functions on each case's inputs and stores inputs and outputs together in
``autograder/<assignment>/references/<device>.pt``. Grading reads the stored inputs, never
regenerates them, so a reference cannot drift from its inputs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from vizgen.errors import CourseLayoutError
from vizgen.sandbox import wire


@dataclass(frozen=True)
class ReferenceCase:
    name: str
    function: str
    make_inputs: Callable[[], tuple[list, dict]]  # seeded: (args, kwargs)
    atol: float
    rtol: float
    why: str  # why this tolerance: what varies between correct implementations and devices
    capture: str = "value"  # what the reference records: the return value, or an argument after the call ("img")


@dataclass(frozen=True)
class StoredCase:
    name: str
    function: str
    args: list
    kwargs: dict
    output: Any
    atol: float
    rtol: float
    why: str


def inputs_digest(args: list, kwargs: dict) -> str:
    return hashlib.sha256(wire.encode({"args": args, "kwargs": kwargs})).hexdigest()


class ReferenceStore:
    """Reference outputs of one assignment, loaded on first use."""

    def __init__(self, folder: Path, device: str = "cpu"):
        self.file = folder / f"{device}.pt"
        self._cases: dict | None = None

    def load(self) -> dict:
        if self._cases is None:
            if not self.file.is_file():
                raise CourseLayoutError(f"reference outputs {self.file} are missing: run `vizgen references build`.")
            self._cases = wire.decode(self.file.read_bytes())
        return self._cases

    def case(self, name: str) -> StoredCase:
        cases = self.load()
        if name not in cases:
            raise CourseLayoutError(f"reference case {name!r} is not in {self.file}: run `vizgen references build`.")
        c = cases[name]
        return StoredCase(name, c["function"], c["args"], c["kwargs"], c["output"], c["atol"], c["rtol"], c["why"])


def save_store(file: Path, cases: dict) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(wire.encode(cases))


def to_device_free(value: Any) -> Any:
    """Outputs are stored on the CPU so every grader can read them."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, (list, tuple)):
        return type(value)(to_device_free(v) for v in value)
    if isinstance(value, dict):
        return {k: to_device_free(v) for k, v in value.items()}
    return value
