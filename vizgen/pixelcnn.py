"""Training, sampling drivers and the closing comparison of the PixelCNN assignment.

* the data and protocol are the VAE assignment's (``vizgen.vae``): training digits re-binarised at
  every pass, the 10,000 test digits binarised once with seed 0, so PixelCNN's exact NLL and the
  VAE's bounds are measured on the same binary images, in nats per image;
* training (``train_pixelcnn``): ``vizgen.vae.fit`` on the student's ``pixelcnn_nll`` with images
  reshaped to ``(B, 1, 28, 28)``; after each epoch the test NLL of a subset and the wall-clock
  minutes are recorded, the curve the README quotes;
* drivers around the student's ``sample``: completing the lower half of test digits
  (``complete_lower_half``) and timing the drawing of 64 samples (``timed``);
* the comparison of the three families (van den Oord et al. 2016, "Pixel Recurrent Neural
  Networks", ICML; Kingma and Welling 2014; Goodfellow et al. 2014): the VAE and the DCGAN are
  rebuilt from the checkpoints that their notebooks save (``load_vae``, ``load_dcgan``) or, when
  those are absent, retrained briefly (``retrain_vae``, ``retrain_dcgan``); ``vae_nll_estimates``
  gives the VAE's bound and importance-weighted estimate (Burda et al. 2016, eq. 8) and
  ``comparison_table`` prints one row per family.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli, Normal

from vizgen.gan import generate, linear_decay, minibatches
from vizgen.quality import SampleQuality
from vizgen.vae import batched_mean, fit

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
    """Adam on ``nll(model(x), x)`` (``vizgen.vae.fit``: fresh binarisation of every batch), the learning
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


class BernoulliVAE(nn.Module):
    """The VAE notebook's model with its attribute names, so that its state dict loads: one hidden
    ReLU layer each side, Gaussian heads ``mu_layer`` / ``logvar_layer``, a decoder ending in logits."""

    def __init__(self, pixels: int = PIXELS, width: int = 400, code: int = 20):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(pixels, width), nn.ReLU())
        self.mu_layer, self.logvar_layer = nn.Linear(width, code), nn.Linear(width, code)
        self.decoder = nn.Sequential(nn.Linear(code, width), nn.ReLU(), nn.Linear(width, pixels))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(x)  # (N, width)
        return self.mu_layer(hidden), self.logvar_layer(hidden)  # (N, code) each

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (..., pixels) logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, logvar = self.encode(x)
        return self.decode(mu + (logvar / 2).exp() * torch.randn_like(mu))  # (N, pixels) logits


def load_vae(path: Path) -> BernoulliVAE:
    """The VAE saved by the VAE notebook (``checkpoints/vae.pt``), sizes read from the state dict, eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    width, pixels = state["encoder.0.weight"].shape
    model = BernoulliVAE(pixels, width, state["mu_layer.weight"].shape[0])
    model.load_state_dict(state)
    return model.eval()


def _log_weights(model: nn.Module, x: torch.Tensor, k: int) -> torch.Tensor:
    """log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x) for k codes z_i ~ q(z | x): ``(k, N)``."""
    mu, logvar = model.encode(x)  # (N, Z), (N, Z)
    posterior = Normal(mu, (logvar / 2).exp())
    z = posterior.rsample((k,))  # (k, N, Z)
    return (Bernoulli(logits=model.decode(z)).log_prob(x).sum(-1) + Normal(0.0, 1.0).log_prob(z).sum(-1)
            - posterior.log_prob(z).sum(-1))  # (k, N)


@torch.no_grad()
def vae_nll_estimates(model: nn.Module, x: torch.Tensor, k: int) -> torch.Tensor:
    """``(2,)``: the negative ELBO (minus the mean of the k log-weights) and the importance-weighted NLL
    -log (1/k) sum_i w_i (Burda et al. 2016, eq. 8), each averaged over the images ``x`` ``(N, 784)``,
    with w_i = p(x | z_i) p(z_i) / q(z_i | x) and z_i ~ q(z | x) (nats per image)."""
    log_w = _log_weights(model, x, k)  # (k, N)
    iw = math.log(k) - torch.logsumexp(log_w, dim=0)  # (N,)
    return torch.stack([-log_w.mean(), iw.mean()])


def retrain_vae(grey_train: torch.Tensor, epochs: int = 2, seed: int = 0) -> BernoulliVAE:
    """A small stand-in for the VAE notebook's model when its checkpoint is absent: the same model,
    ``epochs`` passes of Adam on a one-sample negative ELBO."""
    with torch.random.fork_rng(devices=[]):  # seeded, and the caller's random state is left as it was
        torch.manual_seed(seed)
        model = BernoulliVAE()
    # the negative ELBO with one sample (Kingma and Welling 2014, eq. 3), as in the VAE notebook
    fit(model, lambda m, x: -_log_weights(m, x, 1).mean(), grey_train, epochs=epochs,
        generator=torch.Generator().manual_seed(seed), progress=False)
    return model.eval()


def dcgan_generator(noise: int = 96, hidden: int = 1024, channels: tuple[int, int] = (128, 64)) -> nn.Sequential:
    """The GAN notebook's DCGAN generator, in the same module order so that its state dict loads:
    noise ``(N, noise)`` -> images ``(N, 784)`` in [-1, 1], through 7x7, 14x14 and 28x28 feature maps."""
    wide, narrow = channels
    layers = [nn.Linear(noise, hidden), nn.ReLU(), nn.BatchNorm1d(hidden)]
    layers += [nn.Linear(hidden, wide * 49), nn.ReLU(), nn.BatchNorm1d(wide * 49), nn.Unflatten(1, (wide, 7, 7))]
    layers += [nn.ConvTranspose2d(wide, narrow, 4, 2, 1), nn.ReLU(), nn.BatchNorm2d(narrow)]
    layers += [nn.ConvTranspose2d(narrow, 1, 4, 2, 1), nn.Tanh(), nn.Flatten()]
    return nn.Sequential(*layers)


def load_dcgan(path: Path) -> nn.Sequential:
    """The DCGAN generator saved by the GAN notebook (``checkpoints/dcgan_generator.pt``), eval mode."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    noise, hidden = state["0.weight"].shape[1], state["0.weight"].shape[0]
    model = dcgan_generator(noise, hidden, tuple(state["7.weight"].shape[:2]))
    model.load_state_dict(state)
    return model.eval()


