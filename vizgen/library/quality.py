"""How good are generated MNIST digits? Confidence, coverage and evenness of a digit classifier's
verdicts, and the Fréchet distance between its features of the samples and of real digits.

The Fréchet distance follows Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
Converge to a Local Nash Equilibrium" (NeurIPS), section 3 ("FID"), with the Inception network
replaced by the course's small MNIST classifier (``vizgen.library.mnist``): values are comparable only
with each other, not with published FID numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from vizgen.course.config import CoursePaths
from vizgen.library.mnist import as_mnist_batch, mnist_tensors


def feature_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` (unbiased, N - 1) of ``features (N, D)``, in float64."""
    f = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must be (N, D) with N >= 2 to have a covariance, got {f.shape}.")
    f = f.astype(np.float64)  # (N, D)
    return f.mean(axis=0), np.cov(f, rowvar=False)  # (D,), (D, D)


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix; rounding-level negative eigenvalues count as 0."""
    w, v = np.linalg.eigh((sigma + sigma.T) / 2)  # (D,), (D, D)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T  # (D, D)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2), in float64.

    Heusel et al. 2017, section 3 (the FID):
        d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).
    Tr((S1 S2)^(1/2)) is computed without a non-symmetric matrix square root: S1 S2 is similar to
    the symmetric PSD matrix A = S1^(1/2) S2 S1^(1/2), so it equals the sum of the square roots of
    A's eigenvalues (``eigvalsh``, real by construction; no eps offset or imaginary parts to drop).
    Means are ``(D,)``, covariances ``(D, D)`` symmetric PSD. Returns d^2, as FID does.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"need means (D,) and covariances (D, D) of one D, got {mu1.shape}, {sigma1.shape}, "
            f"{mu2.shape}, {sigma2.shape}."
        )
    root1 = _psd_sqrt(sigma1)  # (D, D)
    a = root1 @ sigma2 @ root1  # (D, D), symmetric PSD, same eigenvalues as S1 S2
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((a + a.T) / 2), 0.0, None)).sum()
    diff = mu1 - mu2  # (D,)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


@dataclass(frozen=True)
class SampleQuality:
    """What the MNIST classifier thinks of a batch of generated digits."""

    confident_share: float  # share of samples whose top softmax probability is >= the threshold
    digits_present: int  # classes (of 10) predicted for at least one confident sample
    evenness: float  # entropy of the confident samples' class histogram / log(10): 1 = even, 0 = one digit
    frechet: float  # Fréchet distance of penultimate features, samples vs. MNIST test set (lower is better)
    class_histogram: list[int] = field(default_factory=list)  # confident samples per predicted class

    def summary(self) -> str:
        return (
            f"confident {self.confident_share:.1%} | digits {self.digits_present}/10 | "
            f"evenness {self.evenness:.2f} | Frechet {self.frechet:.2f}"
        )


def evenness(histogram: np.ndarray) -> float:
    """Normalised entropy H(p) / log(K) of a class histogram ``(K,)``: 1.0 for a perfectly even
    spread over all K classes, 0.0 when one class takes everything or the histogram is empty."""
    counts = np.asarray(histogram, dtype=np.float64)  # (K,)
    if counts.sum() <= 0 or len(counts) < 2:
        return 0.0
    p = counts[counts > 0] / counts.sum()
    return float((p * np.log(1.0 / p)).sum() / math.log(len(counts)))  # 0.0, not -0.0, for one class


@torch.no_grad()
def _run(
    classifier: nn.Module, samples: torch.Tensor, batch_size: int, device: str | torch.device, *, logits: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Penultimate features ``(N, D)`` and, if ``logits``, logits ``(N, 10)`` of ``samples`` (else None),
    run on ``device``, returned on the CPU."""
    if classifier.training:
        raise ValueError("the classifier is in training mode (dropout, batch statistics): call classifier.eval().")
    features, scores = [], []
    for i in range(0, len(samples), batch_size):
        batch = samples[i : i + batch_size].to(device)  # (B, 1, 28, 28)
        features.append(classifier.features(batch).float().cpu())  # (B, D)
        if logits:
            scores.append(classifier(batch).float().cpu())  # (B, 10)
    return torch.cat(features), (torch.cat(scores) if logits else None)


def test_set_statistics(
    paths: CoursePaths, classifier: nn.Module, *, batch_size: int = 500, device: str | torch.device = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and covariance ``(D, D)`` of the classifier's features of the 10k MNIST test digits."""
    x, _ = mnist_tensors(paths, "test")  # (10000, 1, 28, 28)
    features, _ = _run(classifier, x, batch_size, device, logits=False)  # (10000, D)
    return feature_statistics(features)


test_set_statistics.__test__ = False  # pytest must not collect it where it is imported


def sample_quality(
    samples: torch.Tensor | np.ndarray,
    classifier: nn.Module,
    reference_stats: tuple[np.ndarray, np.ndarray],
    *,
    threshold: float = 0.9,
    batch_size: int = 500,
    device: str | torch.device = "cpu",
) -> SampleQuality:
    """Judge generated digits with an MNIST classifier (``vizgen.library.mnist.load_mnist_classifier()``).

    ``samples`` are ``(N, 784)`` or ``(N, 1, 28, 28)`` in [-1, 1], N >= 2; ``classifier`` is in
    eval mode on ``device`` and has ``features(x) -> (N, D)`` and ``forward(x) -> (N, 10)``;
    ``reference_stats`` is ``test_set_statistics(paths, classifier)``.
    """
    x = as_mnist_batch(torch.as_tensor(samples).detach().float())  # (N, 1, 28, 28)
    features, logits = _run(classifier, x, batch_size, device)  # (N, D), (N, 10)
    top_prob, predicted = logits.softmax(dim=1).max(dim=1)  # (N,), (N,)
    confident = top_prob >= threshold  # (N,) bool
    histogram = torch.bincount(predicted[confident], minlength=logits.shape[1]).numpy()  # (10,)
    mu, sigma = feature_statistics(features)
    return SampleQuality(
        confident_share=float(confident.float().mean()),
        digits_present=int((histogram > 0).sum()),
        evenness=evenness(histogram),
        frechet=frechet_distance(mu, sigma, *reference_stats),
        class_histogram=[int(c) for c in histogram],
    )

