"""Scores into nbgrader's gradebook, so formgrader and `nbgrader export` show the fast grader's results.

Through nbgrader's own ``Gradebook`` API: for each student, the submission is created if needed
and each check cell's (grade_id ``check_<function>``) auto score is set to the sum of that
function's checks, as `nbgrader autograde` would. The gradebook must know the assignment's
cells, which `nbgrader generate_assignment` records.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from pathlib import Path

from vizgen.errors import VizgenError
from vizgen.engine.results import GradeReport


def cell_scores(report: GradeReport) -> dict[str, float]:
    """Points per nbgrader check cell: ``check_<function>`` gets the sum of that function's checks."""
    scores: dict[str, float] = defaultdict(float)
    for check in report.checks:
        scores[f"check_{check.function}"] += check.score
    return dict(scores)


def write_gradebook(database: Path, reports: list[GradeReport], notebooks: dict[str, str] | None = None) -> list[str]:
    """Write every report's cell scores into the gradebook at ``database``; returns what was left out.

    ``notebooks``: assignment -> notebook name without ``.ipynb`` (default: the gradebook's one
    notebook of that assignment).
    """
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    if not Path(database).is_file():
        raise VizgenError(f"{database} does not exist: run `nbgrader generate_assignment ASSIGNMENT` in the course "
                          "folder first (it creates the gradebook and records the check cells).")
    skipped = []
    with Gradebook(f"sqlite:///{Path(database).resolve()}") as gradebook:
        for report in reports:
            try:
                assignment = gradebook.find_assignment(report.assignment)
            except MissingEntry as error:
                raise VizgenError(f"{database} does not know {report.assignment}: run `nbgrader generate_assignment "
                                  f"{report.assignment}` there first (it records the check cells).") from error
            names = [n.name for n in assignment.notebooks]
            notebook = (notebooks or {}).get(report.assignment) or (names[0] if len(names) == 1 else None)
            if notebook is None:
                raise VizgenError(f"{report.assignment} has notebooks {names} in {database}: say which one is graded.")
            student = report.student or Path(report.submission).stem
            gradebook.update_or_create_student(student)
            try:
                gradebook.find_submission(report.assignment, student)
            except MissingEntry:
                with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy's autoflush warnings
                    warnings.simplefilter("ignore", SAWarning)
                    gradebook.add_submission(report.assignment, student)
            for cell, score in cell_scores(report).items():
                try:
                    grade = gradebook.find_grade(cell, notebook, report.assignment, student)
                except MissingEntry:
                    skipped.append(f"{student}: no cell {cell} in {report.assignment}/{notebook}")
                    continue
                grade.auto_score = score
                grade.needs_manual_grade = False
            gradebook.db.commit()
    return skipped
