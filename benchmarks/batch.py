"""Benchmark: grading a class of 200 network visualization submissions with `vizgen grade --jobs N`.

The class is built from the solution notebook as tests/engine/scenarios.py does: correct, partial (the
sample), untouched (the release) and hostile submissions (each scenario of tests/engine/scenarios.py in
turn: exceptions, sys.exit, a crashing process, a cheat attempt, hooks left behind; two infinite
loops, each costing the 20 s call timeout). Each run is the whole command, from a fresh `--out`.

    .venv/bin/python benchmarks/batch.py [--count 200] [--jobs 1 2]

Prints wall and CPU seconds and the per-submission cost and writes benchmarks/batch.json
(`--fresh` adds a --jobs 1 run with a fresh interpreter per submission, for comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers import replace_solution  # noqa: E402
from engine.scenarios import SCENARIOS  # noqa: E402
from vizgen.course.config import CoursePaths  # noqa: E402
from vizgen.course.assignment import load_assignment  # noqa: E402

INFINITE_LOOPS = 2


def make_class(folder: Path, count: int) -> dict[str, int]:
    """``count`` submissions in nbgrader's layout; returns how many of each kind."""
    task = load_assignment(CoursePaths(ROOT), "network_visualization")
    scenario_dir = folder.parent / "scenarios"
    scenario_dir.mkdir()
    hostile = {}
    for name, (grade_id, source) in SCENARIOS.items():
        hostile[name] = replace_solution(task.solution_notebook, scenario_dir / f"{name}.ipynb", grade_id, source)
    others = [n for n in hostile if n != "infinite-loop"]
    n_hostile = count * 20 // 100
    plan = (["correct"] * (count * 40 // 100) + ["partial"] * (count * 25 // 100)
            + ["untouched"] * (count * 15 // 100))
    plan += ["infinite-loop"] * min(INFINITE_LOOPS, n_hostile)
    plan += [others[i % len(others)] for i in range(n_hostile - min(INFINITE_LOOPS, n_hostile))]
    plan += ["correct"] * (count - len(plan))
    sources = {"correct": task.solution_notebook, "partial": task.dir / "samples" / "partial.ipynb",
               "untouched": task.release_notebook, **hostile}
    for index, kind in enumerate(plan):
        target = folder / f"student{index:03d}" / task.name / task.notebook
        target.parent.mkdir(parents=True)
        shutil.copyfile(sources[kind], target)
    return {kind: plan.count(kind) for kind in dict.fromkeys(plan)}


def time_batch(folder: Path, jobs: int, out: Path, fresh: bool = False) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, of the command and every process it started: on a
    shared machine, CPU / cores is what the batch would take on a quiet one)."""
    vizgen = Path(sys.executable).with_name("vizgen")
    command = [str(vizgen), "grade", str(folder), "--hidden", "--jobs", str(jobs), "--out", str(out), "--force"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command + (["--fresh-workers"] if fresh else []), cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--fresh", action="store_true", help="also --jobs 1 with a fresh interpreter per submission")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("batch.json"))
    args = parser.parse_args()
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "count": args.count, "runs": {},
              "load_average_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="vizgen-batch-") as tmp:
        folder = Path(tmp) / "submitted"
        result["mix"] = make_class(folder, args.count)
        runs = [(str(jobs), jobs, False) for jobs in args.jobs] + ([("1-fresh", 1, True)] if args.fresh else [])
        for label, jobs, fresh in runs:
            seconds, cpu = time_batch(folder, jobs, Path(tmp) / f"graded-{label}", fresh)
            result["runs"][label] = {"seconds": round(seconds, 1), "per_submission_s": round(seconds / args.count, 3),
                                     "cpu_s": round(cpu, 1), "cpu_per_submission_s": round(cpu / args.count, 3)}
            print(f"--jobs {label}: {seconds:.1f} s for {args.count} submissions ({seconds / args.count:.2f} s each; "
                  f"{cpu:.0f} CPU s)")
    result["load_average_after"] = os.getloadavg()[0]
    base = result["runs"].get("1")
    for jobs, run in result["runs"].items():
        if base:
            run["speedup_vs_1"] = round(base["seconds"] / run["seconds"], 2)
    result["date_utc"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
