"""Stored reference cases, as grading reads them: the ``reference`` fixture of every check.

``ReferenceStore`` is one file of cases (``references/<device>.pt``, never shipped, or the shipped
``public/references.pt``); ``References`` looks a case up in the public file and, when the hidden
checks run, in the hidden one. Case names are unique across both (``vizgen references build``
refuses a repeat). Files are decoded with ``wire`` (``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

from vizgen.author.cases import StoredCase
from vizgen.errors import CourseLayoutError
from vizgen.sandbox import wire

PUBLIC_FILE = "references.pt"  # in an assignment's public/ folder


def inputs_digest(args: list, kwargs: dict) -> str:
    return hashlib.sha256(wire.encode({"args": args, "kwargs": kwargs})).hexdigest()


class ReferenceStore:
    """The cases of one file, loaded on first use."""

    def __init__(self, file: Path):
        self.file = Path(file)
        self._cases: dict | None = None

    @classmethod
    def hidden(cls, folder: Path, device: str = "cpu") -> ReferenceStore:
        return cls(Path(folder) / f"{device}.pt")

    def load(self) -> dict:
        if self._cases is None:
            if not self.file.is_file():
                raise CourseLayoutError(f"reference outputs {self.file} are missing: run `vizgen references build`.")
            self._cases = wire.decode(self.file.read_bytes())
        return self._cases

    def __contains__(self, name: str) -> bool:
        return self.file.is_file() and name in self.load()

    def case(self, name: str) -> StoredCase:
        cases = self.load()
        if name not in cases:
            raise CourseLayoutError(f"reference case {name!r} is not in {self.file}: run `vizgen references build`.")
        c = cases[name]
        return StoredCase(name, c["function"], c["args"], c["kwargs"], c["output"], c["atol"], c["rtol"], c["why"],
                          c.get("mistakes", {}))


class References:
    """The ``reference`` fixture: ``reference.case(name)`` from the public store, else the hidden one."""

    def __init__(self, public: ReferenceStore, hidden: ReferenceStore | None):
        self.public, self.hidden = public, hidden

    def case(self, name: str) -> StoredCase:
        if name in self.public or self.hidden is None:
            return self.public.case(name)
        return self.hidden.case(name)


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
