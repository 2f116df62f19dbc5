"""`vizgen grade SUBMISSION.ipynb ... [--hidden] [--json OUT] [--csv OUT]`: the fast grader."""

from __future__ import annotations

import re
from pathlib import Path

from vizgen.config import GradingConfig
from vizgen.grading.assignment import Assignment
from vizgen.grading.engine import grade_submission
from vizgen.grading.results import GradeReport, write_csv, write_json
from vizgen.grading.spawn import Worker, spawn_worker


def _json_name(notebook: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", str(notebook.with_suffix(""))).strip("_") + ".json"


def grade_many(
    notebooks: list[Path],
    tasks: list[Assignment],
    hidden: bool = False,
    json_out: Path | None = None,
    csv_out: Path | None = None,
    config: GradingConfig | None = None,
    worker: Worker | None = None,
) -> list[GradeReport]:
    """Grade each notebook against its assignment (``tasks[i]`` for ``notebooks[i]``, from
    ``resolve_assignment``); write Gradescope JSON (one file, or one per submission in a folder) and CSV.

    The worker for the next submission starts while the current one is graded.
    """
    if len(tasks) != len(notebooks):
        raise ValueError(f"need one assignment per notebook, got {len(tasks)} for {len(notebooks)} notebooks.")
    reports = []
    upcoming = worker or spawn_worker(tasks[0].warm_imports)
    for index, (notebook, task) in enumerate(zip(notebooks, tasks)):
        more = index + 1 < len(notebooks)
        current, upcoming = upcoming, (spawn_worker(tasks[index + 1].warm_imports) if more else None)
        report = grade_submission(notebook, task, hidden=hidden, config=config, worker=current)
        reports.append(report)
        if json_out is not None:
            target = json_out if len(notebooks) == 1 else json_out / _json_name(notebook)
            write_json(report, target)
    if csv_out is not None:
        write_csv(reports, csv_out)
    return reports
