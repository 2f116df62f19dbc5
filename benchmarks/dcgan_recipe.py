"""How the DCGAN's training recipe was chosen: sample quality of the solution DCGAN after each recipe.

Trains the solution notebook's DCGAN (its `build_dc_classifier`, `build_dc_generator`, losses,
`get_optimizer` and `sample_noise`) with `vizgen.topics.gan.train_gan` under several recipes and seeds,
and judges `samples` generated digits every `every` iterations with `vizgen.library.quality.sample_quality`
(share of samples the MNIST classifier calls with confidence >= 0.9, digits present, Fréchet
distance). Runs go in parallel processes; on a GPU, many fit at once.

    python benchmarks/dcgan_recipe.py --device cuda --jobs 12 --out results.json
    python benchmarks/dcgan_recipe.py --device cpu --recipes notebook --seeds 0   # one CPU run, ~6 min
    python benchmarks/dcgan_recipe.py --summarize benchmarks/dcgan_recipe_h100.json  # the stored results

Each point judges G (eval mode) and an exponential moving average of its weights (Yazıcı et al.
2019, "The Unusual Effectiveness of Averaging in GAN Training", ICLR) with re-estimated batch-norm
statistics, on ``--samples`` digits from fixed noise.

The numbers are statistics of training runs: GPU and CPU runs of one seed differ in their floating
point, so compare recipes by their spread over seeds, not by one run.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import time
from dataclasses import asdict, dataclass
from pathlib import Path

@dataclass(frozen=True)
class Recipe:
    iterations: int
    batch_size: int = 128
    decay_from: float | None = None  # linear lr decay to 0 from this share of the run (None: constant)
    instance_noise: float = 0.0  # std of Gaussian noise on D's inputs, annealed linearly to 0 (Sønderby et al. 2017)
    ema: float = 0.999  # decay of an exponential moving average of G's weights, judged beside G itself


RECIPES = {
    "constant-1600": Recipe(1600),
    "constant-2400": Recipe(2400),
    "constant-4000": Recipe(4000),
    "constant-6000": Recipe(6000),
    "linear-1600-from-0.5": Recipe(1600, decay_from=0.5),
    "linear-1600-from-0.75": Recipe(1600, decay_from=0.75),
    "linear-1600-from-0.0": Recipe(1600, decay_from=0.0),
    "linear-2000-from-0.5": Recipe(2000, decay_from=0.5),
    "linear-1200-from-0.5": Recipe(1200, decay_from=0.5),
    "linear-2400-from-0.5-bs64": Recipe(2400, 64, decay_from=0.5),
    "noise-0.1-2400": Recipe(2400, instance_noise=0.1),
    "noise-0.3-2400": Recipe(2400, instance_noise=0.3),
    "constant-2400-bs256": Recipe(2400, 256),
    "constant-1200-bs512": Recipe(1200, 512),
}
RECIPES["notebook"] = RECIPES["constant-1600"]


@dataclass
class Point:
    recipe: str
    seed: int
    iteration: int
    judged: str  # "G" or "EMA"
    confident: float
    digits: int
    evenness: float
    frechet: float
    seconds: float


def standing_statistics(G, sample_noise, device: str, batches: int = 50, batch_size: int = 128) -> None:
    """Re-estimate G's batch-norm running statistics as plain averages over ``batches`` noise batches
    (the "standing statistics" of Brock et al. 2019, BigGAN, Sec. 4/appendix), as averaged weights
    need: the running statistics of the live G belong to its own weights."""
    import torch

    norms = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    G.train()
    with torch.no_grad():
        for _ in range(batches):
            G(sample_noise(batch_size, 96).to(device))  # (batch_size, 784)
    for m in norms:
        m.momentum = 0.1
    G.eval()


def run(recipe: str, seed: int, device: str, every: int, samples: int) -> list[dict]:
    import torch

    from vizgen.course.config import course_paths
    from vizgen.library.sampling import generate
    from vizgen.library.training import linear_decay
    from vizgen.topics.gan import train_gan
    from vizgen.course.assignment import load_assignment
    from vizgen.course.notebook import extract_submission
    from vizgen.library.mnist import load_mnist_classifier, mnist_tensors
    from vizgen.library.quality import sample_quality, test_set_statistics

    torch.set_num_threads(1)
    paths = course_paths()
    ns: dict = {}
    solution = load_assignment(paths, "generative_adversarial_networks").solution_notebook
    for filename, code in extract_submission(solution).cells:
        exec(compile(code, filename, "exec"), ns)
    recipe_ = RECIPES[recipe]
    x, _ = mnist_tensors(paths, "train")  # (60000, 1, 28, 28)
    x = x.flatten(1).to(device)  # (60000, 784)
    classifier = load_mnist_classifier(device=device)
    reference = test_set_statistics(paths, classifier, device=device)
    torch.manual_seed(seed)
    D, G = ns["build_dc_classifier"]().to(device), ns["build_dc_generator"](96).to(device)
    ema = copy.deepcopy(G)
    D_solver, G_solver = ns["get_optimizer"](D), ns["get_optimizer"](G)
    steps = [0]

    @torch.no_grad()
    def average(*_):  # after each G step: ema <- decay * ema + (1 - decay) * G; buffers copied
        steps[0] += 1
        for a, p in zip(ema.parameters(), G.parameters()):
            a.lerp_(p, 1 - recipe_.ema)
        for a, b in zip(ema.buffers(), G.buffers()):
            a.copy_(b)

    G_solver.register_step_post_hook(average)
    if recipe_.instance_noise:
        inner, total = D, recipe_.iterations

        class Noisy(torch.nn.Module):  # Gaussian instance noise on every input of D, annealed to 0
            def __init__(self):
                super().__init__()
                self.inner = inner

            def forward(self, images):
                sigma = recipe_.instance_noise * max(0.0, 1 - steps[0] / total)
                return self.inner(images + sigma * torch.randn_like(images))

        D = Noisy()
    noise = torch.Generator().manual_seed(10_000 + seed)
    points: list[dict] = []
    start = time.perf_counter()

    def judge(iteration: int, _images) -> None:
        z = 2 * torch.rand(samples, 96, generator=noise) - 1  # (samples, 96)
        averaged = copy.deepcopy(ema)
        standing_statistics(averaged, ns["sample_noise"], device)
        for name, model in (("G", G), ("EMA", averaged)):
            q = sample_quality(generate(model, z), classifier, reference, device=device)
            points.append(asdict(Point(recipe, seed, iteration, name, q.confident_share, q.digits_present,
                                       q.evenness, q.frechet, time.perf_counter() - start)))

    train_gan(
        D, G, D_solver, G_solver, ns["discriminator_loss"], ns["generator_loss"], x,
        sample_noise=ns["sample_noise"], discriminator_step=ns["discriminator_step"],
        generator_step=ns["generator_step"], noise_size=96, batch_size=recipe_.batch_size,
        num_iterations=recipe_.iterations, show_every=every, on_samples=judge, progress=False,
        generator=torch.Generator().manual_seed(seed),
        lr_schedule=None if recipe_.decay_from is None else linear_decay(recipe_.iterations, recipe_.decay_from),
    )
    return points


def _run(job: tuple) -> list[dict]:
    return run(*job)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--recipes", nargs="*", default=[r for r in RECIPES if r != "notebook"], choices=RECIPES)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--every", type=int, default=400)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/dcgan_recipe.json"))
    parser.add_argument("--summarize", type=Path, metavar="JSON", help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.summarize:
        summary(json.loads(args.summarize.read_text())["points"])
        return
    jobs = [(r, s, args.device, args.every, args.samples) for r in args.recipes for s in args.seeds]
    results = {"device": args.device, "samples_per_point": args.samples, "points": []}
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for points in pool.imap_unordered(_run, jobs):
            results["points"] += points
            last = points[-2]  # G's, not the EMA's
            print(f"{last['recipe']:28s} seed {last['seed']}: it {last['iteration']:5d} confident "
                  f"{last['confident']:.1%} digits {last['digits']} Frechet {last['frechet']:.1f} "
                  f"({last['seconds']:.0f} s)", flush=True)
            args.out.write_text(json.dumps(results, indent=0))
    summary(results["points"])


def summary(points: list[dict]) -> None:
    """Per recipe and judged generator (G or its EMA): the confident share and Fréchet distance at
    each judged iteration, as the mean (min-max) over seeds."""
    groups: dict[tuple[str, str], dict[int, list[dict]]] = {}
    for p in points:
        if p["iteration"]:
            groups.setdefault((p["recipe"], p["judged"]), {}).setdefault(p["iteration"], []).append(p)
    for (recipe, judged), by_iteration in groups.items():
        cells = []
        for iteration, ps in sorted(by_iteration.items()):
            c = [p["confident"] for p in ps]
            f = sum(p["frechet"] for p in ps) / len(ps)
            digits = min(p["digits"] for p in ps)
            cells.append(f"{iteration}: {sum(c) / len(c):.1%} ({min(c):.1%}-{max(c):.1%}) F {f:.0f} d {digits}")
        print(f"{recipe} [{judged}, {len(ps)} seeds]\n    " + "\n    ".join(cells))


if __name__ == "__main__":
    main()
