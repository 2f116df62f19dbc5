"""Class visualization: which regularization schedule makes the picture look like its class?

For each candidate schedule of ``vizgen.topics.visualize.create_class_visualization`` and each of
five ImageNet classes (fixed below), synthesize an image from seeded noise with the solution's
``class_visualization_update_step`` and judge it the way a viewer would, not by the classifier's
own score on it (which high-frequency noise maximizes too):

* survives: the classifier's argmax on ``blur_downscale(img)`` (Gaussian blur, sigma 1 px; 2x
  average-pool downscale; bilinear upsample back to 224 px) is the target class
  (``survives_blur_downscale``);
* HF energy: the share of the image's spectral power above 0.25 cycles/px, the band a 2x downscale
  discards (``high_frequency_energy``), also as a fraction of the unregularized run's share
  (only L2 and clamping, same class and seed);
* seconds per run (wall clock, torch threads as given by ``--threads``). On a shared machine these
  vary with the load, so the cost a schedule is chosen by is its number of steps: every step is one
  forward and backward pass of the same classifier at 224 px, and the regularizers cost little.

The target is that the class survives for at least 4 of the 5 classes, on every seed studied. The
schedule chosen is the one with the fewest steps that meets it and, on seed 0 (the notebook's),
survives for all 5: a margin of one class, since the notebook runs with torch's default threads and
the study with ``--threads``, so a borderline class can flip. Else the fewest steps meeting 4 of 5.

Run: ``.venv/bin/python benchmarks/class_visualization.py --out benchmarks/class_visualization_<date>.json``
(``--workers 2 --threads 1`` runs two settings at a time on a 2-core machine; ``--resume`` reuses
the runs an interrupted invocation printed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vizgen.course.config import course_paths  # noqa: E402
from vizgen.library.models import load_classifier  # noqa: E402
from vizgen.topics.visualize import (  # noqa: E402
    blur_downscale,
    create_class_visualization,
    high_frequency_energy,
    survives_blur_downscale,
)

CLASSES = {945: "bell pepper", 366: "gorilla", 130: "flamingo", 1: "goldfish", 980: "volcano"}
UNREGULARIZED = {"max_jitter": 0, "blur_every": 0, "clip_percentile": 0, "num_iterations": 150}  # L2 and clamp

# name -> keyword arguments of create_class_visualization. Not named here: learning rate 25,
# L2 weight 1e-3, jitter up to 16 px, clipping the pixels below the 10th norm percentile.
# "blur s/k" blurs with sigma s px every k steps.
SETTINGS: dict[str, dict] = {
    "unregularized": UNREGULARIZED,
    "blur 0.5/10, 150 steps": {"blur_sigma": 0.5, "blur_every": 10, "num_iterations": 150},
    "blur 1.0/4, 100 steps": {"blur_sigma": 1.0, "blur_every": 4, "num_iterations": 100},
    "blur 1.0/4, 80 steps": {"blur_sigma": 1.0, "blur_every": 4, "num_iterations": 80},
    "blur 1.0/4, 60 steps": {"blur_sigma": 1.0, "blur_every": 4, "num_iterations": 60},
    "blur 1.0/2, 60 steps": {"blur_sigma": 1.0, "blur_every": 2, "num_iterations": 60},
}


def update_step():
    """The solution notebook's ``class_visualization_update_step``, read from its graded cell."""
    notebook = nbformat.read(ROOT / "solutions/network_visualization/NetworkVisualization.ipynb", as_version=4)
    (cell,) = [c for c in notebook.cells
               if c.metadata.get("nbgrader", {}).get("grade_id") == "class_visualization_update_step"]
    namespace = {"torch": torch}
    exec(cell.source, namespace)
    return namespace["class_visualization_update_step"]


_MODEL = None
_STEP = None


def _init(threads: int) -> None:
    global _MODEL, _STEP
    torch.set_num_threads(threads)
    _MODEL = load_classifier(course_paths(ROOT))
    _STEP = update_step()


