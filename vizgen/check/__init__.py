"""`vizgen check NOTEBOOK` and the notebooks' own test cells: the student's self-check.

Both run the public checks; the test cells run them on the live notebook functions (and, under
`nbgrader autograde`, the hidden ones too), so nbgrader and `vizgen grade` score alike.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path

from vizgen.course.config import GradingConfig, course_paths
from vizgen.course.assignment import Assignment, load_assignment
from vizgen.sandbox.spawn import WorkerHandle
from vizgen.engine.submission import grade_submission, run_checks
from vizgen.course.manifest import hidden_checks
from vizgen.engine.results import GradeReport, forbid, format_checks
from vizgen.course.library_calls import live_uses
from vizgen.engine.kernel import CHECK_FD_ENV, check_remotely
from vizgen.sandbox.runners import InProcessRunner
from vizgen.author.support import load_support


@contextlib.contextmanager
def _silenced_stderr():
    """Swallow warnings and stderr, Python- and fd-level: nbgrader zeroes a test cell that writes to stderr."""
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def run_cell(assignment: str, function: str, namespace: dict, hidden: bool = False) -> float:
    """Run the checks of one function on the notebook's own definitions; print them, return the score.

    nbgrader reads the returned number as the cell's partial credit (the cell's points are the
    sum of the checks' points).
    """
    check_fd = os.environ.get(CHECK_FD_ENV)
    with _silenced_stderr():
        if check_fd:  # a confined grading kernel: the check server beside it runs the checks
            try:
                results = check_remotely(int(check_fd), assignment, function, namespace, hidden)
            except PermissionError as refused:
                print(f"{function}: not checked: {refused}.")
                return 0.0
        else:
            paths = course_paths()
            task = load_assignment(paths, assignment)
            runner = InProcessRunner(namespace, task.starter_signatures(), paths, load_support(task.probes_file))
            results = run_checks(task, runner, hidden=hidden, functions=(function,))
            results = forbid(results, {function: live_uses(namespace, function, task.forbidden(function))})
    report = GradeReport(submission="this notebook", assignment=assignment, checks=results)
    print(format_checks(report))
    show_figures(report)
    if hidden:
        print(f"{function}: {report.score:g}/{report.max_score:g} points.")
    else:  # the cell is worth more than the public checks: say so rather than print "0/2 points" for a 4-point cell
        print(f"{function}: {report.score:g} of the {report.max_score:g} public-check points; the hidden checks, "
              "run at grading, give the rest of this cell's points.")
    return float(report.score)


def show_figures(report: GradeReport) -> None:
    """In a Jupyter kernel, each failed check's figure below the messages (``image/png`` output)."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return
    if get_ipython() is None:
        return
    for check in report.checks:
        if check.figure and not check.passed:
            display(Image(data=base64.b64decode(check.figure), format="png"))


def save_figures(report: GradeReport, folder: Path) -> dict[str, Path]:
    """Each failed check's figure as ``folder/<function>-<check>.png``, for a terminal; check name -> path."""
    saved = {}
    for check in report.checks:
        if check.figure and not check.passed:
            path = folder / f"{check.function}-{check.check_id or len(saved)}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(check.figure))
            saved[check.name] = path
    return saved


def hidden_summary(task: Assignment) -> str:
    """How many hidden checks run at grading, for how many points, and what each judges (its title,
    from the shipped manifest; never its inputs)."""
    order = {name: i for i, name in enumerate(task.starter_signatures())}  # notebook order
    checks = sorted(hidden_checks(task), key=lambda c: order.get(c["function"], len(order)))
    lines = [f"{len(checks)} hidden checks ({sum(c['points'] for c in checks):g} points) run at grading:"]
    lines += [f"  {c['function']}: {c['title']} [{c['points']:g}]" for c in checks]
    return "\n".join(lines)


def check_notebook(
    notebook: Path, task: Assignment, config: GradingConfig | None = None, worker: WorkerHandle | None = None
) -> GradeReport:
    """Grade a notebook with the public checks only (the student's self-check)."""
    return grade_submission(Path(notebook), task, hidden=False, config=config, worker=worker)
