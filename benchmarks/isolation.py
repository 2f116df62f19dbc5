"""What the sandbox's walls cost, and whether grading stays as fast as a baseline commit's.

1. The walls themselves, timed inside processes (the whole-command difference is too noisy on a shared
   machine to resolve them): the worker's Landlock ruleset, its PID namespace (``contain.enter``: one
   fork and a ``/proc`` mount), and per graded function the nested domain (built and enforced) and the
   seccomp filter. It exits 1 when they cost more than ``--limit-ms`` for a submission of ten functions.
2. With ``--baseline REF``: `vizgen grade --hidden` on every assignment's solution, this tree against the
   commit REF (checked out in a scratch worktree), interleaved (A, B, A, B, ...) so that the machine's
   drift hits both alike; it exits 1 when a median is more than ``--slower`` (10%) above the baseline's.

    .venv/bin/python benchmarks/isolation.py [--repeats 5] [--limit-ms 50] [--baseline 8a25ab4]

Results go to benchmarks/isolation.json with the date, the CPU and the load average.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vizgen.course.assignment import available, load_assignment  # noqa: E402
from vizgen.course.config import CoursePaths  # noqa: E402
from vizgen.sandbox import confine  # noqa: E402

_DIRECT = """
import json, os, tempfile, time
from pathlib import Path
from vizgen.course.config import CoursePaths
from vizgen.sandbox import audit, confine, contain, seccomp
paths = CoursePaths(Path(os.environ["VIZGEN_COURSE_ROOT"]))
read, write = os.pipe()
start = time.perf_counter()
contain.enter(keep_fds=(read,))  # the caller waits in a shell: the rest runs as process 1 of the namespace
contained = time.perf_counter() - start
scratch = tempfile.mkdtemp()
policy = confine.Policy(readable=confine.default_readable([str(paths.cache), str(paths.styles)]),
                        scratch=scratch, denied=tuple(audit.default_denied(paths.root)))
builds = []
for k in range(5):  # as the worker builds them: one per graded function, the first one paying the imports
    folder = os.path.join(scratch, f"f{k}")
    os.makedirs(folder)
    start = time.perf_counter()
    nested = confine.function_ruleset(policy, folder)
    builds.append(time.perf_counter() - start)
build = sorted(builds)[len(builds) // 2]
filter_ = seccomp.prepare()
start = time.perf_counter()
confine.confine("landlock", policy)
worker = time.perf_counter() - start
if os.fork() == 0:
    start = time.perf_counter()
    nested.restrict()
    restrict = time.perf_counter() - start
    start = time.perf_counter()
    filter_.apply()
    applied = time.perf_counter() - start
    os.write(write, json.dumps({"contain_ms": contained * 1000, "worker_ms": worker * 1000,
                                "function_ruleset_ms": (build + restrict) * 1000,
                                "seccomp_ms": applied * 1000}).encode())
    os._exit(0)
os.wait()
"""


def direct_cost() -> dict:
    """The walls' own cost, timed inside processes."""
    read, write = os.pipe()
    code = _DIRECT.replace("read, write = os.pipe()", f"read, write = {read}, {write}")
    subprocess.run([sys.executable, "-c", code], check=True, pass_fds=(read, write),
                   env={**os.environ, "VIZGEN_COURSE_ROOT": str(ROOT)})
    os.close(write)
    data = os.read(read, 4096)
    os.close(read)
    return json.loads(data)


def _baseline_tree(ref: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="vizgen-baseline-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), ref], cwd=ROOT, check=True, capture_output=True)
    for part in ("cache", "styles"):
        target = folder / "datasets" / part
        if not target.exists():
            target.symlink_to(ROOT / "datasets" / part)
    return folder


def grade_once(tree: Path, notebook: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("VIZGEN_COURSE_ROOT", None)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vizgen.cli", "grade", "--hidden", str(notebook)], cwd=tree, env=env,
                   check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--limit-ms", type=float, default=50.0)
    parser.add_argument("--baseline", help="a commit to compare whole-command grading times with")
    parser.add_argument("--slower", type=float, default=0.10, help="the allowed slowdown against the baseline")
    args = parser.parse_args()
    if confine.plan().level != "landlock":
        print(f"no Landlock here ({confine.plan().describe()}): nothing to time")
        return 0
    results: dict = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                     "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                     "load_before": os.getloadavg()}
    direct = direct_cost()
    results["direct"] = direct
    per_submission = (direct["contain_ms"] + direct["worker_ms"]
                      + 10 * (direct["function_ruleset_ms"] + direct["seccomp_ms"]))
    print(f"PID namespace {direct['contain_ms']:.1f} ms; worker's Landlock {direct['worker_ms']:.1f} ms; per function: "
          f"nested domain {direct['function_ruleset_ms']:.2f} ms, seccomp {direct['seccomp_ms']:.3f} ms; "
          f"a ten-function submission {per_submission:.1f} ms (limit {args.limit_ms:.0f} ms)")
    failed = per_submission > args.limit_ms
    if args.baseline:
        baseline = _baseline_tree(args.baseline)
        try:
            for name in available(CoursePaths(ROOT)):
                notebook = load_assignment(CoursePaths(ROOT), name).solution_notebook.relative_to(ROOT)
                trees = {"this tree": ROOT, args.baseline: baseline}
                for tree in trees.values():
                    grade_once(tree, notebook)  # warm the file cache
                runs: dict[str, list[float]] = {label: [] for label in trees}
                for _ in range(args.repeats):
                    for label, tree in trees.items():
                        runs[label].append(grade_once(tree, notebook))
                medians = {label: statistics.median(times) for label, times in runs.items()}
                ratio = medians["this tree"] / medians[args.baseline]
                results[name] = {"median_s": medians, "ratio": ratio, "runs_s": runs}
                print(f"{name}: {medians['this tree']:.2f} s against {medians[args.baseline]:.2f} s at "
                      f"{args.baseline} ({ratio:.2f}x)")
                failed |= ratio > 1 + args.slower
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=ROOT, capture_output=True)
    results["load_after"] = os.getloadavg()
    (ROOT / "benchmarks" / "isolation.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
