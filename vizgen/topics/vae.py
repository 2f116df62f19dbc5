"""Pictures and measures for the variational autoencoder assignment.

* decoding: Bernoulli means of the decoder (``decode_means``), decoded walks between two codes
  (``decode_walk``) and the 2-D latent manifold (``latent_manifold``, Kingma and Welling 2014,
  "Auto-Encoding Variational Bayes", ICLR, Fig. 4);
* the warm-up's k-means clusters, judged by purity (``cluster_purity``, ``kmeans_purity``).

The data protocol (binarised MNIST: ``vizgen.library.mnist``), the training loop and the batched
evaluation (``vizgen.library.training``) and digit grids (``vizgen.library.grids``) are general
helpers that the PixelCNN assignment uses too.

Images are flattened ``(N, 784)``; decoders return logits, whose sigmoid is the Bernoulli mean.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from vizgen.library.models import model_device
from vizgen.library.sampling import interpolate


class _MeanImage(nn.Module):
    """``decode`` as a generator for ``vizgen.library.sampling``: codes ``(N, D)`` -> Bernoulli means
    mapped to [-1, 1]."""

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
    from ``z0`` to ``z1`` (``vizgen.library.sampling.interpolate``), in [0, 1]."""
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


def cluster_purity(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Purity of a clustering: each cluster votes for its most common true label; the share of points
    that carry their cluster's label (1.0: every cluster holds one digit). ``labels``, ``clusters``: ``(N,)`` ints."""
    labels, clusters = np.asarray(labels), np.asarray(clusters)
    if labels.shape != clusters.shape or labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels and clusters must be equal-length 1-D arrays, got {labels.shape} "
                         f"and {clusters.shape}.")
    hits = sum(np.bincount(labels[clusters == c]).max() for c in np.unique(clusters))
    return float(hits / len(labels))


def kmeans_purity(features: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, k: int = 10,
                  seed: int = 0) -> float:
    """k-means (scikit-learn, ``k`` clusters, seeded) on ``features (N, D)``; the purity against ``labels (N,)``."""
    from sklearn.cluster import KMeans

    features = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    clusters = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(features.astype(np.float64))  # (N,)
    return cluster_purity(np.asarray(labels), clusters)
