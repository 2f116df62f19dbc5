"""Grade one submission: extract its functions, start the runner, run the checks, report.

Every path ends in a ``GradeReport``: an unreadable notebook, a missing function or a student
crash fails the affected checks with a message, and the rest is graded.
"""

from __future__ import annotations

import importlib
import re
import sys
import threading
import time
from collections.abc import Collection
from pathlib import Path

from vizgen.course.config import GradingConfig
from vizgen.errors import NotebookError
from vizgen.sandbox import audit
from vizgen.course.assignment import Assignment, available
from vizgen.course.manifest import declared_checks
from vizgen.course.library_calls import library_uses
from vizgen.course.notebook import Submission, extract_submission
from vizgen.author.messages import FunctionUnavailable
from vizgen.engine.suite import CheckSuite
from vizgen.engine.results import CheckResult, GradeReport, forbid
from vizgen.sandbox.runners import SandboxRunner, Runner
from vizgen.sandbox.spawn import WorkerHandle
from vizgen.author.support import load_support


class UnavailableRunner:
    """Stands in when no function can be called at all (e.g. the notebook is not valid JSON)."""

    def __init__(self, reason: str):
        self.reason = reason

    def call(self, function: str, *args, **kwargs):
        raise FunctionUnavailable(self.reason)

    def probe(self, probe: str, function: str, *args, **kwargs):
        raise FunctionUnavailable(self.reason)

    def close(self) -> None:
        pass


def _warm_in_background(modules: tuple[str, ...]) -> None:
    """Import the assignment's ``warm_imports`` in a thread while the worker starts: the judge builds optimizers
    too (replaying a student's step), and the first one imports ``torch._dynamo`` (~2.5 s)."""
    missing = [m for m in modules if m not in sys.modules]
    if missing:
        threading.Thread(target=lambda: [importlib.import_module(m) for m in missing], daemon=True,
                         name="vizgen-warm-imports").start()


def run_checks(assignment: Assignment, runner: Runner, hidden: bool,
               functions: Collection[str] | None = None, suite: CheckSuite | None = None) -> list[CheckResult]:
    """Run the assignment's public (and hidden) checks of ``functions`` (None: every function) against a runner;
    returns one result per check. ``suite``: the checks read earlier (a lane or a check server keeps one)."""
    suite = suite or CheckSuite(assignment, hidden)
    if suite.assignment.name != assignment.name or suite.hidden != hidden:
        raise ValueError(f"the suite holds {suite.assignment.name}'s {'hidden' if suite.hidden else 'public'} checks: "
                         "pass the suite of the assignment and checks being graded")
    return suite.run(runner, functions)


_HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.DOTALL)


def _public_part(source: str) -> str:
    """A test cell as students see it: hidden tests removed, blank lines ignored."""
    return "\n".join(line for line in _HIDDEN_TESTS.sub("", source).splitlines() if line.strip())


def _edited_test_cells(assignment: Assignment, found: dict[str, str]) -> list[str]:
    if not assignment.release_notebook.is_file():
        return []
    original = assignment.starter.test_cells
    return [
        cell for cell, source in original.items()
        if cell in found and _public_part(found[cell]) != _public_part(source)
    ]


def failed_report(notebook: Path, assignment: Assignment, hidden: bool, reason: str) -> GradeReport:
    """The report of a hand-in that could not be graded: every check (read from the check modules' source,
    not run) at zero with ``reason``, which is also the report's note."""
    folders = [assignment.public] + ([assignment.hidden] if hidden else [])
    checks = [CheckResult(name=f"{c['function']}: {c['title']}", function=c["function"], points=float(c["points"]),
                          score=0.0, message=reason, hidden=folder == assignment.hidden,
                          check_id=c["id"].split("::")[-1].removeprefix("test_"))
              for folder in folders if folder.is_dir() for c in declared_checks(folder)]
    return GradeReport(submission=str(notebook), assignment=assignment.name, checks=checks, notes=[reason],
                       problem=reason)


def whole_submission_problem(submission: Submission, assignment: Assignment) -> str:
    """Why the hand-in as a whole is not this assignment's work (empty, or another assignment's notebook), or "".

    The notebook's metadata is the student's to edit: it only explains a hand-in in which none of this
    assignment's graded functions is defined; it never decides what grades it.
    """
    graded = set(assignment.starter_signatures())
    if graded & set(submission.functions):
        return ""
    submit = f"submit {assignment.notebook} with your work in it"
    if not submission.cells:
        return f"The notebook has no code cells: {submit}."
    other = submission.names_assignment
    if other and other != assignment.name:
        known = other if other in available(assignment.paths) else "another assignment"
        return f"This is the notebook of {known}, not of {assignment.title}: {submit}."
    return ""


def grade_submission(
    notebook: Path,
    assignment: Assignment,
    hidden: bool = True,
    config: GradingConfig | None = None,
    worker: WorkerHandle | None = None,
    functions: Collection[str] | None = None,
    suite: CheckSuite | None = None,
) -> GradeReport:
    """Grade one notebook with the public (and hidden) checks of an assignment (of ``functions`` only, when
    given: each check judges one function, so their scores are those of a whole grade).

    ``worker``: a worker process started earlier (``spawn.spawn_worker``) to hide its start-up; ``suite``: the
    assignment's checks read earlier (``CheckSuite``), so that a batch reads them once.
    """
    config = assignment.grading_config(config or GradingConfig())
    start = time.perf_counter()
    _warm_in_background(assignment.warm_imports)
    report = GradeReport(submission=str(notebook), assignment=assignment.name)
    runner: Runner
    uses: dict[str, list[str]] = {}
    try:
        submission = extract_submission(Path(notebook))
    except Exception as error:  # noqa: BLE001 - any notebook gets a result: a note and zero, never a crash
        why = str(error) if isinstance(error, NotebookError) else (
            f"{notebook} could not be read ({type(error).__name__}): save it again from Jupyter")
        report.notes.append(why)
        report.problem = why
        report.stages["extract"] = time.perf_counter() - start
        runner = UnavailableRunner(f"the notebook could not be read: {why}")
        if worker is not None:
            worker.stop()
    else:
        report.problem = whole_submission_problem(submission, assignment)
        report.notes += [report.problem] if report.problem else submission.problems
        uses = {f: library_uses(submission, f, assignment.forbidden(f)) for f in assignment.starter_signatures()}
        edited = _edited_test_cells(assignment, submission.test_cells)
        if edited:
            report.notes.append(f"test cell(s) {', '.join(edited)} were edited; grading used the original checks.")
        report.stages["extract"] = time.perf_counter() - start
        if report.problem:  # nothing of this assignment to run: every check says why, once per function
            runner = UnavailableRunner(report.problem)
            if worker is not None:
                worker.stop()
        else:
            runner = SandboxRunner(
                submission,
                assignment.starter_signatures(),
                assignment.paths,
                audit.default_denied(assignment.paths.root),
                config,
                warm_imports=assignment.warm_imports,
                worker=worker,
                support=load_support(assignment.probes_file),
                given={f: assignment.given_cells(f) for f in assignment.starter_signatures()},
            )
    report.stages["start"] = time.perf_counter() - start - report.stages.get("extract", 0.0)
    try:
        report.checks = forbid(run_checks(assignment, runner, hidden, functions, suite), uses)
        report.stages["checks"] = sum(c.seconds for c in report.checks)
        note = getattr(runner, "isolation_note", "")
        if note:
            report.notes.append(note)
    finally:
        runner.close()
    report.seconds = time.perf_counter() - start
    report.stages["other"] = report.seconds - sum(report.stages.values())  # the worker's start, its close
    return report
