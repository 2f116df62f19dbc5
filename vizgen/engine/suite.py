"""An assignment's checks, read once and run for many submissions.

Checks are written for pytest: ``@check(points, function)`` functions named ``test_*`` in
``autograder/<a>/public/`` and ``hidden/``, taking the fixtures ``student`` and ``reference``, failing
through ``fail`` and the ``expect_*`` helpers. pytest's collection and session set-up cost more than
most checks, so a grading process reads them once here (each module imported by its path, in file
order, its checks in definition order, as pytest collects them) and calls them directly for each
submission: a grading lane or a check server keeps them in a ``Suites`` and passes each along. The
marker is pytest's, so an author's ``python -m pytest <module>`` still imports a module and shows its
errors.

A check module must not keep state between calls (the references it reads are the suite's, loaded
once); a test grades the same submissions through one suite and through fresh ones and compares.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import time
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from vizgen.author.checks import MARK
from vizgen.author.messages import StudentFacing
from vizgen.course.assignment import Assignment
from vizgen.course.manifest import check_title
from vizgen.engine.figures import figure_text
from vizgen.engine.results import CheckResult
from vizgen.engine.stores import PUBLIC_FILE, References, ReferenceStore
from vizgen.errors import CourseLayoutError
from vizgen.sandbox.runners import Runner

FIXTURES = ("student", "reference")  # what a check may ask for


@dataclass(frozen=True)
class Check:
    """One graded check: its function object and what its marker and docstring say."""

    run: Callable
    name: str  # "function: title"
    function: str
    points: float
    hidden: bool
    check_id: str
    wants: tuple[str, ...]  # the fixtures it takes, in order


def _mark(obj: object) -> dict | None:
    marks = [m for m in getattr(obj, "pytestmark", []) if getattr(m, "name", "") == MARK]
    return dict(marks[0].kwargs) if marks else None


def _import(file: Path, assignment: Assignment):
    """A check module imported from its path under a name of its own (pytest's ``importlib`` import mode)."""
    name = f"_vizgen_checks.{assignment.name}.{file.parent.name}.{file.stem}"
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise CourseLayoutError(f"the checks could not be loaded: {file.name}: {type(error).__name__}: {error}: fix "
                                "that check module (`python -m pytest <module>` shows the full traceback)") from error
    return module


def collect(assignment: Assignment, hidden: bool) -> list[Check]:
    """Every check of the assignment's public (and hidden) folder."""
    folders = [assignment.public] + ([assignment.hidden] if hidden else [])
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        raise CourseLayoutError(f"check folder {missing[0]} is missing: restore autograder/{assignment.name}/.")
    checks = []
    for folder in folders:
        for file in sorted(folder.glob("test_*.py")):
            module = _import(file, assignment)
            for attribute, obj in vars(module).items():
                mark = _mark(obj) if attribute.startswith("test_") and callable(obj) else None
                if mark is None or getattr(obj, "__module__", None) != module.__name__:
                    continue
                wants = obj.__code__.co_varnames[:obj.__code__.co_argcount]
                unknown = [w for w in wants if w not in FIXTURES]
                if unknown:
                    raise CourseLayoutError(f"{file.name}::{attribute} asks for {unknown}: a check takes only "
                                            f"{' and '.join(FIXTURES)}.")
                checks.append(Check(obj, f"{mark['function']}: {check_title(obj.__doc__, attribute)}",
                                    mark["function"], float(mark["points"]), folder == assignment.hidden,
                                    attribute.removeprefix("test_"), wants))
    return checks


class Student:
    """``student.<function>(*args, **kwargs)`` calls the submission's function through the runner;
    ``student.probe(name, function, ...)`` runs a probe around it (the engine's or the assignment's);
    ``student.differentiate(function, ..., wrt=(...))`` also returns the gradient of its scalar result
    with respect to the named arguments, for loops the judge runs in the grader."""

    def __init__(self, runner: Runner):
        self._runner = runner

    def probe(self, probe: str, function: str, *args, **kwargs):
        return self._runner.probe(probe, function, *args, **kwargs)

    def differentiate(self, function: str, *args, wrt: tuple = (), verify: bool = False, **kwargs):
        return self._runner.differentiate(function, *args, wrt=wrt, verify=verify, **kwargs)

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        return lambda *args, **kwargs: self._runner.call(function, *args, **kwargs)


def failure_message(error: BaseException) -> str:
    """What a failed check tells the student: its own message, or that the check itself broke."""
    if isinstance(error, StudentFacing):
        return str(error)
    if isinstance(error, AssertionError):
        return str(error).split("\nassert ")[0] or "the check's condition was not met."
    return f"internal error in this check ({type(error).__name__}: {error}); please tell the course staff."


class CheckSuite:
    """The checks of one assignment (public, and hidden when ``hidden``) and its references, loaded once."""

    def __init__(self, assignment: Assignment, hidden: bool):
        self.assignment, self.hidden = assignment, hidden
        self.checks = collect(assignment, hidden)
        self.references = References(ReferenceStore(assignment.public / PUBLIC_FILE),
                                     ReferenceStore.hidden(assignment.references) if hidden else None)

    def run(self, runner: Runner, functions: Collection[str] | None = None) -> list[CheckResult]:
        """Run the checks of ``functions`` (None: all) against ``runner``: one result per check, in notebook
        order (then public before hidden, then file and definition order)."""
        fixtures = {"student": Student(runner), "reference": self.references}
        results = []
        for check in self.checks:
            if functions is not None and check.function not in functions:
                continue
            start, error = time.perf_counter(), None
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    check.run(*(fixtures[w] for w in check.wants))
                except KeyboardInterrupt:
                    raise
                except BaseException as failed:  # noqa: BLE001 - pytest.fail, SystemExit...: the check's result
                    error = failed
            figure = getattr(error, "figure", None)
            results.append(CheckResult(
                name=check.name, function=check.function, points=check.points,
                score=check.points if error is None else 0.0,
                message="" if error is None else failure_message(error), hidden=check.hidden,
                seconds=time.perf_counter() - start, check_id=check.check_id,
                figure=figure_text(figure, check.hidden)))
        order = {name: i for i, name in enumerate(self.assignment.starter_signatures())}
        return sorted(results, key=lambda r: (order.get(r.function, len(order)), r.hidden))


class Suites:
    """The suites a long-lived process has read, by assignment and visibility: ``suites(assignment, hidden)``
    reads that assignment's checks the first time only (a grading lane, the check server, the tests' grader)."""

    def __init__(self) -> None:
        self._read: dict[tuple[str, bool], CheckSuite] = {}

    def __call__(self, assignment: Assignment, hidden: bool) -> CheckSuite:
        key = (assignment.name, hidden)
        if key not in self._read:
            self._read[key] = CheckSuite(assignment, hidden)
        return self._read[key]
