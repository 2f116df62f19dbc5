"""Training, sampling drivers and the closing comparison of the PixelCNN assignment.

* the data and protocol are the VAE assignment's (``vizgen.topics.vae``): training digits re-binarised at
  every pass, the 10,000 test digits binarised once with seed 0, so PixelCNN's exact NLL and the
  VAE's bounds are measured on the same binary images, in nats per image;
* training (``train_pixelcnn``): ``vizgen.library.training.fit`` on the student's ``pixelcnn_nll`` with images
  reshaped to ``(B, 1, 28, 28)``; after each epoch the test NLL of a subset and the wall-clock
  minutes are recorded, the curve the README quotes;
* drivers around the student's ``sample``: completing the lower half of test digits
  (``complete_lower_half``) and timing the drawing of 64 samples (``timed``);
* the comparison of the three families (van den Oord et al. 2016, "Pixel Recurrent Neural
  Networks", ICML; Kingma and Welling 2014; Goodfellow et al. 2014): the VAE and GAN notebooks
  record 128 samples of the student's own models, the time to draw 64 and (VAE) the test NLL bounds
  with ``record_family``; this notebook reads them with ``load_family`` (nothing here rebuilds or
  trains those models, so no answer of those assignments ships in this package), and
  ``comparison_table`` prints one row per family.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from vizgen.library.training import linear_decay
from vizgen.library.quality import SampleQuality
from vizgen.library.training import batched_mean, fit

IMAGE = (1, 28, 28)  # one binary channel
PIXELS = 784
NLL = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # the student's pixelcnn_nll(logits, x) -> nats per image
Sampler = Callable[..., torch.Tensor]  # the student's sample(model, n, seed, given=None, start=0)


def as_images(x: torch.Tensor) -> torch.Tensor:
    """Flattened digits ``(N, 784)`` as images ``(N, 1, 28, 28)`` (a view when possible)."""
    return x.reshape(len(x), *IMAGE)


def bits_per_dim(nats_per_image: float, pixels: int = PIXELS) -> float:
    """Nats per image as bits per pixel: divide by the pixel count and by log 2."""
    return nats_per_image / (pixels * math.log(2))


@torch.no_grad()
def test_nll(model: nn.Module, nll: NLL, x: torch.Tensor, batch_size: int = 500) -> float:
    """``nll`` of ``model``'s logits on binary digits ``x`` ``(N, 784)``, averaged over all of them
    (nats per image), in eval mode (the model's mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        return batched_mean(lambda batch: nll(model(as_images(batch)), as_images(batch)), x, batch_size)
    finally:
        model.train(was_training)


test_nll.__test__ = False  # pytest must not collect it where it is imported


def train_pixelcnn(model: nn.Module, nll: NLL, grey_train: torch.Tensor, x_eval: torch.Tensor, *, epochs: int,
                   batch_size: int = 128, lr: float = 1e-3, seed: int = 0, log: Callable[[str], None] = print) -> dict:
    """Adam on ``nll(model(x), x)`` (``vizgen.library.training.fit``: fresh binarisation of every batch), the learning
    rate decaying linearly to 0 over the second half of the epochs. After each epoch the test NLL on
    ``x_eval`` ``(M, 784)`` is measured. Returns the curve: ``{"epoch", "minutes", "train", "test"}``
    (minutes of training, evaluation excluded). The model is left in eval mode."""
    curve: dict[str, list[float]] = {"epoch": [], "minutes": [], "train": [], "test": []}
    clock = {"start": time.perf_counter(), "paused": 0.0}

    def record(epoch: int, train_loss: float) -> None:
        stop = time.perf_counter()
        minutes = (stop - clock["start"] - clock["paused"]) / 60
        test = test_nll(model, nll, x_eval)
        clock["paused"] += time.perf_counter() - stop
        for key, value in zip(curve, (epoch, minutes, train_loss, test)):
            curve[key].append(value)
        log(f"epoch {epoch}/{epochs}: {minutes:.1f} min, training NLL {train_loss:.2f}, "
            f"test NLL ({len(x_eval)} digits) {test:.2f} nats")

    fit(model, lambda m, x: nll(m(as_images(x)), as_images(x)), grey_train, epochs=epochs, batch_size=batch_size,
        lr=lr, generator=torch.Generator().manual_seed(seed), on_epoch=record, lr_schedule=linear_decay(epochs))
    model.eval()
    return curve


def timed(draw: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, float]:
    """``draw()`` and the wall-clock seconds it took."""
    start = time.perf_counter()
    value = draw()
    return value, time.perf_counter() - start


def complete_lower_half(sample: Sampler, model: nn.Module, x: torch.Tensor, seed: int, rows: int = 14) -> torch.Tensor:
    """The student's ``sample`` given the first ``rows`` rows of digits ``x`` ``(N, 784)``: it keeps those
    pixels and draws the rest. Returns ``(N, 784)`` binary completions on the CPU."""
    images = sample(model, len(x), seed, given=as_images(x), start=rows * IMAGE[2])  # (N, 1, 28, 28)
    return images.reshape(len(x), -1).float().cpu()


# The comparison: the VAE and the DCGAN of the earlier notebooks.


def checkpoint(notebook_dir: Path, assignment: str, file: str) -> Path | None:
    """``<notebook_dir>/../<assignment>/checkpoints/<file>`` when it exists (the same relative path in
    solutions/ and assignments/), else None."""
    path = Path(notebook_dir).resolve().parent / assignment / "checkpoints" / file
    return path if path.is_file() else None


FAMILY_SAMPLES = 128  # samples each notebook records: the quality measures need more than 64


def record_family(path: Path, draw: Callable[[int], torch.Tensor], **nll: float) -> Path:
    """Record what the comparison needs from one family, with the student's own model, in the notebook
    that trained it: ``draw(n)`` returns ``n`` digits ``(n, 784)`` or ``(n, 1, 28, 28)`` in [-1, 1], the
    first 64 timed; ``nll`` are its test NLLs in nats per image (``bound=``, ``iw=``, ``images=``).
    Saved as a dict of plain tensors and floats (``torch.load(weights_only=True)`` reads it), so the
    PixelCNN notebook needs neither the model's class nor its training code."""
    with torch.no_grad():
        first, seconds = timed(lambda: draw(64))
        samples = torch.cat([first.reshape(64, -1), draw(FAMILY_SAMPLES - 64).reshape(FAMILY_SAMPLES - 64, -1)])
    samples = samples.float().cpu()  # (128, 784)
    if samples.shape[1] != PIXELS or samples.min() < -1 - 1e-4 or samples.max() > 1 + 1e-4:
        raise ValueError(f"draw(n) gave digits of {samples.shape[1]} pixels in [{samples.min():.2f}, "
                         f"{samples.max():.2f}]: return (n, 784) digits in [-1, 1] (map [0, 1] images by x * 2 - 1).")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"samples": samples, "seconds_64": seconds, **{k: float(v) for k, v in nll.items()}}, path)
    return path


