"""Data, training and pictures for the variational autoencoder assignment.

* the data: MNIST as grey levels in [0, 1] (``grey_mnist``) and *binarised* digits, each pixel
  drawn once from Bernoulli(grey level) (``binarize``). Protocol: the training digits are
  re-binarised at every pass ("dynamic binarisation", Burda et al. 2016, "Importance Weighted
  Autoencoders", ICLR, Sec. 5.1), the test digits once, with a fixed seed (``binarized_mnist``),
  so that every evaluation sees the same 10,000 binary images;
* the training loop (``fit``): Adam on any per-batch loss, the student's ``vae_loss`` or an
  autoencoder's reconstruction error; minibatches and binarisation draw from an explicit
  ``torch.Generator``, the reparametrisation noise from torch's global RNG, forked and seeded from
  it, so a run repeats exactly and the caller's RNG is left as it was;
* evaluation (``batched_mean``): a per-batch estimate (the negative ELBO, the importance-weighted
  NLL, both in nats per image) averaged over a whole test set in batches, without gradients;
* pictures: digit grids (``show_digits``, reusing ``vizgen.gan``'s grid), decoded walks between
  two codes (``decode_walk``) and the 2-D latent manifold (``latent_manifold``, Kingma and Welling
  2014, "Auto-Encoding Variational Bayes", ICLR, Fig. 4);
* the warm-up's k-means clusters, judged by purity (``cluster_purity``, ``kmeans_purity``).

Images are flattened ``(N, 784)``; decoders return logits, whose sigmoid is the Bernoulli mean.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from vizgen.config import CoursePaths
from vizgen.data import load_mnist
from vizgen.gan import image_grid, interpolate, minibatches, show_grid
from vizgen.models import model_device

BatchLoss = Callable[[nn.Module, torch.Tensor], torch.Tensor]  # (model, x (B, 784)) -> scalar loss
TEST_SEED = 0  # the seed of the one binarisation of the test set that every evaluation uses


def grey_mnist(paths: CoursePaths, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as ``(x (N, 784) float32 grey levels in [0, 1], y (N,) int64)``."""
    images, labels = load_mnist(paths, split)  # (N, 28, 28) uint8, (N,) int64
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)  # (N, 784)
    return x, torch.from_numpy(labels.copy())


def binarize(grey: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each pixel set to 1 with probability its grey level ``(N, 784)`` in [0, 1], else 0 (float32)."""
    if grey.min() < 0 or grey.max() > 1:
        raise ValueError(f"grey levels must lie in [0, 1], got [{grey.min():.3g}, {grey.max():.3g}]: divide by 255.")
    return torch.bernoulli(grey, generator=generator)  # (N, 784) in {0, 1}


def binarized_mnist(paths: CoursePaths, split: str = "test", seed: int = TEST_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST binarised once with a fixed seed: ``(x (N, 784) float32 in {0, 1}, y (N,) int64)``."""
    grey, labels = grey_mnist(paths, split)
    return binarize(grey, torch.Generator().manual_seed(seed)), labels


@contextlib.contextmanager
def _seeded(generator: torch.Generator) -> Iterator[None]:
    """Fork torch's global CPU RNG, seeded from ``generator``, for the block (``torch.randn_like``
    in the student's ``reparametrize`` is then repeatable); the caller's RNG is restored on exit."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def fit(
    model: nn.Module,
    batch_loss: BatchLoss,
    grey_train: torch.Tensor,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    generator: torch.Generator | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    progress: bool = True,
    lr_schedule: Callable[[int], float] | None = None,
) -> list[float]:
    """Train ``model`` with Adam (Kingma and Ba 2015) on ``batch_loss(model, x)``.

    ``grey_train`` is ``(N, 784)`` grey levels in [0, 1]; every batch ``x`` is binarised afresh
    (``binarize``), on the model's device. ``on_epoch(epoch, mean_loss)`` is called after each
    epoch (1, 2, ...). ``lr_schedule(e)`` multiplies ``lr`` during epoch ``e = 0, 1, ...`` (e.g.
    ``vizgen.gan.linear_decay(epochs)``); None keeps it constant. Returns the mean training loss of
    each epoch. The model is left in train mode.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}.")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    device, per_epoch = model_device(model), len(grey_train) // batch_size
    batches = minibatches(grey_train, batch_size, generator)
    history = []
    model.train()
    with _seeded(generator):
        for epoch in range(1, epochs + 1):
            for group in optimizer.param_groups:
                group["lr"] = lr * (lr_schedule(epoch - 1) if lr_schedule is not None else 1.0)
            total = 0.0
            for _ in tqdm(range(per_epoch), disable=not progress, mininterval=2.0, desc=f"epoch {epoch}/{epochs}"):
                x = binarize(next(batches), generator).to(device)  # (B, 784) in {0, 1}
                loss = batch_loss(model, x)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item()
            history.append(total / per_epoch)
            if on_epoch is not None:
                on_epoch(epoch, history[-1])
    return history


