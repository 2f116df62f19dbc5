"""Training, sampling drivers and the closing comparison of the PixelCNN assignment.

* the data and protocol are the VAE assignment's (``vizgen.topics.vae``): training digits re-binarised at
  every pass, the 10,000 test digits binarised once with seed 0, so PixelCNN's exact NLL and the
  VAE's bounds are measured on the same binary images, in nats per image;
* training (``train_pixelcnn``): Adam on the student's ``pixelcnn_nll`` with images reshaped to
  ``(B, 1, 28, 28)``, every batch binarised afresh; after each epoch the test NLL of a subset and the
  wall-clock minutes are recorded (one line logged), the curve the README quotes;
* drivers around the student's ``sample``: completing the lower half of test digits
  (``complete_lower_half``) and timing the drawing of 64 samples (``timed``);
* training saves a checkpoint after every epoch and resumes from it (``train_pixelcnn(checkpoint=...)``);
* the comparison of the three families (van den Oord et al. 2016, "Pixel Recurrent Neural
  Networks", ICML; Kingma and Welling 2014; Goodfellow et al. 2014): the VAE and GAN notebooks
  record 128 samples of the student's own models, the time to draw 64 and (VAE) the test NLL bounds
  with ``record_family``; ``family_records`` reads them, and where a notebook has not been run, the
  course's reference row instead (``load_reference``: samples and numbers measured with the solution
  notebooks, shipped as data in ``vizgen/weights/family_reference.pt``; no model, no code, so no
  answer of those assignments ships in this package); ``comparison_table`` prints one row per family.
"""

from __future__ import annotations

