"""The result store of a batch: one Gradescope ``results.json`` per student, written atomically.

``<out>/students/<student>/<assignment>/results.json`` (apart from the class files in ``<out>``, so
that no student id can collide with one) holds Gradescope's fields plus ``extra_data``
(Gradescope's field for extra data: the check's function, points and timing; the student, the
notebook and its SHA-256). Each file is written to a temporary name and renamed, so a batch
killed half-way leaves only whole results; a rerun skips a student whose result matches the
same notebook and the same checks (public only, or with hidden).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vizgen.engine.results import CheckResult, GradeReport


STUDENTS = "students"  # the per-student results' folder in a store


def notebook_digest(notebook: Path) -> str:
    try:
        return hashlib.sha256(notebook.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def to_record(report: GradeReport, student: str, digest: str, hidden: bool) -> dict:
    record = report.to_gradescope()
    record["extra_data"] = {
        "student": student, "submission": report.submission, "assignment": report.assignment,
        "notes": report.notes, "problem": report.problem, "notebook_sha256": digest, "hidden": hidden,
        "stages": {k: round(v, 4) for k, v in report.stages.items()},
    }
    for test, check in zip(record["tests"], report.checks):
        test["extra_data"] = {"function": check.function, "check": check.check_id, "hidden": check.hidden,
                              "seconds": round(check.seconds, 4), "message": check.message}
    return record


def from_record(record: dict) -> GradeReport:
    extra = record["extra_data"]
    checks = [
        CheckResult(
            name=t["name"], function=t["extra_data"]["function"], points=t["max_score"], score=t["score"],
            message=t["extra_data"].get("message", "" if t["status"] == "passed" else t["output"]),
            hidden=t["extra_data"]["hidden"], figure=_figure(t),
            seconds=t["extra_data"]["seconds"], check_id=t["extra_data"].get("check", ""),
        )
        for t in record["tests"]
    ]
    return GradeReport(submission=extra["submission"], assignment=extra["assignment"], checks=checks,
                       notes=list(extra["notes"]), seconds=record["execution_time"], student=extra["student"],
                       problem=extra.get("problem", ""), stages=dict(extra.get("stages", {})))


def _figure(test: dict) -> str:
    """The base64 PNG embedded in a test's HTML output, or ""."""
    found = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', test["output"]) \
        if test.get("output_format") == "html" else None
    return found.group(1) if found else ""


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class ResultStore:
    root: Path

    def path(self, student: str, assignment: str) -> Path:
        return self.root / STUDENTS / student / assignment / "results.json"

    def save(self, report: GradeReport, student: str, digest: str, hidden: bool) -> Path:
        path = self.path(student, report.assignment)
        write_atomic(path, json.dumps(to_record(report, student, digest, hidden), indent=2) + "\n")
        return path

    def load(self, student: str, assignment: str) -> dict | None:
        try:
            return json.loads(self.path(student, assignment).read_text())
        except (OSError, ValueError):
            return None  # absent, or not a result this store wrote: grade again

    def finished(self, student: str, assignment: str, digest: str, hidden: bool) -> GradeReport | None:
        """The stored report if it graded this very notebook with the same checks, else None."""
        record = self.load(student, assignment)
        try:
            same = record["extra_data"]["notebook_sha256"] == digest and record["extra_data"]["hidden"] == hidden
            return from_record(record) if same else None
        except (KeyError, TypeError):
            return None
