"""Which training schedule lets the style transfer notebook's fast network keep the photo, within its CPU budget.

Trains the solution notebook's `TransformerNet` on the course's 20 ImageNet photos with the notebook's
perceptual loss (its `content_loss`, `style_loss`, `tv_loss` and `gram_matrix`, VGG19 to relu4_2,
The Starry Night), for each setting below: training size, steps, the style and content weights as
multiples of the notebook's optimisation weights (`STYLE_WEIGHTS`, `CONTENT_WEIGHT`), and the start
(`style.CaffeScaled(net)`, a random image, or `residual=True`, the photo plus the network's change).
At checkpoints it stylises the eight photos that scikit-image, scikit-learn and matplotlib ship
(none of them a training photo) at 128 x 128 and records:

* the content and style losses of the results (the notebook's weights, per photo, averaged);
* whether each photo keeps its ImageNet class: the EfficientNet-Lite0 top-1 of the unstylised photo
  is among the top-5 of the stylised one (`style.keeps_class`);
* the training seconds so far (evaluation excluded) and the 1-minute load average.

The optimisation-based transfer of the notebook (`style_transfer`, 150 Adam steps from the photo) runs
once on the same photos, painting and size, for the same measures. Speed is the seconds to stylise
one 128 x 128 photo: one forward pass of the trained network (training excluded) against one
optimisation.

    python benchmarks/fast_style.py --settings notebook residual --out benchmarks/fast_style_2026-12-07.json
    python benchmarks/fast_style.py --summarize benchmarks/fast_style_2026-12-07.json

Seconds depend on the machine and its load (a shared 2-core VM here): each record keeps the load
average next to its time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path

NOTEBOOK = Path("solutions/style_transfer/StyleTransfer.ipynb")
PHOTOS = ["coffee", "rocket", "motorcycle", "chelsea", "astronaut", "china", "flower", "grace_hopper"]
TEST_SIZE = 128  # the notebook's SIZE: optimisation and fast results are compared at this size


@dataclass(frozen=True)
class Setting:
    size: int  # training photos and painting, pixels
    steps: int
    style_scale: float  # style weights = style_scale * the notebook's STYLE_WEIGHTS
    content_scale: float  # content weight = content_scale * the notebook's CONTENT_WEIGHT
    residual: bool  # the output is the photo plus the network's change
    lr: float = 1e-3
    flips: bool = False  # the 20 photos and their mirror images
    checkpoints: tuple[int, ...] = ()


SETTINGS = {
    "notebook": Setting(64, 150, 10, 1, False, checkpoints=(50, 150)),  # the schedule the notebook had
    "random-long": Setting(64, 450, 10, 1, False, checkpoints=(150, 300, 450)),
    "random-content10": Setting(64, 450, 10, 10, False, checkpoints=(150, 300, 450)),
    "residual-style10": Setting(64, 450, 10, 1, True, checkpoints=(150, 300, 450)),
    "residual": Setting(64, 450, 1, 1, True, checkpoints=(50, 150, 300, 450)),
    "residual-300": Setting(64, 300, 1, 1, True, checkpoints=(50, 150, 300)),  # the notebook trains 150 steps of it
    "residual-style3": Setting(64, 450, 3, 1, True, checkpoints=(150, 300, 450)),
    "residual-96": Setting(96, 300, 1, 1, True, checkpoints=(150, 300)),
    "residual-96-style3": Setting(96, 300, 3, 1, True, checkpoints=(150, 300)),
}


def load_notebook() -> dict:
    """The solution notebook's definitions, with GRADING on (the cells that train and draw are skipped)."""
    os.environ["NBGRADER_EXECUTION"] = "1"
    ns: dict = {}
    for index, cell in enumerate(json.loads(NOTEBOOK.read_text())["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "run_cell" not in source:
            exec(compile(source, f"<cell {index}>", "exec"), ns)
    return ns


class Bench:
    def __init__(self, threads: int):
        import numpy as np
        import torch

        from vizgen.course.config import course_paths
        from vizgen.library.data import imagenet_class_names, load_imagenet_samples, load_package_photo
        from vizgen.library.models import load_classifier
        from vizgen.topics import style

        torch.set_num_threads(threads)
        self.np, self.torch, self.style = np, torch, style
        self.ns = load_notebook()
        self.paths = course_paths()
        self.cnn = style.load_vgg19(self.paths, last="relu4_2")
        self.classifier = load_classifier(self.paths)
        self.names = imagenet_class_names()
        self.photos_u8 = np.stack([load_package_photo(n, TEST_SIZE) for n in PHOTOS])  # (8, 128, 128, 3)
        self.photos = style.caffe_preprocess(self.photos_u8)  # (8, 3, 128, 128)
        self.load_samples = load_imagenet_samples
        painting = style.caffe_preprocess(style.load_style(self.paths, "starry_night", TEST_SIZE))
        self.test_targets = self.ns["gram_targets"](painting, self.cnn)
        self.save = lambda partial: None  # called with a setting's record at each checkpoint
        self.save_optimisation = lambda record: None  # called with the record after each photo

    def losses(self, results):
        """The notebook's weighted content and style losses of each result against its photo: two (N,) lists."""
        ns, torch, style = self.ns, self.torch, self.style
        layer, last = ns["CONTENT_LAYER"], max(ns["STYLE_LAYERS"] + [ns["CONTENT_LAYER"]])
        content, styled = [], []
        with torch.no_grad():
            for k in range(len(results)):
                feats = style.extract_features(results[k : k + 1], self.cnn, last=last)
                target = style.extract_features(self.photos[k : k + 1], self.cnn, last=layer)[layer]
                content.append(ns["content_loss"](ns["CONTENT_WEIGHT"], feats[layer], target).item())
                s = ns["style_loss"](feats, ns["STYLE_LAYERS"], self.test_targets, ns["STYLE_WEIGHTS"])
                styled.append(s.item())
        return content, styled

    def judge(self, results) -> dict:
        np, style = self.np, self.style
        n = len(results)  # the first n photos
        kept = style.keeps_class(self.classifier, self.photos_u8[:n], style.caffe_deprocess(results))
        content, styled = self.losses(results)
        return {
            "kept": int(kept["kept"].sum()),
            "of": n,
            "content_loss": float(np.mean(content)),
            "style_loss": float(np.mean(styled)),
            "photos": [{"photo": p, "class": self.names[c], "kept": bool(k),
                        "stylised_top5": [self.names[i] for i in t], "content_loss": cl, "style_loss": sl}
                       for p, c, k, t, cl, sl in zip(PHOTOS, kept["photo_class"], kept["kept"], kept["stylised_top"],
                                                     content, styled)],
        }

    def optimisation(self) -> dict:
        """The notebook's optimisation-based transfer of each photo (its defaults), judged like the networks."""
        painting = self.style.caffe_preprocess(self.style.load_style(self.paths, "starry_night", TEST_SIZE))
        results, seconds = [], []
        for k in range(len(PHOTOS)):
            out, history = self.ns["style_transfer"](self.photos[k : k + 1], painting, self.cnn)
            results.append(out)
            seconds.append(history.seconds)
            print(f"[optimisation] {PHOTOS[k]}: {history.seconds:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
            record = self.judge(self.torch.cat(results))
            record = {**record, "seconds_per_image": float(self.np.median(seconds)), "seconds": seconds,
                      "load": os.getloadavg()[0]}
            self.save_optimisation(record)  # kept after each photo
        return record

    def train(self, name: str, seed: int = 0) -> dict:
        ns, torch, style = self.ns, self.torch, self.style
        s = SETTINGS[name]
        photos = style.caffe_preprocess(self.load_samples(self.paths, s.size).images)  # (20, 3, size, size)
        if s.flips:
            photos = torch.cat([photos, photos.flip(3)])
        painting = style.caffe_preprocess(style.load_style(self.paths, "starry_night", s.size))
        targets = ns["gram_targets"](painting, self.cnn)
        weights = [s.style_scale * w for w in ns["STYLE_WEIGHTS"]]
        layer, last = ns["CONTENT_LAYER"], max(ns["STYLE_LAYERS"] + [ns["CONTENT_LAYER"]])
        content_weight = s.content_scale * ns["CONTENT_WEIGHT"]

        def perceptual_loss(stylised, batch):  # the notebook's, with this setting's weights
            feats = style.extract_features(stylised, self.cnn, last=last)
            with torch.no_grad():
                target = style.extract_features(batch, self.cnn, last=layer)[layer]
            c = ns["content_loss"](content_weight, feats[layer], target)
            st = sum(ns["style_loss"]([f[k : k + 1] for f in feats], ns["STYLE_LAYERS"], targets, weights)
                     for k in range(len(stylised)))
            t = ns["tv_loss"](stylised, ns["TV_WEIGHT"])
            return c + st + t, {"content": c.item(), "style": st.item(), "tv": t.item()}

        torch.manual_seed(seed)
        net = style.CaffeScaled(ns["TransformerNet"](), residual=s.residual)
        points, evaluating = [], [0.0]
        load_before = os.getloadavg()

        def callback(step, history):
            if step + 1 not in s.checkpoints:
                return
            start = time.perf_counter()
            net.eval()
            with torch.no_grad():
                results = net(self.photos)  # (8, 3, 128, 128)
            record = self.judge(results)
            record["seconds_per_image"] = style.seconds_per_image(net, self.photos, repeats=2)
            net.train()
            record.update(step=step + 1, train_seconds=time.perf_counter() - t0 - evaluating[0],
                          load=os.getloadavg()[0])
            evaluating[0] += time.perf_counter() - start
            points.append(record)
            self.save({"setting": name, **asdict(s), "partial": True, "checkpoints": points})
            print(f"[{name}] step {step + 1}: kept {record['kept']}/{record['of']}, "
                  f"content {record['content_loss']:.3g}, style {record['style_loss']:.3g}, "
                  f"{record['train_seconds']:.0f} s training "
                  f"(load {record['load']:.1f})", flush=True)

        t0 = time.perf_counter()
        history = style.train_fast_style(net, photos, perceptual_loss, steps=s.steps, batch_size=4, lr=s.lr,
                                         seed=seed, callback=callback)
        return {"setting": name, **asdict(s), "seed": seed, "load_before": load_before, "load_after": os.getloadavg(),
                "train_seconds": history.seconds - evaluating[0],
                "curves": {k: [round(v, 4) for v in values] for k, values in history.parts.items()},
                "checkpoints": points}


def summary(data: dict) -> None:
    opt = data.get("optimisation")
    if opt:
        print(f"optimisation-based: kept {opt['kept']}/{opt['of']}, content {opt['content_loss']:.3g}, "
              f"style {opt['style_loss']:.3g}, {opt['seconds_per_image']:.1f} s per image")
    for res in data["results"]:
        for p in res["checkpoints"]:
            ratio = f", {opt['seconds_per_image'] / p['seconds_per_image']:.0f}x faster" if opt else ""
            print(f"{res['setting']} (size {res['size']}, style x{res['style_scale']}, "
                  f"content x{res['content_scale']}, "
                  f"{'residual' if res['residual'] else 'random'} start) step {p['step']}: kept {p['kept']}/{p['of']}, "
                  f"content {p['content_loss']:.3g}, style {p['style_loss']:.3g}, {p['train_seconds']:.0f} s training "
                  f"(load {p['load']:.1f}), {p['seconds_per_image'] * 1000:.0f} ms per image{ratio}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="*", default=["notebook"], choices=SETTINGS)
    parser.add_argument("--no-optimisation", action="store_true", help="skip the optimisation-based baseline")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(f"benchmarks/fast_style_{time.strftime('%Y-%m-%d')}.json"))
    parser.add_argument("--summarize", type=Path, metavar="JSON", help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.summarize:
        summary(json.loads(args.summarize.read_text()))
        return
    data = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "threads": args.threads, "load_before": os.getloadavg(), "photos": PHOTOS,
            "test_size": TEST_SIZE, "painting": "starry_night", "results": []}
    bench = Bench(args.threads)

    def save(partial: dict) -> None:  # a setting's checkpoints so far, kept if the run is stopped
        args.out.write_text(json.dumps({**data, "results": data["results"] + [partial]}, indent=1) + "\n")

    def save_optimisation(record: dict) -> None:
        args.out.write_text(json.dumps({**data, "optimisation": record}, indent=1) + "\n")

    bench.save, bench.save_optimisation = save, save_optimisation
    for name in args.settings:
        data["results"].append(bench.train(name, args.seed))
        data["load_after"] = os.getloadavg()
        args.out.write_text(json.dumps(data, indent=1) + "\n")  # kept after each setting
    if not args.no_optimisation:
        data["optimisation"] = bench.optimisation()
        data["load_after"] = os.getloadavg()
        args.out.write_text(json.dumps(data, indent=1) + "\n")
    summary(data)


if __name__ == "__main__":
    main()