@torch.no_grad()
def batched_mean(estimate: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 500,
                 seed: int = 0) -> float:
    """The mean of a per-batch estimate (a scalar averaged over its batch, e.g. nats per image) over
    all of ``x`` ``(N, 784)``, weighted by batch size; the global RNG is forked and seeded, so a
    stochastic estimate gives the same number on every call."""
    total = 0.0
    with _seeded(torch.Generator().manual_seed(seed)):
        for start in range(0, len(x), batch_size):
            batch = x[start : start + batch_size]  # (B, 784)
            total += float(estimate(batch)) * len(batch)
    return total / len(x)


class _MeanImage(nn.Module):
    """``decode`` as a generator for ``vizgen.gan``: codes ``(N, D)`` -> Bernoulli means mapped to [-1, 1]."""

    def __init__(self, decode: Callable[[torch.Tensor], torch.Tensor], like: nn.Module):
        super().__init__()
        self.decode, self.like = decode, like  # ``like`` makes model_device and train/eval follow the model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decode(z)) * 2 - 1  # (N, 784) in [-1, 1]


@torch.no_grad()
def decode_means(model: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """Bernoulli means ``sigmoid(model.decode(z))`` ``(N, 784)`` in [0, 1], in eval mode, on the CPU."""
    was_training = model.training
    model.eval()
    try:
        return torch.sigmoid(model.decode(z.to(model_device(model)))).cpu()  # (N, 784)
    finally:
        model.train(was_training)


def decode_walk(model: nn.Module, z0: torch.Tensor, z1: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """Bernoulli means ``(steps, 784)`` (or ``(K, steps, 784)`` for ``K`` pairs) decoded along the line
    from ``z0`` to ``z1`` (``vizgen.gan.interpolate``), in [0, 1]."""
    adapter = _MeanImage(model.decode, model).train(model.training)  # generate() restores this mode
    return (interpolate(adapter, z0, z1, steps) + 1) / 2


def latent_manifold(model: nn.Module, n: int = 15, edge: float = 0.03) -> torch.Tensor:
    """Means ``(n * n, 784)`` decoded from an ``n x n`` grid of 2-D codes, row by row (the second
    coordinate falls down the rows): the grid is evenly spaced in probability, ``Phi^-1(u)`` for ``u``
    from ``edge`` to ``1 - edge``, so it covers the prior N(0, I) as in Kingma and Welling 2014, Fig. 4."""
    u = torch.linspace(edge, 1 - edge, n)  # (n,)
    axis = torch.distributions.Normal(0.0, 1.0).icdf(u)  # (n,)
    z = torch.stack(torch.meshgrid(axis.flip(0), axis, indexing="ij"), dim=-1).flip(-1).reshape(-1, 2)  # (n * n, 2)
    return decode_means(model, z)


def show_digits(images: torch.Tensor, ncols: int = 10, title: str | None = None, scale: float = 0.6):
    """A Figure of digits ``(N, 784)`` with pixel values in [0, 1] (grey levels, binary digits or
    Bernoulli means), ``ncols`` per row. It does not call ``plt.show()``."""
    return show_grid(torch.as_tensor(images).float() * 2 - 1, ncols=ncols, title=title, scale=scale)


def digit_grid(images: torch.Tensor, ncols: int) -> np.ndarray:
    """``image_grid`` for digits in [0, 1]: one float array in [0, 1] with white gaps."""
    return image_grid(torch.as_tensor(images).float() * 2 - 1, ncols)


def cluster_purity(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Purity of a clustering: each cluster votes for its most common true label; the share of points
    that carry their cluster's label (1.0: every cluster holds one digit). ``labels``, ``clusters``: ``(N,)`` ints."""
    labels, clusters = np.asarray(labels), np.asarray(clusters)
    if labels.shape != clusters.shape or labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels and clusters must be equal-length 1-D arrays, got {labels.shape} and {clusters.shape}.")
    hits = sum(np.bincount(labels[clusters == c]).max() for c in np.unique(clusters))
    return float(hits / len(labels))


def kmeans_purity(features: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, k: int = 10, seed: int = 0) -> float:
    """k-means (scikit-learn, ``k`` clusters, seeded) on ``features (N, D)``; the purity against ``labels (N,)``."""
    from sklearn.cluster import KMeans

    features = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    clusters = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(features.astype(np.float64))  # (N,)
    return cluster_purity(np.asarray(labels), clusters)
