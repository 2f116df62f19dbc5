"""vizgen.topics.vae on tiny inputs: binarisation, the training loop, batched evaluation, pictures, purity;
and the assignment's grader pieces: its judge (the named loss mistakes, the closed-form case, PCA) and the
probe and model of its probes module that the judge's loop drives."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import ROOT
from vizgen.library import grids, mnist, training
from vizgen.topics import vae
from vizgen.author.support import load_judge, support_module
from vizgen.engine.stores import ReferenceStore

_folder = ROOT / "autograder" / "variational_autoencoders"
_probes = support_module(_folder / "probes.py")  # beside the student's code
_judge = load_judge(_folder / "judge.py")  # grader only
TinyVAE, low_rank_data = _probes.TinyVAE, _probes.low_rank_data
pca_reference, kl_to_prior, log_marginal_constant_decoder, vae_loss_candidates = (
    _judge.pca_reference, _judge.kl_to_prior, _judge.log_marginal_constant_decoder, _judge.vae_loss_candidates)


def iw_estimates(iw_nll, x, weight, bias, mu_q, logvar_q, ks=(1,), repeats=1):
    """The judge's loop over k and repeats, each estimate one call of the probe (here in this process)."""
    return _judge.iw_estimates(lambda *args, **kwargs: _probes.iw_estimate(iw_nll, *args, **kwargs), x, weight, bias,
                               mu_q, logvar_q, ks=ks, repeats=repeats)


class Tiny(nn.Module):
    """A VAE on 784 pixels with 2 latent dimensions and no hidden layer: fast enough for a test."""

    def __init__(self):
        super().__init__()
        self.enc, self.dec = nn.Linear(784, 4), nn.Linear(2, 784)

    def encode(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)  # (N, 2) each
        return mu, logvar

    def decode(self, z):
        return self.dec(z)  # (..., 784)

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode(mu + torch.exp(logvar / 2) * torch.randn_like(mu)), mu, logvar


def _loss(model, x):
    logits, mu, logvar = model(x)
    return (
        F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum()) / len(x)


def test_binarize_draws_each_pixel_with_its_grey_level():
    grey = torch.tensor([0.0, 1.0, 0.25]).repeat(20_000, 1)  # (20000, 3)
    binary = mnist.binarize(grey, torch.Generator().manual_seed(0))
    assert set(binary.unique().tolist()) <= {0.0, 1.0}
    assert binary[:, 0].sum() == 0 and binary[:, 1].min() == 1
    assert abs(binary[:, 2].mean().item() - 0.25) < 0.01  # standard error 0.003
    with pytest.raises(ValueError, match="divide by 255"):
        mnist.binarize(grey * 255)


def test_binarize_is_repeatable_with_a_seed():
    grey = torch.rand(5, 784, generator=torch.Generator().manual_seed(1))
    first = mnist.binarize(grey, torch.Generator().manual_seed(7))
    assert torch.equal(first, mnist.binarize(grey, torch.Generator().manual_seed(7)))
    assert not torch.equal(first, mnist.binarize(grey, torch.Generator().manual_seed(8)))


def test_fit_lowers_the_loss_repeatably_and_keeps_the_callers_rng():
    grey = torch.rand(64, 784, generator=torch.Generator().manual_seed(2)) ** 3  # (64, 784) mostly dark
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = Tiny()
        state = torch.random.get_rng_state()
        epochs = []
        history = training.fit(model, _loss, grey, epochs=4, batch_size=16, lr=1e-2,
                          generator=torch.Generator().manual_seed(3), on_epoch=lambda e, loss: epochs.append(e),
                          progress=False)
        assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG was forked, not consumed
        runs.append(history)
        assert epochs == [1, 2, 3, 4] and len(history) == 4
    assert runs[0] == runs[1]
    assert runs[0][-1] < runs[0][0]


def test_batched_mean_weights_batches_by_size():
    x = torch.arange(10, dtype=torch.float32)[:, None]  # (10, 1)
    assert training.batched_mean(lambda b: b.mean(), x, batch_size=4) == pytest.approx(4.5)


def test_latent_manifold_covers_the_prior_row_by_row():
    model = Tiny()
    with torch.no_grad():
        model.dec.weight.zero_()
        model.dec.weight[0] = torch.tensor([1.0, 0.0])  # pixel 0's logit is z1
        model.dec.weight[1] = torch.tensor([0.0, 1.0])  # pixel 1's logit is z2
        model.dec.bias.zero_()
    means = vae.latent_manifold(model, n=3)  # (9, 784)
    z1 = torch.logit(means[:, 0]).view(3, 3)  # (rows, cols)
    z2 = torch.logit(means[:, 1]).view(3, 3)
    assert torch.all(z1[:, 1:] > z1[:, :-1])  # z1 grows to the right
    assert torch.all(z2[1:] < z2[:-1])  # z2 falls down the rows
    assert z1[0, 0].item() == pytest.approx(torch.distributions.Normal(0, 1).icdf(torch.tensor(0.03)).item(), abs=1e-4)
    assert model.training  # eval mode only inside


