"""The table of honest mistakes, mutants, correct alternatives and forged probes of an assignment.

``autograder/<assignment>/mistakes.py`` (never shipped: a mutant is one edit from the solution)
declares ``MISTAKES``, ``ALTERNATIVES`` and ``FORGERIES``. One test runs every assignment's table
(``tests/assignments/test_mistakes.py``): each mistake, written into a copy of the solution in
place of its function's cell, must lose points of that function in the public checks (when
``public``) and in the hidden ones, with a failed check's message containing ``words``, while the
other functions (but those in ``also``) keep full marks; an un-named wrong answer (``named=False``) gets
no "likely bug" message (a cause is named only when its variant reproduces the value); each alternative
keeps full marks. The
hostile suite (``tests/hostile/``) grades each forgery beside its baseline: reaching into a probe
(its frame, its module, its code) must not raise the function's score above the baseline's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """A wrong implementation of one function, as a student would write it (or a mutant of the solution)."""

    name: str  # short and unique in the table, e.g. "gram-divided-by-hw"
    function: str  # the graded function it breaks; ``source`` replaces that function's solution cell
    source: str  # the whole cell: imports and the function's definition
    words: str  # a failed check's message contains these words (the named mistake, or the fix)
    public: bool = True  # the public checks alone catch it (what `vizgen check` and the check cells run)
    also: tuple[str, ...] = ()  # other functions allowed to lose points (e.g. a class another function builds on)
    named: bool = True  # False: a wrong answer that reproduces no usual mistake: no message may guess a "likely bug"


@dataclass(frozen=True)
class Alternative:
    """A correct implementation written another way: it keeps full marks."""

    name: str
    function: str
    source: str


@dataclass(frozen=True)
class Forgery:
    """A submission that tampers with a probe running beside it (through ``sys._getframe``, ``sys.modules`` or
    a function's ``__code__``) to forge what the probe reports, and the same submission without the tampering."""

    name: str
    probe: str  # the probe it forges
    function: str  # the function whose cell ``source`` and ``baseline`` replace
    source: str  # the forging cell
    baseline: str  # the honest cell it is compared with (the same wrong or missing work, no tampering)
