"""Each solution notebook top to bottom from a fresh clone, as a student runs it: `jupyter nbconvert --execute`.

    .venv/bin/python benchmarks/notebooks.py [--assignment NAME ...] [--out FILE.json]

Clones the committed course (HEAD) into a temporary folder, fetches the assets there (`vizgen fetch`), and
runs each solution notebook with nbconvert, one at a time, on all of this machine's cores; the clone's own
`vizgen` is imported (PYTHONPATH), so nothing left in the working copy (checkpoints, family records, fetched
files) helps. For each notebook it records the wall time, the load average before and after, the slowest
cells, and the lines the notebook prints for its targets, and judges them: a notebook that fails, runs over
its budget or misses a target makes the script exit with status 1. Run it with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.run import slowest_cells  # noqa: E402
from vizgen.course.assignment import available, load_assignment  # noqa: E402
from vizgen.course.config import CoursePaths  # noqa: E402


@dataclass(frozen=True)
class Target:
    """A promise a notebook prints: ``pattern`` finds its lines in the output, ``met`` judges the matches."""

    promise: str
    pattern: str
    met: Callable[[list[tuple[str, ...]]], bool]

    def judge(self, printed: str) -> dict:
        """The promise, the printed lines that state it, and whether they meet it."""
        matches = [m if isinstance(m, tuple) else (m,) for m in re.findall(self.pattern, printed)]
        lines = [line for line in printed.splitlines() if re.search(self.pattern, line)]
        return {"promise": self.promise, "lines": lines, "met": bool(self.met(matches))}


def _survivors(matches: list[tuple[str, ...]]) -> bool:
    return len(matches) >= 5 and sum(answer == "yes" for _, answer in matches) >= 4


def _fast_style_keeps(matches: list[tuple[str, ...]]) -> bool:
    return len(matches) == 1 and int(matches[0][0]) >= int(matches[0][2]) and matches[0][1] == matches[0][3]


def _speedup(matches: list[tuple[str, ...]]) -> bool:
    return len(matches) == 1 and float(matches[0][0]) >= 100


def _nll(matches: list[tuple[str, ...]]) -> bool:
    return len(matches) >= 1 and float(matches[-1][0]) <= 100


BUDGET_S = {"network_visualization": 300}  # the others: 10 minutes
TARGETS = {
    "network_visualization": [
        Target("the class survives blur + 2x downscale for at least 4 of 5 classes",
               r"class visualization (.+): survives blur\+downscale (yes|no)", _survivors),
    ],
    "style_transfer": [
        Target("the fast network keeps the class at least as often as the optimisation-based transfer",
               r"fast style keeps the class of (\d+)/(\d+) photos; optimisation-based: (\d+)/(\d+)", _fast_style_keeps),
        Target("the fast network stylises at least 100x faster", r"\(training excluded\): ([\d.]+)x faster", _speedup),
    ],
    "pixelcnn": [
        Target("test NLL at most 100 nats (10,000 test digits)", r"epochs?: test NLL ([\d.]+) nats per image", _nll),
    ],
}


def machine() -> str:
    """The hardware the figures come from, e.g. "x86_64, 2 cores, Intel(R) Xeon(R) Processor"."""
    cpuinfo = Path("/proc/cpuinfo")
    names = re.findall(r"model name\s*:\s*(.+)", cpuinfo.read_text()) if cpuinfo.exists() else []
    return f"{platform.machine()}, {os.cpu_count()} cores, {names[0] if names else platform.processor() or 'cpu'}"


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _printed(nb) -> str:
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                     if o.output_type == "stream")


def fresh_clone(work: Path) -> Path:
    """HEAD of this repository cloned into ``work``, with its assets fetched; returns the clone's root."""
    course = work / "course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(course)], check=True)
    subprocess.run([str(Path(sys.executable).with_name("vizgen")), "fetch"], cwd=course, check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(course)})
    return course


def run_notebook(course: Path, name: str) -> dict:
    """Run one solution notebook in the clone with nbconvert; its time, slowest cells and judged targets."""
    notebook = load_assignment(CoursePaths(course), name).solution_notebook
    executed = notebook.with_name("executed.ipynb")
    jupyter = Path(sys.executable).with_name("jupyter")
    before = _load()
    start = time.perf_counter()
    done = subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--output", executed.name,
                           "--ExecutePreprocessor.timeout=1800", str(notebook)],
                          cwd=notebook.parent, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(course)})
    seconds = time.perf_counter() - start
    entry = {"seconds": round(seconds, 1), "load_before": before, "load_after": _load(),
             "budget_s": BUDGET_S.get(name, 600), "ran": done.returncode == 0}
    if done.returncode != 0:
        entry["error"] = done.stderr[-2000:]
        return entry
    nb = nbformat.read(executed, as_version=4)
    entry["slowest_cells"] = slowest_cells(nb)
    printed = _printed(nb)
    entry["targets"] = [target.judge(printed) for target in TARGETS.get(name, [])]
    return entry


def passed(entry: dict) -> bool:
    return entry["ran"] and entry["seconds"] <= entry["budget_s"] and all(t["met"] for t in entry["targets"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable); default: all")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    names = args.assignment or available(CoursePaths(ROOT))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    results = {"date": datetime.now(timezone.utc).isoformat(timespec="minutes"), "commit": commit.stdout.strip(),
               "machine": machine(),
               "command": "jupyter nbconvert --to notebook --execute (fresh clone)", "notebooks": {}}
    with tempfile.TemporaryDirectory(prefix="vizgen-notebooks-") as tmp:
        course = fresh_clone(Path(tmp))
        for name in names:
            entry = results["notebooks"][name] = run_notebook(course, name)
            verdict = "ok" if passed(entry) else "FAILED"
            print(f"{name}: {entry['seconds']:.0f} s (budget {entry['budget_s']} s), load {entry['load_before']} -> "
                  f"{entry['load_after']}: {verdict}", flush=True)
            for target in entry.get("targets", []):
                print(f"  {'met' if target['met'] else 'MISSED'}: {target['promise']}")
                for line in target["lines"]:
                    print(f"    {line}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(passed(e) for e in results["notebooks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
