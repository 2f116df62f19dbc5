"""nbgrader's execute step, with each test cell scored by the check server's record, not the kernel.

Under `nbgrader autograde` the student's own cells run in the same kernel as the test cells, so a
cell can replace the checker (``vizgen.check.run_cell``) and make a test cell print any score.
``RecordedExecute`` (configured in ``nbgrader_config.py`` in place of nbgrader's ``Execute``) gives
the kernel a folder to record in that the kernel cannot write (``VIZGEN_SCORES``) and the assignment
its check server serves (``VIZGEN_ASSIGNMENT``); the check server writes there the score of every
check run it makes (``kernel.Records``). After the notebook has run, each test cell ``check_<fn>``
gets, as its only outputs, the recorded checks' text and score. A part of a cell whose checks left no
record (a cell replaced or bypassed the checker) is graded here instead, the way `vizgen grade` grades
(the function read from its cell and run in the sandbox), and the cell says so. Either way the score
is the grader's, and equals `vizgen grade`'s; nbgrader's ``SaveAutoGrades`` reads it as the cell's
partial credit.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import Execute

from vizgen.engine.kernel import ASSIGNMENT_ENV, RECORD_FILE, SCORES_ENV

_HIDDEN_CALL = re.compile(r"run_cell\(.*hidden\s*=\s*True")


def read_records(folder: Path) -> dict[tuple[str, bool], dict]:
    """The check server's records in ``folder``: (function, hidden) -> {score, max_score, text}."""
    try:
        entries = json.loads((Path(folder) / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {(e["function"], bool(e["hidden"])): e for e in entries if isinstance(e, dict) and "function" in e}


def _reported(cell: NotebookNode) -> float | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "execute_result":
            try:
                return float(output["data"]["text/plain"])
            except (KeyError, TypeError, ValueError):
                return None
    return None


def _test_cells(nb: NotebookNode):
    """(cell, function, hidden): each test cell ``check_<fn>``, and whether it runs the hidden checks. Its score
    is then the record of that run: ``run_cell(..., hidden=True)`` runs the public checks and the hidden ones."""
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id", "")
        if (cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")
                and grade_id.startswith("check_")):
            yield cell, grade_id[len("check_"):], bool(_HIDDEN_CALL.search(cell.source))


@contextlib.contextmanager
def _saved(nb: NotebookNode, name: str):
    """The executed notebook written to a scratch folder under ``name``, for the grader to read as a hand-in."""
    import nbformat

    with tempfile.TemporaryDirectory(prefix="vizgen-graded-") as folder:
        notebook = Path(folder) / name
        nbformat.write(nb, notebook)
        yield notebook


def regrade_unrecorded(nb: NotebookNode, assignment: str, records: dict[tuple[str, bool], dict]) -> None:
    """Grade, as `vizgen grade` does, the functions whose checks left no record; add them to ``records``."""
    missing = {(function, hidden) for _, function, hidden in _test_cells(nb) if (function, hidden) not in records}
    if not missing:
        return
    from vizgen.course.assignment import load_assignment
    from vizgen.course.config import course_paths
    from vizgen.engine.results import GradeReport, format_checks
    from vizgen.engine.submission import grade_submission

    task = load_assignment(course_paths(), assignment)
    with _saved(nb, task.notebook) as notebook:
        report = grade_submission(notebook, task, hidden=True)
    for function, hidden in missing:  # as the check server records them: the hidden run holds the public checks too
        checks = [c for c in report.checks if c.function == function and (hidden or not c.hidden)]
        part = GradeReport(submission="this notebook", assignment=assignment, checks=checks)
        records[function, hidden] = {
            "function": function, "hidden": hidden, "score": part.score, "max_score": part.max_score,
            "figures": [c.figure for c in checks if c.figure and not c.passed],
            "text": f"{function}: the {'hidden' if hidden else 'public'} checks did not run through the grader's check "
                    f"server (a cell replaced or bypassed the checker); the grader ran them instead:\n"
                    + format_checks(part)}


def forbid_records(nb: NotebookNode, assignment: str, records: dict[tuple[str, bool], dict]) -> None:
    """Zero the records of functions whose code uses a library name their assignment forbids (read from the
    notebook here, in the grader, as `vizgen grade` reads it)."""
    from vizgen.course.assignment import load_assignment
    from vizgen.course.config import course_paths
    from vizgen.course.library_calls import library_uses
    from vizgen.course.notebook import extract_submission
    from vizgen.engine.results import library_message

    task = load_assignment(course_paths(), assignment)
    if not task.config.forbidden:
        return
    with _saved(nb, task.notebook) as notebook:
        submission = extract_submission(notebook)
    for (function, _), entry in records.items():
        uses = library_uses(submission, function, task.forbidden(function))
        if uses:
            entry["score"] = 0.0
            entry["text"] = f"{function}: {library_message(function, uses)}\n" + entry["text"]


def apply_records(nb: NotebookNode, records: dict[tuple[str, bool], dict]) -> None:
    """Replace each test cell's outputs by what the grader recorded for its function."""
    for cell, function, hidden in _test_cells(nb):
        meta = cell.metadata["nbgrader"]
        entry = records.get((function, hidden))
        if entry is None:  # only when no assignment was known to regrade with
            lines, score = [f"{function}: its checks left no record: 0 points."], 0.0
        else:
            lines, score = [entry["text"]], float(entry["score"])
        points = float(meta.get("points", 0))
        if score > points:  # the checks are worth more than the cell: a broken contract (test_course catches it)
            lines.append(f"{function}: the checks gave {score:g} points but the cell is worth {points:g}: tell the "
                         "course staff (their test cell's points and its checks disagree).")
            score = points
        reported = _reported(cell)
        if reported is not None and abs(reported - score) > 1e-9:
            lines.append(f"{function}: this cell reported {reported:g} points; the grader recorded {score:g}, "
                         "which count.")
        lines.append(f"{function}: {score:g}/{points:g} points.")
        figures = [NotebookNode(output_type="display_data", metadata={}, data={"image/png": figure})
                   for figure in (entry or {}).get("figures", []) if isinstance(figure, str)]
        cell.outputs = [
            NotebookNode(output_type="stream", name="stdout", text="\n".join(lines) + "\n"), *figures,
            NotebookNode(output_type="execute_result", execution_count=cell.get("execution_count"), metadata={},
                         data={"text/plain": repr(score)}),
        ]


class RecordedExecute(Execute):
    """nbgrader's ``Execute``, whose test cells are scored by the check server's records."""

    def preprocess(self, nb, resources, *args, **kwargs):
        folder = tempfile.mkdtemp(prefix="vizgen-scores-")
        saved = {key: os.environ.get(key) for key in (SCORES_ENV, ASSIGNMENT_ENV)}
        os.environ[SCORES_ENV] = folder
        assignment = (resources or {}).get("nbgrader", {}).get("assignment")
        if assignment:
            os.environ[ASSIGNMENT_ENV] = str(assignment)
        else:
            os.environ.pop(ASSIGNMENT_ENV, None)
        try:
            nb, resources = super().preprocess(nb, resources, *args, **kwargs)
            records = read_records(Path(folder))
            if assignment:
                regrade_unrecorded(nb, str(assignment), records)
                forbid_records(nb, str(assignment), records)
            apply_records(nb, records)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            shutil.rmtree(folder, ignore_errors=True)
        return nb, resources
