"""What kernel confinement costs: `vizgen grade --hidden` with Landlock vs with the audit hooks alone.

Both variants fork one process per graded function; they differ only in the confinement the worker
applies before student code runs (and the nested domain each function's process adds). Runs are
interleaved (A, B, A, B, ...) so that the machine's drift hits both alike. It also times the
confinement itself inside a process (the worker's ruleset, each function's nested domain), which
the whole-command difference is too noisy to resolve on a shared machine; it exits 1 when that cost
for a submission of ten functions exceeds the limit the README promises (50 ms).

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

from vizgen.course.config import CoursePaths  # noqa: E402
from vizgen.sandbox import confine  # noqa: E402
from vizgen.course.assignment import available, load_assignment  # noqa: E402


def grade_once(notebook: Path, level: str) -> float:
    vizgen = Path(sys.executable).with_name("vizgen")
    start = time.perf_counter()
    subprocess.run([str(vizgen), "grade", "--hidden", "--isolation", level, str(notebook)], cwd=ROOT, check=True,
                   capture_output=True)
    return time.perf_counter() - start


_DIRECT = """
import json, os, tempfile, time
from pathlib import Path
from vizgen.course.config import CoursePaths
from vizgen.sandbox import confine, audit as sandbox
paths = CoursePaths(Path(os.environ["VIZGEN_COURSE_ROOT"]))
start = time.perf_counter()
policy = confine.Policy(readable=confine.default_readable([str(paths.cache), str(paths.styles)]),
                        scratch=tempfile.mkdtemp(), denied=tuple(sandbox.default_denied(paths.root)))
confine.confine("landlock", policy)
worker = time.perf_counter() - start
scope = confine.nested_signal_scope()
read, write = os.pipe()
if os.fork() == 0:
    start = time.perf_counter()
    scope.restrict()
    os.write(write, str(time.perf_counter() - start).encode())
    os._exit(0)
os.wait()
print(json.dumps({"worker_ms": worker * 1000, "per_function_ms": float(os.read(read, 64)) * 1000}))
"""


def direct_cost() -> dict:
    """The confinement's own cost, timed inside a process: the worker's ruleset, and each function's
    nested domain (the whole-command A/B below is too noisy on a shared machine to see it)."""
    done = subprocess.run([sys.executable, "-c", _DIRECT], capture_output=True, text=True, check=True,
                          env={**__import__("os").environ, "VIZGEN_COURSE_ROOT": str(ROOT)})
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--limit-ms", type=float, default=50.0)
    args = parser.parse_args()
    if not confine.plan().kernel or confine.plan().level != "landlock":
        print(f"no Landlock here ({confine.plan().describe()}): nothing to compare")
        return 0
    direct = direct_cost()
    print(f"confining the worker: {direct['worker_ms']:.1f} ms; each function's nested domain: "
          f"{direct['per_function_ms']:.2f} ms")
    results: dict = {"direct": direct}
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
    worst = direct["worker_ms"] + 10 * direct["per_function_ms"]  # a submission of ten graded functions
    if worst > args.limit_ms:
        print(f"confinement costs {worst:.0f} ms > {args.limit_ms:.0f} ms")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
