"""Benchmarks: one submission graded cold (vizgen vs nbgrader autograde, against the floor of starting Python
and importing torch), and the notebook's end-to-end time.

Run with `make bench` (or `.venv/bin/python benchmarks/run.py [--skip-notebook]`). For each assignment,
alternately: `python -c "import torch"` (the floor) and the whole `vizgen grade --hidden` command on the
solution, ``--repeats`` times each (median), then `nbgrader autograde` on the same notebook once. Target:
vizgen within ``FLOOR_MARGIN_S`` of the floor. Prints a Markdown table and writes benchmarks/results.json
(or ``--out``) with the load average; exit 1 when an assignment misses the target.
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


FLOOR_MARGIN_S = 1.0


def time_floor_and_grade(notebook: Path, repeats: int) -> tuple[list[float], list[float]]:
    """``repeats`` pairs, alternated so that both see the same machine: the interpreter with torch imported,
    then the whole `vizgen grade --hidden` command."""
    floor, grade = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True, capture_output=True)
        floor.append(time.perf_counter() - start)
        grade += time_vizgen_grade(notebook, 1)
    return floor, grade


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-notebook", action="store_true", help="skip the end-to-end notebook runs")
    parser.add_argument("--skip-nbgrader", action="store_true", help="skip nbgrader autograde")
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable); default: all")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args()
    paths = CoursePaths(ROOT)
    rows = []
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores",
               "date_utc": datetime.utcnow().strftime("%Y-%m-%d %H:%M"), "assignments": {}}
    for name in args.assignment or available(paths):
        task = load_assignment(paths, name)
        load = os.getloadavg()[0]
        floor, grade = time_floor_and_grade(task.solution_notebook, args.repeats)
        entry = {"load_before": load, "torch_import_s": statistics.median(floor), "torch_import_runs_s": floor,
                 "vizgen_grade_s": statistics.median(grade), "vizgen_grade_runs_s": grade}
        entry["above_floor_s"] = entry["vizgen_grade_s"] - entry["torch_import_s"]
        entry["met"] = entry["above_floor_s"] <= FLOOR_MARGIN_S
        if not args.skip_nbgrader:
            entry["nbgrader_autograde_s"] = time_nbgrader_autograde(paths, task, task.solution_notebook)
            entry["speedup"] = entry["nbgrader_autograde_s"] / entry["vizgen_grade_s"]
        if not args.skip_notebook:
            entry["notebook_s"], entry["slowest_cells"] = time_notebook(task.solution_notebook)
        entry["load_after"] = os.getloadavg()[0]
        results["assignments"][name] = entry
        autograde = (f"{entry['nbgrader_autograde_s']:.1f} s | {entry['speedup']:.1f}x" if "speedup" in entry
                     else "not run | -")
        rows.append(f"| {name} | {entry['vizgen_grade_s']:.2f} s | {entry['torch_import_s']:.2f} s | "
                    f"{entry['above_floor_s']:+.2f} s{'' if entry['met'] else ' (missed)'} | {autograde} | "
                    f"{load:.1f}-{entry['load_after']:.1f} |")
    print(f"Machine: {results['machine']}, {results['date_utc']} UTC\n")
    print("| assignment | `vizgen grade --hidden` (median) | `import torch` (median) | above the floor | "
          "`nbgrader autograde` | ratio | load |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(e["met"] for e in results["assignments"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