def retrain_dcgan(real: torch.Tensor, iterations: int = 300, batch_size: int = 128, seed: int = 0) -> nn.Sequential:
    """A small stand-in for the GAN notebook's DCGAN when its checkpoint is absent: the same generator,
    ``iterations`` alternating Adam steps (lr 1e-3, betas (0.5, 0.999)) of the non-saturating game
    against a small convolutional discriminator. ``real``: ``(N, 784)`` digits in [-1, 1]."""
    with torch.random.fork_rng(devices=[]):  # seeded, and the caller's random state is left as it was
        torch.manual_seed(seed)
        return _train_dcgan(real, iterations, batch_size, seed)


def _train_dcgan(real: torch.Tensor, iterations: int, batch_size: int, seed: int) -> nn.Sequential:
    G = dcgan_generator()
    D = nn.Sequential(nn.Unflatten(1, IMAGE), nn.Conv2d(1, 32, 4, 2, 1), nn.LeakyReLU(0.2),  # (N, 32, 14, 14)
                      nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(64 * 49, 1))  # (N, 1)
    opt_d, opt_g = (torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999)) for m in (D, G))
    batches = minibatches(real, batch_size, torch.Generator().manual_seed(seed))
    for _ in range(iterations):
        fake = G(torch.rand(batch_size, 96) * 2 - 1)  # (B, 784)
        # Goodfellow et al. 2014, eq. 1: D ascends log D(x) + log(1 - D(G(z))); softplus(-a) = -log sigmoid(a)
        d_loss = F.softplus(-D(next(batches))).mean() + F.softplus(D(fake.detach())).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = F.softplus(-D(fake)).mean()  # the non-saturating -log D(G(z)) (Goodfellow et al. 2014, Sec. 3)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    return G.eval()


def dcgan_samples(G: nn.Module, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` DCGAN digits ``(n, 784)`` in [-1, 1] from uniform noise in [-1, 1] (the GAN notebook's)."""
    noise = torch.rand(n, G[0].in_features, generator=torch.Generator().manual_seed(seed)) * 2 - 1  # (n, noise)
    return generate(G, noise)


@dataclass(frozen=True)
class FamilyRow:
    """One line of the comparison: a model, where it came from and what was measured."""

    name: str
    source: str  # "this notebook", "checkpoint", "small retrain", "data"
    nll: str  # test NLL in nats per image, as text ("81.3 (exact)", "not defined")
    seconds_64: float | None  # seconds to draw 64 samples (None: not a sampler)
    quality: SampleQuality


def comparison_table(rows: list[FamilyRow]) -> str:
    """The families side by side as fixed-width text, one row each."""
    head = (f"{'model':<28}{'source':<16}{'test NLL (nats)':<30}{'64 samples':>11}{'confident':>11}"
            f"{'digits':>8}{'evenness':>10}{'Frechet':>9}")
    lines = [head, "-" * len(head)]
    for row in rows:
        seconds = "-" if row.seconds_64 is None else f"{row.seconds_64:.2f} s"
        q = row.quality
        lines.append(f"{row.name:<28}{row.source:<16}{row.nll:<30}{seconds:>11}{q.confident_share:>11.1%}"
                     f"{q.digits_present:>5}/10{q.evenness:>10.2f}{q.frechet:>9.2f}")
    return "\n".join(lines)

