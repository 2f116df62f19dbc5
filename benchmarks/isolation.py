"""What kernel confinement costs: `vizgen grade --hidden` with Landlock vs with the audit hooks alone.

Both variants fork one process per graded function; they differ only in the confinement the worker
applies before student code runs (and the nested domain each function's process adds). Runs are
interleaved (A, B, A, B, ...) so that the machine's drift hits both alike. Exits 1 when the median
cost exceeds the limit the README promises (50 ms per submission).

    .venv/bin/python benchmarks/isolation.py [--repeats 7] [--limit-ms 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vizgen.config import CoursePaths  # noqa: E402
from vizgen.grading import confine  # noqa: E402
from vizgen.grading.assignment import available, load_assignment  # noqa: E402


def grade_once(notebook: Path, level: str) -> float:
    vizgen = Path(sys.executable).with_name("vizgen")
    start = time.perf_counter()
    subprocess.run([str(vizgen), "grade", "--hidden", "--isolation", level, str(notebook)], cwd=ROOT, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--limit-ms", type=float, default=50.0)
    args = parser.parse_args()
    if not confine.plan().kernel or confine.plan().level != "landlock":
        print(f"no Landlock here ({confine.plan().describe()}): nothing to compare")
        return 0
    results = {}
    for name in available(CoursePaths(ROOT)):
        notebook = load_assignment(CoursePaths(ROOT), name).solution_notebook
        grade_once(notebook, "landlock")  # warm the file cache
        runs: dict[str, list[float]] = {"landlock": [], "audit-hooks": []}
        for _ in range(args.repeats):
            for level in runs:
                runs[level].append(grade_once(notebook, level))
        medians = {level: statistics.median(times) for level, times in runs.items()}
        paired = statistics.median(a - b for a, b in zip(runs["landlock"], runs["audit-hooks"]))
        results[name] = {"median_s": medians, "paired_cost_ms": paired * 1000, "runs_s": runs}
        print(f"{name}: landlock {medians['landlock']:.2f} s, audit hooks only {medians['audit-hooks']:.2f} s, "
              f"confinement costs {paired * 1000:+.0f} ms (median of paired differences)")
    (ROOT / "benchmarks" / "isolation.json").write_text(json.dumps(results, indent=2) + "\n")
    worst = max(r["paired_cost_ms"] for r in results.values())
    if worst > args.limit_ms:
        print(f"confinement costs {worst:.0f} ms > {args.limit_ms:.0f} ms")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
