"""Benchmark: how long each check cell takes in a warm Jupyter kernel, for every assignment.

Each solution notebook runs in a real kernel (nbclient) as `nbgrader autograde` runs it (heavy driver and
figure cells skipped: ``NBGRADER_EXECUTION`` set), then each of its check cells (``run_cell(...)``) is run
again ``--repeats`` times: the first run may pay start-up once, the reruns are what a student waits for
when rerunning the public checks of one function. Targets: every warm check cell <= 0.5 s, the median of
all of them <= 0.25 s.

    .venv/bin/python benchmarks/check_cells.py [--repeats 3] [--out benchmarks/check_cells_DATE.json]

Run it with nothing else on the machine; it records the load average before and after each notebook.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vizgen.course.assignment import available, load_assignment  # noqa: E402
from vizgen.course.config import CoursePaths  # noqa: E402

WARM_LIMIT_S, MEDIAN_LIMIT_S = 0.5, 0.25


def time_check_cells(notebook: Path, repeats: int) -> dict[str, dict]:
    """{function: {"first": s, "warm": [s, ...]}} for each check cell of ``notebook``."""
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(notebook.parent)}})
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # the kernel inherits it: driver cells skipped
    timings: dict[str, dict] = {}
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            client.execute_cell(cell, index)
            seconds = time.perf_counter() - start
            if "run_cell(" not in cell.source:
                continue
            function = cell.source.split("run_cell(", 1)[1].split(",")[1].strip().strip("\"'")
            warm = []
            for _ in range(repeats):
                start = time.perf_counter()
                client.execute_cell(cell, index)
                warm.append(time.perf_counter() - start)
            timings[function] = {"first": round(seconds, 3), "warm": [round(s, 3) for s in warm]}
    del os.environ["NBGRADER_EXECUTION"]
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    paths = CoursePaths(ROOT)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "assignments": {}}
    for name in args.assignment or available(paths):
        load = os.getloadavg()[0]
        cells = time_check_cells(load_assignment(paths, name).solution_notebook, args.repeats)
        result["assignments"][name] = {"load_before": load, "load_after": os.getloadavg()[0], "cells": cells}
        for function, t in cells.items():
            warm = statistics.median(t["warm"])
            print(f"{name:34s} {function:32s} first {t['first']:.2f} s, warm median {warm:.3f} s")
    warm = [statistics.median(t["warm"]) for a in result["assignments"].values() for t in a["cells"].values()]
    result["warm_median_s"], result["warm_max_s"] = statistics.median(warm), max(warm)
    result["met"] = result["warm_max_s"] <= WARM_LIMIT_S and result["warm_median_s"] <= MEDIAN_LIMIT_S
    print(f"{len(warm)} check cells: warm median {result['warm_median_s']:.3f} s (<= {MEDIAN_LIMIT_S}), slowest "
          f"{result['warm_max_s']:.3f} s (<= {WARM_LIMIT_S}): {'met' if result['met'] else 'MISSED'}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
