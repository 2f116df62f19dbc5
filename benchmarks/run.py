"""Benchmarks: grading time (vizgen vs nbgrader autograde) and the notebook's end-to-end time.

Run with `make bench` (or `.venv/bin/python benchmarks/run.py [--skip-notebook]`). Prints a
Markdown table for the README and writes benchmarks/results.json. Timings are wall-clock on
this machine; the README says which machine gave its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vizgen.course.config import CoursePaths  # noqa: E402
from vizgen.course.assignment import available, load_assignment  # noqa: E402
from vizgen.release.nbgrader_course import make_course  # noqa: E402


def time_vizgen_grade(notebook: Path, repeats: int) -> list[float]:
    """Wall time of the whole `vizgen grade --hidden` command: interpreter start, imports, checks."""
    vizgen = Path(sys.executable).with_name("vizgen")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(vizgen), "grade", "--hidden", str(notebook)], cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def time_nbgrader_autograde(paths: CoursePaths, assignment, notebook: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="vizgen-bench-") as tmp:
        course = make_course(paths, [assignment], Path(tmp) / "course")
        course.submit("bench", assignment.name, notebook)
        return course.autograde("bench")


def _cell_seconds(cell) -> float:
    """How long one executed cell ran, from the timestamps nbclient records in its metadata."""
    execution = cell.metadata.get("execution", {})
    began, ended = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
    if not (began and ended):
        return 0.0
    began, ended = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (began, ended))
    return (ended - began).total_seconds()


def time_notebook(notebook: Path, slowest: int = 5) -> tuple[float, list[dict]]:
    """Wall time of the whole notebook, and its `slowest` cells (index, first line, seconds)."""
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start, slowest_cells(nb, slowest)


def slowest_cells(nb, count: int = 5) -> list[dict]:
    """The ``count`` slowest code cells of an executed notebook: index, first line, seconds."""
    cells = [{"cell": i, "first_line": c.source.split("\n", 1)[0][:80], "seconds": round(_cell_seconds(c), 1)}
             for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return sorted(cells, key=lambda c: -c["seconds"])[:count]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-notebook", action="store_true", help="skip the end-to-end notebook runs")
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable); default: all")
    args = parser.parse_args()
    paths = CoursePaths(ROOT)
    rows, results = [], {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "assignments": {}}
    for name in args.assignment or available(paths):
        task = load_assignment(paths, name)
        grade = time_vizgen_grade(task.solution_notebook, args.repeats)
        autograde = time_nbgrader_autograde(paths, task, task.solution_notebook)
        entry = {
            "vizgen_grade_s": statistics.median(grade),
            "vizgen_grade_runs_s": grade,
            "nbgrader_autograde_s": autograde,
            "speedup": autograde / statistics.median(grade),
        }
        if not args.skip_notebook:
            entry["notebook_s"], entry["slowest_cells"] = time_notebook(task.solution_notebook)
            entry["load_average_after"] = os.getloadavg()
        results["assignments"][name] = entry
        notebook = f"{entry['notebook_s']:.0f} s" if "notebook_s" in entry else "not run"
        rows.append(f"| {name} | {entry['vizgen_grade_s']:.2f} s | {autograde:.1f} s | {entry['speedup']:.1f}x "
                    f"| {notebook} |")
    print(f"Machine: {results['machine']}\n")
    print("| assignment | `vizgen grade --hidden` (median) | `nbgrader autograde` | ratio | notebook end to end |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
