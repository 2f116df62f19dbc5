"""The distribution checks: their false-failure rate is what they state, and they fail the usual wrong laws
(right mean and variance, wrong distribution; right counts overall, wrong law per position)."""

import numpy as np
import pytest
import torch
from scipy import stats

from vizgen.author import FALSE_FAILURE, CheckFailure, expect_categorical, expect_distribution

TRIALS, ALPHA = 400, 0.05  # the rate is measured at a level where 400 trials resolve it


def _rejections(check) -> int:
    count = 0
    for seed in range(TRIALS):
        try:
            check(np.random.default_rng(seed))
        except CheckFailure:
            count += 1
    return count


def _within_rate(count: int) -> bool:
    """A binomial(TRIALS, ALPHA) count lies in this range with probability > 0.9999."""
    low, high = stats.binom.ppf([5e-5, 1 - 5e-5], TRIALS, ALPHA)
    return low <= count <= high


def test_a_correct_continuous_sampler_fails_at_the_stated_rate():
    count = _rejections(lambda rng: expect_distribution(rng.standard_normal(1000), stats.norm.cdf, "noise",
                                                       "N(0, 1)", "draw with torch.randn", alpha=ALPHA))
    assert _within_rate(count), count


def test_a_correct_categorical_sampler_fails_at_the_stated_rate():
    def check(rng):
        probs = rng.dirichlet(np.ones(4), size=1000)  # (1000, 4): a different law per draw
        draws = np.array([rng.choice(4, p=p) for p in probs])
        expect_categorical(draws, probs, "pixels", "draw with torch.multinomial", alpha=ALPHA, seed=7)
    assert _within_rate(_rejections(check))


@pytest.mark.parametrize("law, draw", [
    ("uniform scaled to unit variance", lambda g: (g.random(20000) - 0.5) * np.sqrt(12)),
    ("random signs", lambda g: g.choice([-1.0, 1.0], 20000)),
    ("Laplace with unit variance", lambda g: g.laplace(scale=np.sqrt(0.5), size=20000)),
])
def test_the_right_moments_with_the_wrong_law_fail(law, draw):
    samples = draw(np.random.default_rng(0))
    assert abs(samples.mean()) < 0.05 and abs(samples.std() - 1) < 0.05  # two moments cannot tell it
    with pytest.raises(CheckFailure, match="does not follow N\\(0, 1\\)"):
        expect_distribution(torch.from_numpy(samples), stats.norm.cdf, "noise", "N(0, 1)", "draw with torch.randn")
    assert FALSE_FAILURE == 1e-4


def test_the_argmax_and_the_right_counts_at_the_wrong_positions_fail():
    rng = np.random.default_rng(1)
    p1 = rng.uniform(0.05, 0.95, 5000)
    probs = np.stack([1 - p1, p1], axis=1)  # (5000, 2): Bernoulli pixels
    right = (rng.random(5000) < p1).astype(np.int64)
    expect_categorical(right, probs, "pixels", "sample")
    with pytest.raises(CheckFailure, match="do not follow their probabilities"):
        expect_categorical(probs.argmax(1), probs, "pixels", "sample with torch.bernoulli, not the argmax")
    shuffled = right[rng.permutation(5000)]  # the same counts, each drawn for another pixel's probability
    with pytest.raises(CheckFailure, match="do not follow their probabilities"):
        expect_categorical(shuffled, probs, "pixels", "sample each pixel from its own probability")


def test_too_few_draws_is_the_authors_error():
    with pytest.raises(ValueError, match="at least 1000 draws"):
        expect_distribution(np.zeros(10), stats.norm.cdf, "noise", "N(0, 1)", "")


@pytest.mark.parametrize("n, scale", [(1000, 1.0), (1000, 1.1), (20000, 1.0), (20000, 1.02)])
def test_the_ks_p_value_agrees_with_scipys_exact_one(n, scale):
    from vizgen.author.distribution import ks_test

    x = np.random.default_rng(n).standard_normal(n) * scale
    statistic, pvalue = ks_test(x, stats.norm.cdf)
    exact = stats.kstest(x, stats.norm.cdf)
    assert statistic == pytest.approx(exact.statistic) and pvalue == pytest.approx(exact.pvalue, rel=0.05, abs=1e-6)
