"""How far the PixelCNN gets in a CPU budget: test NLL against training minutes, per recipe.

Trains the solution notebook's `PixelCNN` on its `pixelcnn_nll` with `vizgen.topics.pixelcnn.train_pixelcnn`
(Adam, batches of 128 binarised afresh, the learning rate decaying linearly to 0 over the second
half), records after each epoch the wall-clock training minutes, the load average and the test NLL on
the first 1000 binarised test digits, then the NLL on all 10,000 and the seconds to draw 64 samples
with the solution's `sample`. The curve goes in the README, beside the notebook's 90-nat target.

    python benchmarks/pixelcnn_recipe.py --recipes notebook longer --out benchmarks/pixelcnn_recipe.json
    python benchmarks/pixelcnn_recipe.py --summarize benchmarks/pixelcnn_recipe.json

Minutes depend on the machine and on its load (a shared 2-core VM here): each point records the
1-minute load average next to its time.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Recipe:
    channels: int
    blocks: int
    epochs: int
    lr: float = 2e-3
    batch_size: int = 128


RECIPES = {
    "notebook": Recipe(32, 2, 5),  # the notebook's earlier CPU default
    "longer": Recipe(32, 2, 10),  # twice the notebook's epochs
    "wider": Recipe(64, 2, 3),
    "default-size": Recipe(64, 4, 3),  # PixelCNN() itself, the notebook's CUDA choice
    # Within the notebook's 7 CPU minutes: is the gap to 90 nats width, depth, or neither?
    "wider-short": Recipe(64, 2, 1),  # a batch costs about 3.2 times the notebook's: one epoch
    "deeper-short": Recipe(32, 4, 2),  # about twice the notebook's cost per batch: two epochs
    "three-epochs": Recipe(32, 2, 3),  # the notebook's CPU default since it must finish within 10 minutes
}


def run(recipe: str, seed: int = 0, device: str = "cpu", train_size: int | None = None, eval_size: int = 1000) -> dict:
    import torch

    from vizgen.course.config import course_paths
    from vizgen.course.assignment import load_assignment
    from vizgen.course.notebook import extract_submission
    from vizgen.topics.pixelcnn import bits_per_dim, test_nll, timed, train_pixelcnn
    from vizgen.library.mnist import binarized_mnist, grey_mnist

    torch.set_num_threads(1)  # as the notebook
    paths = course_paths()
    ns: dict = {}
    for filename, code in extract_submission(load_assignment(paths, "pixelcnn").solution_notebook).cells:
        exec(compile(code, filename, "exec"), ns)
    r = RECIPES[recipe]
    grey, _ = grey_mnist(paths, "train")  # (60000, 784)
    x_test, _ = binarized_mnist(paths, "test")  # (10000, 784), seed 0
    grey, x_test = grey[:train_size].to(device), x_test.to(device)
    torch.manual_seed(seed)
    model = ns["PixelCNN"](channels=r.channels, blocks=r.blocks).to(device)
    points = []

    def log(line: str) -> None:
        print(f"[{recipe}] {line} (load {os.getloadavg()[0]:.1f})", flush=True)

    curve = train_pixelcnn(model, ns["pixelcnn_nll"], grey, x_test[:eval_size], epochs=r.epochs, lr=r.lr,
                           batch_size=r.batch_size, seed=seed, log=log)
    for epoch, minutes, train, test in zip(curve["epoch"], curve["minutes"], curve["train"], curve["test"]):
        points.append({"epoch": epoch, "minutes": round(minutes, 2), "train": round(train, 2), "test": round(test, 2)})
    nats = test_nll(model, ns["pixelcnn_nll"], x_test)
    _, seconds = timed(lambda: ns["sample"](model, 64, 0))
    return {"recipe": recipe, **asdict(r), "seed": seed, "device": device, "points": points,
            "test_nll_10000": round(nats, 2), "bits_per_dim": round(bits_per_dim(nats), 4),
            "sample_64_seconds": round(seconds, 1), "load_average_end": round(os.getloadavg()[0], 1),
            "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def summary(results: list[dict]) -> None:
    for res in results:
        curve = ", ".join(f"{p['minutes']:.1f} min: {p['test']:.1f}" for p in res["points"])
        print(f"{res['recipe']} (channels {res['channels']}, blocks {res['blocks']}, {res['epochs']} epochs, "
              f"lr {res['lr']}): "
              f"test NLL {res['test_nll_10000']} nats ({res['bits_per_dim']} bits/dim), 64 samples "
              f"{res['sample_64_seconds']} s; curve (1000 test digits) {curve}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", default=["notebook"], choices=RECIPES)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/pixelcnn_recipe.json"))
    parser.add_argument("--summarize", type=Path, metavar="JSON", help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.summarize:
        summary(json.loads(args.summarize.read_text())["results"])
        return
    results = []
    for recipe in args.recipes:
        results.append(run(recipe, args.seed, args.device))
        args.out.write_text(json.dumps({"results": results}, indent=1) + "\n")  # kept after each recipe
    summary(results)


if __name__ == "__main__":
    main()