def run_one(setting: str, target: int, seed: int) -> dict:
    start = time.perf_counter()
    img = create_class_visualization(target, _MODEL, _STEP, seed=seed, **SETTINGS[setting])  # (1, 3, 224, 224)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        probs = torch.softmax(_MODEL(img), dim=1)[0]  # (1000,)
        seen = torch.softmax(_MODEL(blur_downscale(img)), dim=1)[0]  # (1000,) what survives a thumbnail
    return {
        "setting": setting, "class": target, "name": CLASSES[target], "seed": seed,
        "survives": survives_blur_downscale(img, _MODEL, target),
        "argmax": int(probs.argmax()), "p_target": float(probs[target]),
        "argmax_blur_downscale": int(seen.argmax()), "p_target_blur_downscale": float(seen[target]),
        "hf_share": high_frequency_energy(img), "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), help="names from SETTINGS")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--resume", type=Path, help="JSON lines of runs printed by an earlier invocation: not rerun")
    parser.add_argument("--no-new-runs", action="store_true", help="only summarise the runs given by --resume")
    parser.add_argument("--note", default="", help="free text kept in the JSON (e.g. the load while resumed runs ran)")
    args = parser.parse_args()
    settings = ["unregularized", *[s for s in args.settings if s != "unregularized"]]
    rows = []
    if args.resume:
        rows = [json.loads(line) for line in args.resume.read_text().splitlines() if line.startswith("{\"setting\"")]
        rows = [r for r in rows if r["setting"] in settings and r["seed"] in args.seeds]
    done = {(r["setting"], r["class"], r["seed"]) for r in rows}
    jobs = [(s, c, seed) for s in settings for seed in args.seeds for c in CLASSES if (s, c, seed) not in done]
    load_before = os.getloadavg()
    began = time.perf_counter()
    if jobs and not args.no_new_runs:
        with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.threads,)) as pool:
            for row in pool.map(run_one, *zip(*jobs)):
                print(json.dumps(row), flush=True)
                rows.append(row)
    unregularized = {(r["class"], r["seed"]): r["hf_share"] for r in rows if r["setting"] == "unregularized"}
    summary = {}
    for setting in settings:
        mine = [r for r in rows if r["setting"] == setting]
        if not mine:
            continue
        for r in mine:
            r["hf_fraction_of_unregularized"] = r["hf_share"] / unregularized[(r["class"], r["seed"])]
        seeds = sorted({r["seed"] for r in mine})
        per_seed = [sum(r["survives"] for r in mine if r["seed"] == s) for s in seeds]
        complete = seeds == sorted(args.seeds) and len(mine) == len(seeds) * len(CLASSES)
        summary[setting] = {
            "kwargs": SETTINGS[setting],
            "seeds": seeds,
            "survive_per_seed": per_seed,
            "meets_4_of_5": complete and all(n >= 4 for n in per_seed),
            "all_5_on_seed_0": per_seed[0] == len(CLASSES) if seeds and seeds[0] == 0 else False,
            "mean_hf_fraction": sum(r["hf_fraction_of_unregularized"] for r in mine) / len(mine),
            "mean_seconds": sum(r["seconds"] for r in mine) / len(mine),
            "steps": SETTINGS[setting]["num_iterations"],
        }
    cheapest = {}  # rule -> the cheapest setting that meets it
    rules = {
        "meets_4_of_5": lambda d: d["meets_4_of_5"],
        "with_margin": lambda d: d["meets_4_of_5"] and d["all_5_on_seed_0"],
    }
    for rule, ok in rules.items():
        meeting = [s for s in summary if ok(summary[s])]
        cheapest[rule] = min(meeting, key=lambda s: summary[s]["steps"]) if meeting else None
    # The notebook uses seed 0 and torch's default threads, the study --threads: the float sums differ
    # and a borderline class can flip, so keep a margin of one class on seed 0 when a schedule affords it.
    chosen = cheapest["with_margin"] or cheapest["meets_4_of_5"]
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hostname": socket.gethostname(), "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "torch_threads_per_worker": args.threads, "workers": args.workers,
        "load_before": load_before, "load_after": os.getloadavg(),
        "wall_seconds": time.perf_counter() - began, "resumed_runs": len(done), "note": args.note,
        "survives": "argmax of the classifier on blur(sigma 1 px) -> 2x average-pool -> bilinear upsample to 224 "
                    "equals the target",
        "hf_share": "share of spectral power (per channel, mean removed) above 0.25 cycles/px",
        "classes": {str(k): v for k, v in CLASSES.items()}, "seeds": args.seeds,
        "summary": summary, "cheapest_meeting_4_of_5": cheapest["meets_4_of_5"],
        "cheapest_with_margin": cheapest["with_margin"], "chosen": chosen,
        "chosen_rule": "the fewest steps among the settings whose class survives for at least 4 of the 5 classes on "
                       "every seed and for all 5 on seed 0, the notebook's (a margin of one class where the notebook "
                       "is judged); else the fewest steps meeting 4 of 5 on every seed",
        "runs": rows,
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({s: {k: v for k, v in d.items() if k != "kwargs"} for s, d in summary.items()}, indent=1))
    print("chosen:", chosen)


if __name__ == "__main__":
    main()