def load_family(path: Path | None) -> dict | None:
    """What ``record_family`` saved at ``path``, or None when there is no file."""
    return None if path is None else torch.load(path, weights_only=True)


@dataclass(frozen=True)
class FamilyRow:
    """One line of the comparison: a model, where it came from and what was measured."""

    name: str
    source: str  # "this notebook", "VAE notebook", "data", or what to run first when it is missing
    nll: str  # test NLL in nats per image, as text ("81.3 (exact)", "not defined")
    seconds_64: float | None  # seconds to draw 64 samples (None: not a sampler, or not recorded)
    quality: SampleQuality | None  # None: no samples recorded


def comparison_table(rows: list[FamilyRow]) -> str:
    """The families side by side as fixed-width text, one row each."""
    head = (f"{'model':<28}{'source':<16}{'test NLL (nats)':<30}{'64 samples':>11}{'confident':>11}"
            f"{'digits':>8}{'evenness':>10}{'Frechet':>9}")
    lines = [head, "-" * len(head)]
    for row in rows:
        seconds = "-" if row.seconds_64 is None else f"{row.seconds_64:.2f} s"
        q = row.quality
        measured = "" if q is None else (f"{q.confident_share:>11.1%}{q.digits_present:>5}/10{q.evenness:>10.2f}"
                                         f"{q.frechet:>9.2f}")
        lines.append(f"{row.name:<28}{row.source:<16}{row.nll:<30}{seconds:>11}{measured}")
    return "\n".join(lines)