import math
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from vizgen.library.mnist import binarize
from vizgen.library.models import model_device
from vizgen.library.quality import SampleQuality
from vizgen.library.training import batched_mean, linear_decay

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
                   batch_size: int = 128, lr: float = 1e-3, seed: int = 0, checkpoint: Path | None = None,
                   budget_minutes: float | None = None, log: Callable[[str], None] = print) -> dict:
    """Adam on ``nll(model(x), x)``, every batch of ``grey_train`` ``(N, 784)`` binarised afresh (the loop of
    ``vizgen.library.training.fit``), the learning rate decaying linearly to 0 over the second half of the
    epochs. After each epoch the test NLL on ``x_eval`` ``(M, 784)`` is measured and one line is logged.
    Returns the curve: ``{"epoch", "minutes", "train", "test"}`` (minutes of training, evaluation excluded).
    The model is left in eval mode.

    ``checkpoint``: a file where the model, the optimizer, the random generator and the curve are saved
    (atomically) after every epoch. A later call with the same file and the same settings (recorded in
    it: the model's parameter shapes, epochs, batch size, learning rate, seed, training-set size) resumes
    after the last saved epoch, and gives the same model as an uninterrupted run; a checkpoint of other
    settings is ignored (and overwritten) with a message. ``budget_minutes``: stop early, after an epoch,
    when the next epoch would end past this many minutes of training (the curve says where it stopped)."""
    device = model_device(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    settings = {"shapes": [[name, list(p.shape)] for name, p in model.state_dict().items()], "epochs": epochs,
                "batch_size": batch_size, "lr": lr, "seed": seed, "train_size": len(grey_train)}
    behaviour = _behaviour(model, nll)
    curve: dict[str, list[float]] = {"epoch": [], "minutes": [], "train": [], "test": []}
    done = 0
    if checkpoint is not None:
        state = _load_training(Path(checkpoint), settings, behaviour, log)
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            generator.set_state(state["generator"])
            curve = {key: list(values) for key, values in state["curve"].items()}
            done = len(curve["epoch"])
            log(f"resumed from {checkpoint} after epoch {done}/{epochs}")
    per_epoch = len(grey_train) // batch_size
    if per_epoch < 1:
        raise ValueError(f"batch_size {batch_size} is larger than the {len(grey_train)} training digits.")
    schedule = linear_decay(epochs)
    spent = curve["minutes"][-1] if curve["minutes"] else 0.0  # minutes of training before this call
    model.train()
    for epoch in range(done + 1, epochs + 1):
        if budget_minutes is not None and curve["minutes"]:
            last = curve["minutes"][-1] - (curve["minutes"][-2] if len(curve["minutes"]) > 1 else 0.0)
            if spent + last > budget_minutes:
                log(f"stopped after epoch {epoch - 1}/{epochs}: another epoch (about {last:.1f} min) would pass "
                    f"the budget of {budget_minutes:g} minutes of training")
                break
        for group in optimizer.param_groups:
            group["lr"] = lr * schedule(epoch - 1)
        start, total = time.perf_counter(), 0.0
        order = torch.randperm(len(grey_train), generator=generator)  # (N,): a fresh order every epoch
        for b in range(per_epoch):
            x = binarize(grey_train[order[b * batch_size:(b + 1) * batch_size]], generator).to(device)  # (B, 784)
            loss = nll(model(as_images(x)), as_images(x))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        spent += (time.perf_counter() - start) / 60
        test = test_nll(model, nll, x_eval)
        model.train()
        for key, value in zip(curve, (epoch, spent, total / per_epoch, test)):
            curve[key].append(value)
        if checkpoint is not None:
            _save_atomically({"settings": settings, "behaviour": behaviour, "model": model.state_dict(),
                              "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
                              "curve": curve}, Path(checkpoint))
        log(f"epoch {epoch}/{epochs}: {spent:.1f} min, training NLL {total / per_epoch:.2f}, "
            f"test NLL ({len(x_eval)} digits) {test:.2f} nats" + (", saved" if checkpoint is not None else ""))
    model.eval()
    return curve


def _save_atomically(state: dict, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then a rename: a kill leaves the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    partial.replace(path)


@torch.no_grad()
def _behaviour(model: nn.Module, nll: NLL) -> torch.Tensor:
    """What the untrained ``model`` and ``nll`` compute on two fixed images: the sum of the parameters, of the
    logits and the NLL ``(3,)``. A checkpoint resumes only a run that started from the same behaviour, so
    a changed mask, layer or loss (with the same shapes) starts over instead of loading stale weights."""
    x = torch.bernoulli(torch.full((2, *IMAGE), 0.3), generator=torch.Generator().manual_seed(0))
    x = x.to(model_device(model))
    logits = model(x)
    return torch.tensor([sum(float(p.double().sum()) for p in model.parameters()), float(logits.double().sum()),
                         float(nll(logits, x))], dtype=torch.float64)


def _load_training(path: Path, settings: dict, behaviour: torch.Tensor,
                   log: Callable[[str], None]) -> dict | None:
    """The training state saved at ``path`` when it was saved with ``settings`` by a run that started from
    the same ``behaviour`` (``_behaviour``, up to rounding), else None (with a message)."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, weights_only=True)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError) as error:  # from elsewhere, or cut short
        log(f"starting over: {path} could not be read ({type(error).__name__})")
        return None
    saved = state.get("settings") if isinstance(state, dict) else None
    if saved != settings:
        differ = sorted(k for k in settings if not isinstance(saved, dict) or saved.get(k) != settings[k])
        log(f"starting over: {path} was saved with other settings ({', '.join(differ)})")
        return None
    saved = state.get("behaviour")
    if not isinstance(saved, torch.Tensor) or not torch.allclose(saved, behaviour, rtol=1e-4, atol=1e-4):
        log(f"starting over: {path} was saved by a model or loss that computed other values (was the code changed?)")
        return None
    return state


def idle_threads() -> int:
    """How many threads torch should use here: the cores this process may run on less the load average,
    plus one (this process's own core), rounded, between 1 and the cores; ``$VIZGEN_THREADS`` overrides
    it. On 2 cores: two threads up to load 1.5, else one. A second thread made a training batch 1.75x
    faster at load 1.0-1.2 and 2.5x slower at load 9-10 (``benchmarks/pixelcnn_threads_2026-12-07.json``)."""
    if os.environ.get("VIZGEN_THREADS"):
        return max(1, int(os.environ["VIZGEN_THREADS"]))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(cores, round(cores - load + 1)))


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


COURSE_REFERENCE = Path(__file__).resolve().parent.parent / "weights" / "family_reference.pt"
FAMILIES = {"VAE": ("variational_autoencoders", "vae_family.pt"),
            "DCGAN": ("generative_adversarial_networks", "dcgan_family.pt")}  # name: (notebook folder, record)
OWN, REFERENCE = "your notebook", "course reference"  # where a family's row came from
REFERENCE_KEYS = {"VAE": {"bound", "iw", "images", "seconds_64"}, "DCGAN": {"seconds_64"}}  # numbers beside samples


def save_reference(records: dict[str, dict], path: Path = COURSE_REFERENCE, made: str = "") -> Path:
    """The course's reference rows from the records of the solution notebooks (``record_family``): per family
    only its 128 samples, as uint8 grey levels ``(128, 784)``, and its numbers (``REFERENCE_KEYS``); no model
    and no code. ``made`` says where and when they were measured."""
    reference: dict = {"made": made}
    for name, keys in REFERENCE_KEYS.items():
        record = records.get(name)
        if record is None:
            continue
        samples = ((record["samples"].float().reshape(FAMILY_SAMPLES, PIXELS) + 1) / 2 * 255).round()
        reference[name] = {"samples": samples.clamp(0, 255).to(torch.uint8), **{k: float(record[k]) for k in keys}}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(reference, path)
    return path


def load_reference(path: Path = COURSE_REFERENCE) -> dict[str, dict]:
    """The course's reference rows as ``load_family`` gives records: samples ``(128, 784)`` float32 in
    [-1, 1], and the numbers; plus ``"made"``, where and when they were measured."""
    reference = torch.load(path, weights_only=True)
    made = reference.get("made", "")
    return {name: {**{k: v for k, v in reference[name].items() if k != "samples"},
                   "samples": reference[name]["samples"].float() / 255 * 2 - 1, "made": made}
            for name in REFERENCE_KEYS if name in reference}


def family_records(notebook_dir: Path, reference: Path = COURSE_REFERENCE) -> dict[str, dict | None]:
    """For each family of ``FAMILIES``: the record of the student's own notebook (``record_family`` beside
    it, found with ``checkpoint``) when there is one, else the course's reference row (``load_reference``).
    Each record says where it came from under ``"source"``: ``OWN`` or ``REFERENCE``; a family with neither
    is None."""
    course = None
    records: dict[str, dict | None] = {}
    for name, (folder, file) in FAMILIES.items():
        own = load_family(checkpoint(notebook_dir, folder, file))
        if own is not None:
            records[name] = {**own, "source": OWN}
            continue
        course = course if course is not None else (load_reference(reference) if Path(reference).is_file() else {})
        records[name] = {**course[name], "source": REFERENCE} if name in course else None
    return records


@dataclass(frozen=True)
class FamilyRow:
    """One line of the comparison: a model, where it came from and what was measured."""

    name: str
    source: str  # "this notebook", "your notebook", "course reference" or "data"
    nll: str  # test NLL in nats per image, as text ("81.3 (exact)", "not defined")
    seconds_64: float | None  # seconds to draw 64 samples (None: not a sampler, or not recorded)
    quality: SampleQuality | None  # None: no samples recorded


def comparison_table(rows: list[FamilyRow]) -> str:
    """The families side by side as fixed-width text, one row each."""
    head = (f"{'model':<28}{'source':<18}{'test NLL (nats)':<30}{'64 samples':>11}{'confident':>11}"
            f"{'digits':>8}{'evenness':>10}{'Frechet':>9}")
    lines = [head, "-" * len(head)]
    for row in rows:
        seconds = "-" if row.seconds_64 is None else f"{row.seconds_64:.2f} s"
        q = row.quality
        measured = "" if q is None else (f"{q.confident_share:>11.1%}{q.digits_present:>5}/10{q.evenness:>10.2f}"
                                         f"{q.frechet:>9.2f}")
        lines.append(f"{row.name:<28}{row.source:<18}{row.nll:<30}{seconds:>11}{measured}")
    return "\n".join(lines)

