"""The loop of one grading lane: each hand-in graded in turn, whatever its notebook holds.

``grade_many`` starts the worker for the next submission while the current one is graded (with the
current assignment's warm imports: the next one is most likely of the same assignment) and reads each
assignment's checks once (``engine.suite.CheckSuite``), not once per submission;
``grade_handin`` turns a refused hand-in, or one whose grading fails in the grader, into a report
with every check at zero and the reason, so that one notebook never stops the class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from typing import TYPE_CHECKING

from vizgen.course.config import GradingConfig
from vizgen.engine.results import GradeReport
from vizgen.grade.discover import Handin
from vizgen.sandbox.spawn import WorkerHandle, spawn_worker

if TYPE_CHECKING:
    from vizgen.engine.suite import Suites


def _with_lookahead(handins: Iterable[Handin]):
    """(handin, whether another may follow): known for a list; a stream (a lane's) is assumed to go on."""
    if isinstance(handins, Sequence):
        for index, handin in enumerate(handins):
            yield handin, index + 1 < len(handins)
    else:
        for handin in handins:
            yield handin, True


def grade_handin(handin: Handin, hidden: bool, config: GradingConfig | None, worker: WorkerHandle,
                 suites: Suites | None = None) -> GradeReport:
    """One hand-in's report, whatever the notebook holds: a refused hand-in, or one whose grading fails in
    the grader, gets every check at zero with the reason, and the batch goes on. ``suites``: the checks read
    so far (``engine.suite.Suites``; default: read for this hand-in alone)."""
    # imports torch: after the first worker started
    from vizgen.engine.submission import failed_report, grade_submission

    if handin.refused:
        worker.stop()
        return failed_report(handin.notebook, handin.assignment, hidden, handin.refused)
    from vizgen.engine.suite import Suites

    try:
        suite = (suites or Suites())(handin.assignment, hidden)
        return grade_submission(handin.notebook, handin.assignment, hidden=hidden, config=config, worker=worker,
                                suite=suite)
    except Exception as error:  # noqa: BLE001 - one notebook never stops the class
        worker.stop()
        return failed_report(handin.notebook, handin.assignment, hidden, (
            f"grading this notebook failed ({type(error).__name__}: {str(error)[:300]}): it scores zero for now; "
            "tell the course staff, who can regrade it with --force"))


def grade_many(
    handins: Iterable[Handin],
    hidden: bool = False,
    config: GradingConfig | None = None,
    worker: WorkerHandle | None = None,
    on_report: Callable[[Handin, GradeReport], None] | None = None,
    spawn: Callable[[tuple[str, ...]], WorkerHandle] = spawn_worker,
) -> list[GradeReport]:
    """Grade each hand-in in turn; ``on_report`` is called as soon as each is graded.

    ``spawn`` starts a worker: a fresh interpreter (``spawn.spawn_worker``) or a fork of a
    batch's pre-fork server (``prefork.PreforkServer.spawn``).

    The worker for the next submission starts while the current one is graded (with the
    current assignment's warm imports: the next one is most likely of the same assignment).
    """
    reports: list[GradeReport] = []
    suites = None  # each assignment's checks, read once for the whole loop
    upcoming = worker
    try:
        for handin, more in _with_lookahead(handins):
            current = upcoming or spawn(handin.assignment.warm_imports)
            upcoming = spawn(handin.assignment.warm_imports) if more else None
            if suites is None:  # imports torch: after the first worker started
                from vizgen.engine.suite import Suites

                suites = Suites()
            report = grade_handin(handin, hidden, config, current, suites)
            report.student = handin.student
            reports.append(report)
            if on_report is not None:
                on_report(handin, report)
    finally:
        if upcoming is not None:
            upcoming.stop()
    return reports
