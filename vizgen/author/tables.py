"""The table of honest mistakes, mutants, correct alternatives and forged probes of an assignment.

``autograder/<assignment>/mistakes.py`` (never shipped: a mutant is one edit from the solution)
declares ``MISTAKES``, ``ALTERNATIVES``, ``FORGERIES`` and ``SHOWN`` (the names of mistakes whose failed
checks show the student's picture). One test runs every assignment's table
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

import ast
import functools
from dataclasses import dataclass
from pathlib import Path


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


@functools.lru_cache(maxsize=None)
def _solution(folder: Path):
    """The solution of the assignment whose grader folder (``autograder/<a>``) is ``folder``, read once."""
    from vizgen.course.assignment import load_assignment
    from vizgen.course.config import CoursePaths
    from vizgen.course.notebook import extract_submission

    return extract_submission(load_assignment(CoursePaths(folder.parents[1]), folder.name).solution_notebook)


def wrong_answer(table_file: str, function: str, change: str) -> str:
    """An un-named wrong answer's cell: the solution's ``function`` (renamed ``_solution_<function>``), wrapped by a
    function of the same signature that returns ``change``, an expression of ``out`` (the solution's result) and the
    arguments, e.g. ``"out * 1.37"``. ``table_file``: the table's ``__file__`` (``autograder/<a>/mistakes.py``)."""
    solution = _solution(Path(table_file).resolve().parent)
    others = {f for f, info in solution.functions.items() if info.graded and f != function}
    module = ast.parse("\n".join(code for _, code in solution.cells_for(function)))
    module.body = [n for n in module.body  # its own code only: other graded functions stay the notebook's
                   if not (isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in others)]
    node = next(n for n in module.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == function)
    node.name = f"_solution_{function}"  # unique: a notebook may hold several wrong answers
    if not isinstance(node, ast.FunctionDef):
        raise ValueError(f"wrong_answer wraps functions; {function} is a class: write its wrong answer by hand")
    args = node.args
    passed = [a.arg for a in args.posonlyargs] + [f"{a.arg}={a.arg}" for a in args.args + args.kwonlyargs]
    passed += [f"*{args.vararg.arg}"] if args.vararg else []
    passed += [f"**{args.kwarg.arg}"] if args.kwarg else []
    wrapper = (f"\n\ndef {function}({ast.unparse(args)}):\n    out = _solution_{function}({', '.join(passed)})\n"
               f"    return {change}\n")
    return ast.unparse(module) + wrapper
