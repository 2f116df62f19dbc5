"""``Call``: what one call of a student function produced, as plain data; what a check receives from
``student.fn(...)`` and ``student.probe(...)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """What one call of a student function produced, as plain data."""

    function: str
    value: Any  # the return value: tensors, arrays, numbers, containers
    args_after: dict[str, Any]  # tensor arguments after the call, by parameter name ("X")
    effects: dict[str, dict]  # side-effect report per model/tensor argument, by parameter name (see invoke)
    output: str = ""  # what the function printed
    seconds: float = 0.0
    params: list[str] = field(default_factory=list)  # the function's parameter names
    gradients: dict[str, Any] = field(default_factory=dict)  # d result / d argument, by name (``differentiate``)
    cpu_seconds: float = 0.0  # CPU time of the call, measured outside the student's process where it can be
    gradient_check: dict[str, float] = field(default_factory=dict)  # differentiate(verify=True): reported vs measured
