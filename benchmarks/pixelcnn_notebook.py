"""The PixelCNN notebook run top to bottom, as a student runs it: time, load, result.

Copies the course's files (those git tracks, as they are in the working tree) into a fresh temporary
folder, with no checkpoint and no record of the VAE or GAN notebooks, links the downloaded data
(`datasets/cache`), and executes `solutions/pixelcnn/PixelCNN.ipynb` there with nbclient, as
`jupyter nbconvert --execute` does. Records the wall-clock seconds, the load average before and after,
the CPU, the slowest cells, the test NLL on the 10,000 test digits against the notebook's target, the
lines the training cell saved, and where each row of the three-family comparison came from.

    python benchmarks/pixelcnn_notebook.py --out benchmarks/pixelcnn_notebook_2026-12-07.json
    python benchmarks/pixelcnn_notebook.py --runs 2 --keep /tmp/pixelcnn_executed.ipynb

Minutes depend on the machine and on its load (a shared 2-core VM here): each run records the
1-minute load average before and after it; quote the notebook's time as the range of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = Path("solutions/pixelcnn/PixelCNN.ipynb")
TRAINING_CELL = "CHANNELS, BLOCKS, EPOCHS"  # how the training cell starts
COMPARISON_CELL = "comparison_table(rows)"


def cpu() -> str:
    """The CPU's model name and how many cores this process may use."""
    name = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = f"{line.split(':', 1)[1].strip()} ({platform.machine()})"
                break
    except OSError:
        pass
    return f"{name}, {len(os.sched_getaffinity(0))} cores"


def fresh_course(folder: Path) -> Path:
    """The course's tracked files (working-tree contents) copied into ``folder``, the data linked."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    cache = ROOT / "datasets" / "cache"
    if cache.exists():
        (folder / "datasets" / "cache").symlink_to(cache)
    for stale in folder.glob("solutions/*/checkpoints"):
        shutil.rmtree(stale)  # none is tracked; a fresh clone has none
    return folder


def text_of(cell) -> str:
    outputs = cell.get("outputs", [])
    return "".join(output.get("text", "") for output in outputs if output.get("output_type") == "stream")


def run_once(keep: Path | None = None, timeout: int = 1800) -> dict:
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="pixelcnn_course_") as tmp:
        course = fresh_course(Path(tmp))
        path = course / NOTEBOOK
        nb = nbformat.read(path, as_version=4)
        env_load = os.getloadavg()
        started = datetime.now(timezone.utc)
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
        load_after = os.getloadavg()
        checkpoints = sorted(str(p.relative_to(course)) for p in course.glob("solutions/*/checkpoints/*"))
        if keep is not None:
            nbformat.write(nb, keep)
    cells = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type != "code" or "shell.execute_reply" not in timing:
            continue
        took = (datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
                - datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))).total_seconds()
        cells.append({"cell": index, "first_line": cell.source.splitlines()[0][:80], "seconds": round(took, 1)})
    training = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(TRAINING_CELL))
    comparison = next(c for c in nb.cells if c.cell_type == "code" and COMPARISON_CELL in c.source)
    trained = text_of(training)
    nll = re.search(r"test NLL ([\d.]+) nats per image", trained)
    target = re.search(r"^TARGET = (\d+)", training.source, re.MULTILINE)
    recipe = re.search(r"stopped after epoch \d+/\d+|(\d+) epochs: test NLL", trained)
    table = text_of(comparison).splitlines()
    return {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(seconds, 1),
        "minutes": round(seconds / 60, 2),
        "load_before": [round(x, 2) for x in env_load],
        "load_after": [round(x, 2) for x in load_after],
        "test_nll_10000": float(nll.group(1)) if nll else None,
        "target": int(target.group(1)) if target else None,
        "met": bool(nll and target and float(nll.group(1)) <= int(target.group(1))),
        "training_output": trained.strip().splitlines(),
        "training_output_lines": len(trained.strip().splitlines()),
        "training_outputs_saved": len(training.get("outputs", [])),
        "recipe_line": recipe.group(0) if recipe else None,
        "comparison": table,
        "every_row_filled": bool(table) and not any("not recorded" in line for line in table),
        "checkpoints_written": checkpoints,
        "slowest": sorted(cells, key=lambda c: -c["seconds"])[:8],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the JSON here (default: print it)")
    parser.add_argument("--keep", type=Path, help="save the executed notebook of the last run here")
    parser.add_argument("--note", default="", help="what else ran on the machine")
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        runs.append(run_once(args.keep))
        run = runs[-1]
        print(f"{run['minutes']:.2f} min, load {run['load_before'][0]:.2f} -> {run['load_after'][0]:.2f}, "
              f"test NLL {run['test_nll_10000']}", flush=True)
    minutes = [r["minutes"] for r in runs]
    result = {"notebook": str(NOTEBOOK), "cpu": cpu(), "python": platform.python_version(),
              "torch": __import__("torch").__version__, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
              "note": args.note, "minutes_range": [min(minutes), max(minutes)], "runs": runs}
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
