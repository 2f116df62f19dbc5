"""Benchmark: grading a class with `vizgen grade --jobs N`, and where each submission's time goes.

Network visualization's class is built from the solution notebook as tests/engine/scenarios.py does: correct,
partial (the sample), untouched (the release) and hostile submissions (each scenario of
tests/engine/scenarios.py in turn: exceptions, sys.exit, a crashing process, a cheat attempt, hooks left
behind; two infinite loops, each costing the 20 s call timeout). Every other assignment's class mixes its
solution, its partial sample and its release (`--per-assignment`). Each run is the whole command, from a
fresh `--out`.

    .venv/bin/python benchmarks/batch.py [--count 200] [--jobs 1 2] [--per-assignment 20] [--out FILE]

For each run: wall and CPU seconds (every process), and the per-stage profile read from the stored results:
extract (read the notebook), start (hand the worker its cells), checks (the checks themselves, waiting on the
student's code included), other (the worker's start and close), and the lane's own overhead (the lane
seconds, wall x lanes, not spent inside a submission: writing results, the next worker's fork). Targets:
200 network visualization submissions in <= 90 s with --jobs 2; per assignment, lane seconds per submission
<= 1.5x the checks' own time.
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
from vizgen.course.assignment import available, load_assignment  # noqa: E402

INFINITE_LOOPS = 2


def make_class(folder: Path, count: int, name: str = "network_visualization") -> dict[str, int]:
    """``count`` submissions in nbgrader's layout; returns how many of each kind."""
    task = load_assignment(CoursePaths(ROOT), name)
    sources = {"correct": task.solution_notebook, "partial": task.dir / "samples" / "partial.ipynb",
               "untouched": task.release_notebook}
    plan = (["correct"] * (count * 40 // 100) + ["partial"] * (count * 25 // 100)
            + ["untouched"] * (count * 15 // 100))
    if name == "network_visualization":
        scenario_dir = folder.parent / "scenarios"
        scenario_dir.mkdir(exist_ok=True)
        for kind, (grade_id, source) in SCENARIOS.items():
            sources[kind] = replace_solution(task.solution_notebook, scenario_dir / f"{kind}.ipynb", grade_id, source)
        others = [n for n in SCENARIOS if n != "infinite-loop"]
        n_hostile = count * 20 // 100
        plan += ["infinite-loop"] * min(INFINITE_LOOPS, n_hostile)
        plan += [others[i % len(others)] for i in range(n_hostile - min(INFINITE_LOOPS, n_hostile))]
    plan += ["correct"] * (count - len(plan))
    for index, kind in enumerate(plan):
        target = folder / f"student{index:03d}" / task.name / task.notebook
        target.parent.mkdir(parents=True)
        shutil.copyfile(sources[kind], target)
    return {kind: plan.count(kind) for kind in dict.fromkeys(plan)}


def profile(out: Path, wall: float, jobs: int) -> dict:
    """Per-stage seconds per submission (means), from the stored results, and the lanes' own overhead."""
    records = [json.loads(f.read_text()) for f in (out / "students").rglob("results.json")]
    stages: dict[str, float] = {}
    for record in records:
        for stage, seconds in record["extra_data"].get("stages", {}).items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    inside = sum(r["execution_time"] for r in records)
    lanes = wall * min(jobs, len(records))
    result = {f"{stage}_s": round(total / len(records), 3) for stage, total in stages.items()}
    result["lane_overhead_s"] = round((lanes - inside) / len(records), 3)
    result["lane_s_per_submission"] = round(lanes / len(records), 3)
    result["lane_over_checks"] = round(lanes / stages.get("checks", float("nan")), 2)
    return result


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


def run(folder: Path, count: int, jobs: int, out: Path, fresh: bool = False) -> dict:
    seconds, cpu = time_batch(folder, jobs, out, fresh)
    return {"seconds": round(seconds, 1), "per_submission_s": round(seconds / count, 3), "cpu_s": round(cpu, 1),
            "cpu_per_submission_s": round(cpu / count, 3), "load_after": os.getloadavg()[0],
            "profile": profile(out, seconds, jobs)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--fresh", action="store_true", help="also --jobs 1 with a fresh interpreter per submission")
    parser.add_argument("--per-assignment", type=int, default=0, metavar="COUNT",
                        help="also a class of COUNT for every other assignment, graded with the last --jobs")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("batch.json"))
    args = parser.parse_args()
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "count": args.count, "runs": {},
              "load_average_before": os.getloadavg()[0], "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    with tempfile.TemporaryDirectory(prefix="vizgen-batch-") as tmp:
        folder = Path(tmp) / "submitted"
        result["mix"] = make_class(folder, args.count) if args.count else {}
        runs = [(str(jobs), jobs, False) for jobs in args.jobs] + ([("1-fresh", 1, True)] if args.fresh else [])
        runs = runs if args.count else []  # --count 0: the other assignments only
        for label, jobs, fresh in runs:
            result["runs"][label] = entry = run(folder, args.count, jobs, Path(tmp) / f"graded-{label}", fresh)
            each = entry["per_submission_s"]
            print(f"--jobs {label}: {entry['seconds']:.1f} s for {args.count} submissions ({each:.2f} s each; "
                  f"{entry['cpu_s']:.0f} CPU s) {entry['profile']}", flush=True)
        if args.per_assignment:
            jobs = args.jobs[-1]
            result["assignments"] = {}
            for name in available(CoursePaths(ROOT)):
                if name == "network_visualization":
                    continue
                own = Path(tmp) / name / "submitted"
                mix = make_class(own, args.per_assignment, name)
                entry = run(own, args.per_assignment, jobs, Path(tmp) / name / "graded")
                result["assignments"][name] = {"mix": mix, "jobs": jobs, **entry}
                print(f"{name}: {entry['seconds']:.1f} s for {args.per_assignment} ({entry['profile']})", flush=True)
    result["load_average_after"] = os.getloadavg()[0]
    base = result["runs"].get("1")
    for run_entry in result["runs"].values():
        if base:
            run_entry["speedup_vs_1"] = round(base["seconds"] / run_entry["seconds"], 2)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
