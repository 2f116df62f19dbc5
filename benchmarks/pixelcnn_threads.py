"""Training steps of the PixelCNN notebook's CPU model with one thread and with two, side by side.

Times batches of 128 (Adam on the solution's `pixelcnn_nll`, the notebook's `PixelCNN(channels=32, blocks=2)`)
alternating 1 and 2 torch threads, and records the 1-minute load average beside every measurement: a
second thread helps only while a core is idle (the notebook asks `vizgen.topics.pixelcnn.idle_threads`).

    python benchmarks/pixelcnn_threads.py --rounds 3 --out benchmarks/pixelcnn_threads_2026-12-07.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def measure(rounds: int = 3, batches: int = 30) -> list[dict]:
    import torch

    from vizgen.course.assignment import load_assignment
    from vizgen.course.config import course_paths
    from vizgen.course.notebook import extract_submission

    ns: dict = {}
    for filename, code in extract_submission(load_assignment(course_paths(), "pixelcnn").solution_notebook).cells:
        exec(compile(code, filename, "exec"), ns)
    torch.manual_seed(0)
    model = ns["PixelCNN"](channels=32, blocks=2)
    optimizer = torch.optim.Adam(model.parameters(), 2e-3)
    x = torch.bernoulli(torch.full((128, 1, 28, 28), 0.2))  # a batch of the notebook's size
    results = []
    for _ in range(rounds):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            load = os.getloadavg()[0]
            start = time.perf_counter()
            for _ in range(batches):
                loss = ns["pixelcnn_nll"](model(x), x)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            ms = (time.perf_counter() - start) / batches * 1000
            results.append({"threads": threads, "ms_per_batch": round(ms, 1), "load_before": round(load, 2),
                            "load_after": round(os.getloadavg()[0], 2)})
            print(results[-1], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs = measure(args.rounds)
    result = {"cpu_cores": len(os.sched_getaffinity(0)), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "model": "PixelCNN(channels=32, blocks=2), batches of 128", "runs": runs}
    if args.out:
        existing = json.loads(args.out.read_text()) if args.out.exists() else {"sessions": []}
        existing["sessions"].append(result)
        args.out.write_text(json.dumps(existing, indent=1) + "\n")


if __name__ == "__main__":
    main()
