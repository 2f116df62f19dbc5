"""Grading results and their forms: Gradescope's results.json, a CSV row per submission, a table."""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CheckResult:
    name: str  # shown to the student, e.g. "compute_saliency_maps: output shape"
    function: str
    points: float
    score: float
    message: str  # why it failed, or "" when it passed
    hidden: bool
    seconds: float = 0.0
    check_id: str = ""  # the check's test function without "test_", e.g. "saliency_shape"
    figure: str = ""  # a failed check on an image: base64 PNG of the output, expected (public only), difference

    @property
    def passed(self) -> bool:
        return self.score >= self.points

    @property
    def column(self) -> str:
        """The check's short id in tables: ``function:check_id``."""
        return f"{self.function}:{self.check_id or self.name}"


def library_message(function: str, uses: list[str]) -> str:
    """Why a function that uses its operation's library version scores nothing."""
    return (f"{function} uses the library's {', '.join(uses)}: here the task is to implement that operation, so the "
            f"library's version earns nothing on {function}'s checks; write it from tensor operations as the "
            "notebook derives it, then run this check again.")


def forbid(checks: list[CheckResult], uses: dict[str, list[str]]) -> list[CheckResult]:
    """``checks`` where every check of a function in ``uses`` (function -> the forbidden names its code uses)
    scores 0 and says why (``[forbidden]`` in assignment.toml; ``course.library_calls`` reads the code)."""
    return [dataclasses.replace(c, score=0.0, message=library_message(c.function, uses[c.function]))
            if uses.get(c.function) else c for c in checks]


@dataclass
class GradeReport:
    submission: str
    assignment: str
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about the whole submission (e.g. invalid notebook)
    seconds: float = 0.0
    student: str = ""  # the student id in a batch (nbgrader's folder name or the notebook's stem)
    problem: str = ""  # why the whole hand-in could not be graded (unreadable, empty, another assignment's)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage: extract, start, checks, close

    @property
    def score(self) -> float:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def to_gradescope(self) -> dict:
        """Gradescope's autograder results.json format; a failed check with a figure is an HTML test output with
        the figure embedded as a PNG (figures beyond ``FIGURE_BUDGET`` bytes in all are left out)."""
        tests, budget = [], FIGURE_BUDGET
        for c in self.checks:
            test = {"name": c.name, "score": c.score, "max_score": c.points,
                    "status": "passed" if c.passed else "failed", "output": c.message or "passed",
                    "visibility": "after_published" if c.hidden else "visible"}
            if c.figure and not c.passed and len(c.figure) <= budget:
                budget -= len(c.figure)
                test["output"] = figure_html(c.message, c.figure)
                test["output_format"] = "html"
            tests.append(test)
        return {
            "score": self.score,
            "execution_time": round(self.seconds, 3),
            "output": "\n".join(self.notes),
            "stdout_visibility": "hidden",  # the grader's own log is not for students
            "tests": tests,
        }


FIGURE_BUDGET = 600_000  # bytes of base64 PNG per results.json: the whole file stays well under 1 MB


def figure_html(message: str, figure: str) -> str:
    """A check's message and its figure as HTML (the message escaped: a student's text stays text)."""
    return (f"<pre>{html.escape(message)}</pre><img alt=\"your output, and how it differs from the expected one\" "
            f"src=\"data:image/png;base64,{figure}\">")


def write_json(report: GradeReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_gradescope(), indent=2) + "\n")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell no spreadsheet runs as a formula: text that starts like one (a student id "=HYPERLINK(...)")
    is prefixed with a quote. Numbers are left as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def relative_submissions(reports: list[GradeReport]) -> list[str]:
    """Each report's notebook path relative to the folder that holds them all (the class's hand-in folder's
    parent), so a table says ``submitted/ada/vae/VAE.ipynb``, not where this machine keeps it."""
    paths = [Path(r.submission) for r in reports]
    if not paths:
        return []
    try:
        base = Path(os.path.commonpath([p.parent for p in paths])).parent
    except ValueError:  # relative and absolute paths mixed: keep them as given
        return [str(p) for p in paths]
    return [p.relative_to(base).as_posix() if p.is_relative_to(base) else str(p) for p in paths]


def columns_file(path: Path) -> Path:
    """Where ``write_csv`` puts the titles of its check columns: ``grades.csv`` -> ``grades.columns.csv``."""
    return path.with_name(f"{path.stem}.columns.csv")


def write_csv(reports: list[GradeReport], path: Path) -> None:
    """A row per submission: student, relative notebook path, assignment, score, then one short column per check
    (``function:check_id``); ``columns_file(path)`` gives each column's function, title, points and visibility."""
    checks = list({c.column: c for r in reports for c in r.checks}.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_cell(v) for v in
                         ["student", "submission", "assignment", "score", "max_score", *(c.column for c in checks)]])
        for r, submission in zip(reports, relative_submissions(reports)):
            by_column = {c.column: c.score for c in r.checks}
            row = [r.student, submission, r.assignment, r.score, r.max_score,
                   *(by_column.get(c.column, "") for c in checks)]
            writer.writerow([csv_cell(v) for v in row])
    with open(columns_file(path), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["column", "function", "check", "points", "visibility"])
        for c in checks:
            writer.writerow([csv_cell(v) for v in
                             [c.column, c.function, c.name, c.points, "hidden" if c.hidden else "public"]])


def format_checks(report: GradeReport, figures: dict[str, Path] | None = None) -> str:
    """One line per check, for `vizgen check` and the notebook's test cells; ``figures``: check name -> the PNG
    saved for it, said under its message."""
    lines = []
    for c in report.checks:
        mark = "PASS" if c.passed else "FAIL"
        line = f"{mark} {c.name} [{c.score:g}/{c.points:g}]"
        if not c.passed:
            line += f"\n     {c.message}"
            line += f"\n     figure: {figures[c.name]}" if figures and c.name in figures else ""
        lines.append(line)
    return "\n".join(lines)


def failure_lines(report: GradeReport) -> list[str]:
    """One line per failed check; checks of one function failing with the same message share a line; none for a
    hand-in that is not this assignment's work (its note says so once)."""
    if report.problem:  # the whole hand-in: its note says why, once
        return []
    groups: dict[tuple[str, str], list[CheckResult]] = {}
    for c in report.checks:
        if not c.passed:
            groups.setdefault((c.function, c.message), []).append(c)
    lines = []
    for (function, message), checks in groups.items():
        what = checks[0].name if len(checks) == 1 else f"{function} ({len(checks)} checks)"
        lines.append(f"FAIL {what}: {message}")
    return lines


def format_table(reports: list[GradeReport]) -> str:
    width = max([len(r.submission) for r in reports] + [10])
    rows = [f"{'submission':<{width}}  {'score':>11}  {'passed':>7}  {'seconds':>7}"]
    for r in reports:
        passed = sum(c.passed for c in r.checks)
        rows.append(
            f"{r.submission:<{width}}  {r.score:>5g}/{r.max_score:<5g}  {passed:>3}/{len(r.checks):<3}  "
            f"{r.seconds:>7.2f}"
        )
    return "\n".join(rows)
