"""The MNIST classifier shipped for the GAN assignment, and the sample-quality measure built on it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from vizgen.library import mnist, quality
from vizgen.errors import AssetError
from vizgen.library.mnist import MnistClassifier, load_mnist_classifier, mnist_tensors
from vizgen.library.quality import evenness, feature_statistics, frechet_distance, sample_quality


def random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)  # (d, d)


# --- Fréchet distance (Heusel et al. 2017) -----------------------------------------------------


def test_frechet_is_zero_for_identical_statistics():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=6), random_spd(rng, 6)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)


def test_frechet_with_equal_covariances_is_squared_mean_distance():
    sigma = random_spd(np.random.default_rng(1), 3)
    # ||(1, 2, 3) - (0, 0, 1)||^2 = 1 + 4 + 4 = 9
    assert frechet_distance(np.array([1.0, 2.0, 3.0]), sigma, np.array([0.0, 0.0, 1.0]), sigma) == pytest.approx(9.0)


def test_frechet_in_one_dimension_matches_closed_form():
    # (m1 - m2)^2 + s1 + s2 - 2 sqrt(s1 s2) = (3 - 1)^2 + 4 + 1 - 2 * 2 = 5
    got = frechet_distance(np.array([3.0]), np.array([[4.0]]), np.array([1.0]), np.array([[1.0]]))
    assert got == pytest.approx(5.0)
    assert frechet_distance(0.0, 9.0, 0.0, 0.25) == pytest.approx(9.0 + 0.25 - 2 * 1.5)


def test_frechet_is_symmetric_non_negative_and_matches_sqrtm():
    rng = np.random.default_rng(2)
    for d in (2, 5, 16):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = random_spd(rng, d), random_spd(rng, d)
        forward, backward = frechet_distance(mu1, s1, mu2, s2), frechet_distance(mu2, s2, mu1, s1)
        assert forward == pytest.approx(backward, rel=1e-9)
        assert forward > 0
        reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
        assert forward == pytest.approx(reference, rel=1e-7)


def test_frechet_handles_singular_covariances():
    sigma = np.diag([1.0, 0.0, 4.0])  # rank 2: sqrt of S1 S2 is ill-conditioned for naive sqrtm
    assert frechet_distance(np.zeros(3), sigma, np.zeros(3), sigma) == pytest.approx(0.0, abs=1e-9)
    # diagonal: sum of (sqrt(a) - sqrt(b))^2 = (1 - 0)^2 + (0 - 1)^2 + (2 - 3)^2 = 3
    assert frechet_distance(np.zeros(3), sigma, np.zeros(3), np.diag([0.0, 1.0, 9.0])) == pytest.approx(3.0)


def test_frechet_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="covariances"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def test_feature_statistics():
    features = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
    mu, sigma = feature_statistics(features)
    np.testing.assert_allclose(mu, [2.0, 2.0])
    np.testing.assert_allclose(sigma, np.cov(features.T))
    with pytest.raises(ValueError, match="N >= 2"):
        feature_statistics(np.zeros((1, 4)))


# --- confident share, digits present, evenness, with a stand-in classifier ----------------------


class PixelLogits(nn.Module):
    """Stand-in classifier: logits are 20 x the first 10 pixels, features the first 4 pixels."""

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), -1)[:, :4]  # (N, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 20 * x.reshape(len(x), -1)[:, :10]  # (N, 10)


def samples_for(classes: list[int | None]) -> torch.Tensor:
    """One flattened sample per entry: confident for that class, or uniform probabilities for None."""
    x = torch.zeros(len(classes), 784)  # (N, 784)
    for i, c in enumerate(classes):
        if c is not None:
            x[i, :10] = -1.0
            x[i, c] = 1.0  # softmax prob ~ 1 - 9 e^-40
    return x


def judge(classes: list[int | None], **kwargs) -> quality.SampleQuality:
    x = samples_for(classes)
    reference = feature_statistics(PixelLogits().features(x))
    return sample_quality(x, PixelLogits().eval(), reference, batch_size=3, **kwargs)


def test_confident_share_digits_and_evenness():
    q = judge([0, 0, 1, 1, 2, 2, 3, 3, 4, 4] + [None] * 10)
    assert q.confident_share == pytest.approx(0.5)
    assert q.digits_present == 5
    assert q.class_histogram == [2, 2, 2, 2, 2, 0, 0, 0, 0, 0]
    assert q.evenness == pytest.approx(math.log(5) / math.log(10))
    assert q.frechet == pytest.approx(0.0, abs=1e-9)  # samples are their own reference
    assert "digits 5/10" in q.summary()


def test_evenness_extremes():
    assert judge(list(range(10)) * 3).evenness == pytest.approx(1.0)
    one_digit = judge([7] * 12 + [None] * 4)
    assert (one_digit.evenness, one_digit.digits_present, one_digit.confident_share) == (0.0, 1, 0.75)
    nothing = judge([None] * 5)
    assert (nothing.evenness, nothing.digits_present, nothing.confident_share) == (0.0, 0, 0.0)
    assert evenness(np.array([1, 3])) == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) / math.log(2))


def test_threshold_decides_confidence():
    x = torch.zeros(2, 784)
    x[:, 0] = 0.11  # logit 2.2 vs 0: p = e^2.2 / (e^2.2 + 9) ~ 0.50
    stand_in = PixelLogits().eval()
    reference = feature_statistics(stand_in.features(samples_for([1, 2, 3])))
    assert sample_quality(x, stand_in, reference, threshold=0.45).confident_share == 1.0
    assert sample_quality(x, stand_in, reference, threshold=0.9).confident_share == 0.0


def test_sample_quality_refuses_a_classifier_in_training_mode():
    with pytest.raises(ValueError, match="classifier.eval()"):
        sample_quality(samples_for([1, 2]), PixelLogits().train(), (np.zeros(4), np.eye(4)))


# --- the shipped classifier ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_set(paths):
    return mnist_tensors(paths, "test")


@pytest.fixture(scope="module")
def classifier():
    return load_mnist_classifier()


@pytest.fixture(scope="module")
def reference(paths, classifier):
    return quality.test_set_statistics(paths, classifier)


def test_mnist_tensors(test_set):
    x, y = test_set
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (10000,) and y.dtype == torch.int64
    assert x.min() == -1.0 and x.max() == 1.0  # 0 -> -1, 255 -> 1
    assert set(y.tolist()) == set(range(10))


def test_mnist_tensors_rejects_unknown_split(paths):
    with pytest.raises(ValueError, match="split must be"):
        mnist_tensors(paths, "validation")


def test_shipped_classifier_is_small_frozen_and_accurate(classifier, test_set):
    assert not classifier.training
    assert all(not p.requires_grad for p in classifier.parameters())
    assert sum(p.numel() for p in classifier.parameters()) <= 250_000
    assert mnist.WEIGHTS_PATH.stat().st_size < 2_000_000
    x, y = test_set
    assert mnist.accuracy(classifier, x[:2000], y[:2000]) >= 0.99


def test_classifier_accepts_flat_and_image_batches(classifier, test_set):
    x = test_set[0][:8]  # (8, 1, 28, 28)
    torch.testing.assert_close(classifier(x.reshape(8, 784)), classifier(x))
    assert classifier.features(x).shape == (8, MnistClassifier.feature_dim)
    with pytest.raises(ValueError, match=r"\(N, 784\) or \(N, 1, 28, 28\)"):
        classifier(x.reshape(8, 28, 28))


def test_real_digits_score_well_and_noise_badly(classifier, test_set, reference):
    x = test_set[0][3000:4000]  # (1000, 1, 28, 28)
    real = sample_quality(x.reshape(1000, 784), classifier, reference)
    assert real.confident_share >= 0.95
    assert real.digits_present == 10
    assert real.evenness >= 0.95
    noise = torch.rand(1000, 784, generator=torch.Generator().manual_seed(0)) * 2 - 1  # uniform in [-1, 1]
    bad = sample_quality(noise, classifier, reference)
    # the classifier calls noise one digit, often confidently (it never saw non-digits), so the
    # confident share alone cannot tell noise from digits: the Fréchet distance and evenness can
    assert bad.frechet > 100 * real.frechet
    assert bad.digits_present <= 2
    assert bad.evenness < 0.2


def test_missing_weights_name_the_rebuild_command(tmp_path):
    with pytest.raises(AssetError, match="vizgen models train-mnist"):
        load_mnist_classifier(tmp_path / "absent.pt")
    broken = tmp_path / "broken.pt"
    torch.save({"conv.0.weight": torch.zeros(3)}, broken)
    with pytest.raises(AssetError, match="vizgen models train-mnist"):
        load_mnist_classifier(broken)


def test_save_and_load_round_trip(tmp_path, test_set):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        model = MnistClassifier().eval()
    loaded = load_mnist_classifier(mnist.save_classifier(model, tmp_path / "w" / "c.pt"))
    x = test_set[0][:4]
    torch.testing.assert_close(loaded(x), model(x))


# --- training: deterministic, leaves the global RNG alone (on a tiny slice, not a retrain) -------


@pytest.fixture
def tiny_mnist(monkeypatch, test_set):
    x, y = test_set
    monkeypatch.setattr(mnist, "mnist_tensors", lambda paths, split="train": (x[:256], y[:256]))


def test_training_is_seeded_and_leaves_global_rng_alone(paths, tiny_mnist):
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first, acc1 = mnist.train_mnist_classifier(paths, epochs=1, seed=4, batch_size=64, log=lambda _: None)
    torch.testing.assert_close(torch.rand(3), expected_next)
    second, acc2 = mnist.train_mnist_classifier(paths, epochs=1, seed=4, batch_size=64, log=lambda _: None)
    other, _ = mnist.train_mnist_classifier(paths, epochs=1, seed=5, batch_size=64, log=lambda _: None)
    assert acc1 == acc2
    for key, value in first.state_dict().items():
        torch.testing.assert_close(second.state_dict()[key], value)
    assert not torch.equal(other.fc[1].weight, first.fc[1].weight)


def test_train_and_save_refuses_a_weak_classifier(paths, tiny_mnist, tmp_path):
    with pytest.raises(AssetError, match="nothing was saved"):
        mnist.train_and_save(paths, tmp_path / "weak.pt", epochs=1, log=lambda _: None)
    assert not (tmp_path / "weak.pt").exists()
