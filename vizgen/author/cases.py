"""Reference cases: seeded inputs, the solution's output on them, and a justified tolerance.

Hidden check modules declare ``REFERENCE_CASES``, public ones ``PUBLIC_CASES``; ``vizgen references
build`` runs the solution notebook's functions on each case's inputs and stores inputs and outputs
together: hidden cases in ``autograder/<assignment>/references/<device>.pt`` (never shipped), public
ones in ``autograder/<assignment>/public/references.pt`` (shipped: public checks judge against it,
since no code that computes a correct answer ships). A case may name a function of the assignment's
``judge.py`` (``mistakes=``) that computes the usual mistakes' values on its inputs; they are stored
with it, so that a public check names the mistake a wrong value reproduces without the code that
computes it. Grading reads the stored inputs, never regenerates them, so a reference cannot drift
from its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable



@dataclass(frozen=True)
class ReferenceCase:
    name: str
    function: str
    make_inputs: Callable[[], tuple[list, dict]]  # seeded: (args, kwargs)
    atol: float
    rtol: float
    why: str  # why this tolerance: what varies between correct implementations and devices
    capture: str = "value"  # what the reference records: the return value, or an argument after the call ("img")
    mistakes: str = ""  # a function of judge.py: (*args, **kwargs) -> {mistake: its value}, stored with the case


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
    mistakes: dict[str, Any] = field(default_factory=dict)  # the usual mistakes' values on these inputs
