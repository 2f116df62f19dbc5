"""What a failed check's figure costs the grader: matplotlib's import (once per grading process) and one
figure's rendering (three 224 x 224 panels shrunk to thumbnails). A submission pays the import once, in the
grading process, and the rendering once per failed image check that has a figure.

    .venv/bin/python benchmarks/figures.py [--out benchmarks/figures_DATE.json]

Run it with nothing else on the machine; it records the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORT = ("import time; t = time.perf_counter(); from matplotlib.figure import Figure; "
          "print(time.perf_counter() - t)")


def import_seconds(runs: int) -> list[float]:
    """matplotlib.figure's import in a fresh interpreter, ``runs`` times."""
    return [float(subprocess.run([sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True).stdout)
            for _ in range(runs)]


def render_seconds(runs: int) -> list[float]:
    """One three-panel figure (yours, expected, difference; 224 x 224 each) rendered to PNG, after a warm-up."""
    import numpy as np

    from vizgen.author.messages import Figure
    from vizgen.engine.figures import render_png

    rng = np.random.default_rng(0)
    panels = (("yours", rng.random((224, 224))), ("expected", rng.random((224, 224))),
              ("|difference|", rng.random((224, 224))))
    figure = Figure(panels, expected=("expected",), same_scale=("yours", "expected"))
    render_png(figure, hidden=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render_png(figure, hidden=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load_before = os.getloadavg()
    imports, renders = import_seconds(5), render_seconds(args.runs)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.processor() or
              platform.machine(), "cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg(),
              "matplotlib_import_s": {"median": statistics.median(imports), "all": imports},
              "render_s": {"median": statistics.median(renders), "max": max(renders), "runs": len(renders)}}
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