def test_decode_walk_starts_and_ends_at_the_codes():
    model = Tiny().eval()
    z0, z1 = torch.randn(2), torch.randn(2)
    walk = vae.decode_walk(model, z0, z1, steps=5)  # (5, 784)
    assert walk.shape == (5, 784)
    assert torch.allclose(walk[0], vae.decode_means(model, z0[None])[0], atol=1e-6)
    assert torch.allclose(walk[-1], vae.decode_means(model, z1[None])[0], atol=1e-6)
    assert not model.training  # its mode is restored


def test_digit_grid_and_show_digits():
    grid = grids.digit_grid(torch.zeros(3, 784), ncols=2)
    assert grid.shape == (2 * 29 - 1, 2 * 29 - 1)
    assert grid[:28, :28].max() == 0.0 and grid[-28:, -28:].min() == 1.0  # an unused cell stays white
    import matplotlib.pyplot as plt

    plt.close(grids.show_digits(torch.rand(4, 784), ncols=4, title="t"))


def test_cluster_purity_by_hand():
    labels = np.array([0, 0, 1, 1, 1, 2])
    assert vae.cluster_purity(labels, np.array([5, 5, 5, 7, 7, 7])) == pytest.approx(4 / 6)
    assert vae.cluster_purity(labels, labels + 3) == 1.0
    with pytest.raises(ValueError):
        vae.cluster_purity(labels, labels[:3])


def test_kmeans_purity_separates_well_separated_blobs():
    generator = torch.Generator().manual_seed(4)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    labels = torch.arange(3).repeat_interleave(30)  # (90,)
    features = centres[labels] + torch.randn(90, 2, generator=generator) * 0.5  # (90, 2)
    assert vae.kmeans_purity(features, labels, k=3) == 1.0


def test_named_mistakes_differ_from_the_correct_loss():
    generator = torch.Generator().manual_seed(5)
    logits, x = (torch.randn(3, 6, generator=generator) * 3,
                 torch.bernoulli(torch.full((3, 6), 0.5), generator=generator))
    mu, logvar = torch.randn(3, 2, generator=generator), torch.randn(3, 2, generator=generator)
    candidates = vae_loss_candidates(logits, x, mu, logvar)
    manual = (F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
              - 0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp())) / 3  # PyTorch VAE example's form
    assert candidates["correct"] == pytest.approx(manual.item(), rel=1e-6)
    values = list(candidates.values())
    assert all(not math.isclose(a, b, rel_tol=1e-4) for i, a in enumerate(values) for b in values[i + 1 :])


def _solution_iw(model, x, k):
    mu, logvar = model.encode(x)
    eps = torch.randn(k, *mu.shape)
    z = mu + torch.exp(logvar / 2) * eps  # (k, N, Z)
    log_w = (-F.binary_cross_entropy_with_logits(model.decode(z), x.expand(k, *x.shape), reduction="none").sum(-1)
             - 0.5 * z.pow(2).sum(-1) + 0.5 * (eps.pow(2) + logvar).sum(-1))  # (k, N)
    return -(torch.logsumexp(log_w, 0) - math.log(k)).mean()


def test_tiny_vae_closed_forms():
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    bias = torch.tensor([0.5, -1.0, 2.0])
    exact = log_marginal_constant_decoder(bias, x).mean().item()
    out = iw_estimates(_solution_iw, x, torch.zeros(3, 2), bias, torch.zeros(2), torch.zeros(2), ks=(1, 5), repeats=3)
    assert torch.allclose(out["estimates"], torch.full((2, 3), exact, dtype=torch.float64), atol=1e-5)
    mu_q, logvar_q = torch.tensor([0.4, -0.3]), torch.tensor([-0.2, -0.1])
    out = iw_estimates(_solution_iw, x, torch.zeros(3, 2), bias, mu_q, logvar_q, ks=(1, 2000), repeats=200)
    k1 = out["estimates"][0]  # (200,) one-sample estimates: their mean is the negative ELBO
    assert k1.mean().item() == pytest.approx(exact + kl_to_prior(mu_q, logvar_q), abs=5 * k1.std().item() / 200**0.5)
    assert out["estimates"][1].mean().item() == pytest.approx(exact, abs=0.01)
    model = TinyVAE(torch.zeros(3, 2), bias, mu_q, logvar_q)
    assert model(x)[0].shape == (2, 3)


def test_pca_reference_of_the_checks_equals_sklearn():
    from sklearn.decomposition import PCA

    for n, d, k in ((40, 12, 3), (9, 20, 1)):
        x = low_rank_data(n, d, 4 if n == 40 else 3, seed=1)
        pca = PCA(n_components=k, svd_solver="full").fit(x.numpy())
        assert np.allclose(pca_reference(x, k), pca.inverse_transform(pca.transform(x.numpy())), atol=1e-8)
    # what public checks use
    stored = ReferenceStore(_folder / "public" / "references.pt").case("public_pca_low_rank_k3")
    assert np.allclose(stored.output.numpy(), pca_reference(*stored.args), atol=1e-8)


def test_fit_follows_the_learning_rate_schedule():
    grey = torch.rand(32, 784, generator=torch.Generator().manual_seed(6))
    model = Tiny()
    before = [p.detach().clone() for p in model.parameters()]
    training.fit(model, _loss, grey, epochs=2, batch_size=16, lr_schedule=lambda epoch: 0.0, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # lr 0: nothing moves
