"""Random functions judged by their distribution: goodness-of-fit tests over many draws.

A sampler with the right mean and variance but the wrong law (uniform noise scaled to unit variance,
signs, the argmax instead of a draw) passes any check of two moments; it fails these. Each test
rejects a correct sampler with probability ``FALSE_FAILURE`` (the stated false-failure rate of one
check; ``tests/author/test_distribution.py`` measures it), whatever the seed the draws came from:

- ``expect_distribution``: a one-sample Kolmogorov-Smirnov test of continuous draws against a CDF.
- ``expect_categorical``: draws of categories, each from its own probabilities (a pixel's conditional
  in a PixelCNN), tested by the randomised probability integral transform (Brockwell 2007): with
  ``u = F(x - 1) + v * p(x)``, ``v ~ U(0, 1)`` drawn by the grader, ``u`` is exactly uniform when each
  ``x`` follows its own ``p``, so a KS test of ``u`` against U(0, 1) sees a wrong law at any position,
  not only wrong counts overall.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from vizgen.author.messages import CheckFailure

FALSE_FAILURE = 1e-4  # the chance that one distribution check fails a correct sampler
MIN_DRAWS = 1000  # fewer draws cannot tell the usual wrong laws from the right one at this rate


def _flat(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _enough(n: int, what: str) -> None:
    if n < MIN_DRAWS:
        raise ValueError(f"a distribution check of {what} needs at least {MIN_DRAWS} draws, got {n}: ask the "
                         "student's function for more samples")


def ks_test(x: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> tuple[float, float]:
    """The one-sample Kolmogorov-Smirnov statistic of ``x`` against ``cdf`` and its p-value, by Kolmogorov's
    limit law with Stephens' (1970) small-sample correction (accurate to a few per cent of the p-value from
    100 draws; these checks take 1000 or more). ``scipy.special`` only: ``scipy.stats`` costs a grade ~0.7 s
    of imports."""
    from scipy.special import kolmogorov

    n = x.size
    f = np.asarray(cdf(np.sort(x)), dtype=np.float64)
    steps = np.arange(1, n + 1) / n
    statistic = float(max((steps - f).max(), (f - (steps - 1 / n)).max()))
    root = np.sqrt(n)
    return statistic, float(kolmogorov((root + 0.12 + 0.11 / root) * statistic))


def expect_distribution(samples: Any, cdf: Callable[[np.ndarray], np.ndarray], what: str, law: str, hint: str,
                        alpha: float = FALSE_FAILURE) -> None:
    """``samples`` (any shape, flattened) are independent draws of the law whose CDF is ``cdf`` (e.g.
    ``scipy.special.ndtr``, the standard normal's); else fail naming ``law`` (e.g. "N(0, 1)"), the KS
    statistic, and ``hint``."""
    x = _flat(samples)
    _enough(x.size, what)
    if not np.isfinite(x).all():
        raise CheckFailure(f"{what} holds {int((~np.isfinite(x)).sum())} NaN or infinite values: {hint}.")
    statistic, pvalue = ks_test(x, cdf)
    if pvalue < alpha:
        raise CheckFailure(
            f"{what} does not follow {law}: over {x.size} draws the largest gap between their distribution and "
            f"{law}'s is {statistic:.3f} (a correct sampler's is this large with probability "
            f"{pvalue:.1e}; the check fails below {alpha:g}); mean {x.mean():.3f}, standard deviation "
            f"{x.std():.3f}: {hint}.")


def expect_categorical(draws: Any, probs: Any, what: str, hint: str, alpha: float = FALSE_FAILURE,
                       seed: int = 0) -> None:
    """``draws`` (integers, shape (...,)) are independent draws, each of the categorical law in the matching
    row of ``probs`` ((..., K), rows summing to 1; or (K,) for every draw); else fail with the category whose
    count is furthest from its expectation, and ``hint``. ``seed``: the grader's own uniform draws ``v``."""
    x = _flat(draws)
    _enough(x.size, what)
    p = probs.detach().cpu().double().numpy() if isinstance(probs, torch.Tensor) else np.asarray(probs, float)
    p = np.broadcast_to(p, (x.size, p.shape[-1])) if p.ndim == 1 else p.reshape(x.size, -1)
    k = p.shape[1]
    if not (np.isfinite(x).all() and (x == np.round(x)).all() and (x >= 0).all() and (x < k).all()):
        raise CheckFailure(f"{what} holds values that are not categories 0..{k - 1}: {hint}.")
    index = x.astype(np.int64)
    below = np.cumsum(p, axis=1) - p  # F(x - 1) per row
    rows = np.arange(x.size)
    v = np.random.default_rng(seed).random(x.size)
    u = np.clip(below[rows, index] + v * p[rows, index], 0.0, 1.0)
    statistic, pvalue = ks_test(u, lambda t: t)
    if pvalue < alpha:
        observed = np.bincount(index, minlength=k)
        expected = p.sum(axis=0)
        worst = int(np.argmax(np.abs(observed - expected) / np.sqrt(np.maximum(expected, 1.0))))
        raise CheckFailure(
            f"{what} do not follow their probabilities: over {x.size} draws, category {worst} came {observed[worst]} "
            f"times where {expected[worst]:.0f} were expected, and the draws' ranks within their own distributions "
            f"are not uniform (KS statistic {statistic:.3f}; a correct sampler's is this large with "
            f"probability {pvalue:.1e}, the check fails below {alpha:g}): {hint}.")
