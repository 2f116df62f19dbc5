"""vizgen.pixelcnn: the training and sampling drivers and the comparison's models and estimates, on tiny inputs."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vizgen.pixelcnn import (BernoulliVAE, FamilyRow, as_images, bits_per_dim, checkpoint, comparison_table,
                             complete_lower_half, dcgan_generator, dcgan_samples, load_dcgan, load_vae, retrain_dcgan,
                             retrain_vae, test_nll, timed, train_pixelcnn, vae_nll_estimates)
from vizgen.quality import SampleQuality

from test_benchmarks import _load  # loads a benchmark script by name


def _nll(logits, x):  # the students' pixelcnn_nll: BCE summed over pixels, mean over images
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)


class PixelMarginals(nn.Module):
    """One learned logit per pixel, whatever the input: the simplest model of (N, 1, 28, 28) digits."""

    def __init__(self):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(1, 1, 28, 28))

    def forward(self, x):
        return self.logits.expand(len(x), 1, 28, 28)


def _digits(n, seed=0):
    generator = torch.Generator().manual_seed(seed)
    grey = torch.zeros(n, 28, 28)
    grey[:, 8:20, 12:16] = 0.9  # a vertical bar: the same "digit" for every image
    return (grey + 0.05 * torch.rand(n, 28, 28, generator=generator)).clamp(0, 1).reshape(n, 784)  # (n, 784) in [0, 1]


def test_units():
    x = torch.arange(2 * 784.0).view(2, 784)
    assert as_images(x).shape == (2, 1, 28, 28) and torch.equal(as_images(x)[1, 0, 0, :3], x[1, :3])
    assert bits_per_dim(784 * math.log(2)) == pytest.approx(1.0)
    assert bits_per_dim(81.30) == pytest.approx(0.1496, abs=1e-4)


def test_test_nll_is_the_mean_over_all_digits_and_restores_the_mode():
    model = PixelMarginals().train()
    x = torch.bernoulli(torch.full((7, 784), 0.5), generator=torch.Generator().manual_seed(1))
    assert test_nll(model, _nll, x, batch_size=3) == pytest.approx(784 * math.log(2), rel=1e-6)  # logits 0: log 2 each
    assert model.training


def test_train_pixelcnn_lowers_the_test_nll_and_records_the_curve():
    grey = _digits(256)
    x_eval = torch.bernoulli(_digits(64, seed=1), generator=torch.Generator().manual_seed(2))
    model = PixelMarginals()
    before = test_nll(model, _nll, x_eval)
    lines = []
    curve = train_pixelcnn(model, _nll, grey, x_eval, epochs=2, batch_size=32, lr=0.1, log=lines.append)
    assert set(curve) == {"epoch", "minutes", "train", "test"} and curve["epoch"] == [1, 2]
    assert curve["test"][-1] < before / 2 and curve["minutes"][0] <= curve["minutes"][1]
    assert len(lines) == 2 and "test NLL" in lines[0] and not model.training


def test_complete_lower_half_asks_the_sampler_for_the_rows_below():
    calls = {}

    def fake_sample(model, n, seed, given=None, start=0):
        calls.update(n=n, seed=seed, shape=tuple(given.shape), start=start)
        return given.clone()

    x = torch.bernoulli(torch.full((3, 784), 0.5))
    out = complete_lower_half(fake_sample, None, x, seed=4)
    assert calls == {"n": 3, "seed": 4, "shape": (3, 1, 28, 28), "start": 14 * 28}
    assert torch.equal(out, x)


def test_timed_returns_the_value_and_seconds():
    value, seconds = timed(lambda: torch.ones(2))
    assert torch.equal(value, torch.ones(2)) and 0 <= seconds < 5


def test_checkpoint_is_found_beside_the_sibling_notebook(tmp_path):
    here = tmp_path / "solutions" / "pixelcnn"
    here.mkdir(parents=True)
    assert checkpoint(here, "variational_autoencoders", "vae.pt") is None
    saved = tmp_path / "solutions" / "variational_autoencoders" / "checkpoints" / "vae.pt"
    saved.parent.mkdir(parents=True)
    saved.write_bytes(b"x")
    assert checkpoint(here, "variational_autoencoders", "vae.pt") == saved


def test_vae_round_trip_through_a_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = BernoulliVAE(pixels=30, width=12, code=3).eval()
    assert sorted(model.state_dict()) == sorted(  # the VAE notebook's attribute names
        f"{layer}.{p}" for layer in ("encoder.0", "mu_layer", "logvar_layer", "decoder.0", "decoder.2")
        for p in ("weight", "bias"))
    torch.save(model.state_dict(), tmp_path / "vae.pt")
    loaded = load_vae(tmp_path / "vae.pt")
    x = torch.rand(4, 30)
    assert torch.equal(loaded.encode(x)[0], model.encode(x)[0]) and loaded.decoder[2].out_features == 30


def test_vae_estimates_are_exact_when_q_is_the_posterior():
    """With a decoder that ignores z and q(z|x) = N(0, I) = p(z | x), every weight is p(x): bound = IW = -log p(x)."""
    model = BernoulliVAE(pixels=5, width=3, code=2)
    with torch.no_grad():
        for layer in (model.mu_layer, model.logvar_layer, model.decoder[2]):
            layer.weight.zero_()
        model.mu_layer.bias.zero_()
        model.logvar_layer.bias.zero_()
        model.decoder[2].bias.copy_(torch.tensor([1.0, -2.0, 0.5, 3.0, -0.5]))
    x = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0, 1.0]])
    exact = _nll(model.decoder[2].bias.expand_as(x), x).item()
    bound, iw = vae_nll_estimates(model, x, 10)
    assert bound.item() == pytest.approx(exact, rel=1e-5) and iw.item() == pytest.approx(exact, rel=1e-5)


def test_vae_importance_weighting_tightens_the_bound():
    torch.manual_seed(1)
    model = BernoulliVAE(pixels=20, width=8, code=2)
    x = torch.bernoulli(torch.full((50, 20), 0.4))
    bound, iw = vae_nll_estimates(model, x, 200)
    assert iw < bound


def test_dcgan_generator_loads_the_gan_notebooks_state_dict(tmp_path):
    G = dcgan_generator()
    # the GAN notebook's generator: Linear, ReLU, BatchNorm1d, Linear, ReLU, BatchNorm1d, Unflatten,
    # ConvTranspose2d, ReLU, BatchNorm2d, ConvTranspose2d, Tanh, Flatten
    assert {k.split(".")[0] for k in G.state_dict()} == {"0", "2", "3", "5", "7", "9", "10"}
    assert sum(p.numel() for p in G.parameters()) == 6_675_009  # the GAN checks' count for build_dc_generator(96)
    torch.save(G.state_dict(), tmp_path / "dcgan_generator.pt")
    samples = dcgan_samples(load_dcgan(tmp_path / "dcgan_generator.pt"), 5, seed=1)
    assert samples.shape == (5, 784) and samples.abs().max() <= 1
    assert torch.equal(samples, dcgan_samples(load_dcgan(tmp_path / "dcgan_generator.pt"), 5, seed=1))


def test_retrained_stand_ins_are_models_in_eval_mode():
    grey = _digits(300)
    state = torch.get_rng_state()
    vae = retrain_vae(grey, epochs=1)
    assert not vae.training and vae.decode(torch.zeros(2, 20)).shape == (2, 784)
    G = retrain_dcgan(grey * 2 - 1, iterations=2, batch_size=16)
    assert not G.training and dcgan_samples(G, 3).shape == (3, 784)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is left as it was


def test_comparison_table_has_a_row_per_family():
    q = SampleQuality(0.5, 9, 0.9, 12.3, [1] * 10)
    table = comparison_table([FamilyRow("PixelCNN", "this notebook", "88.10 exact", 12.5, q),
                              FamilyRow("DCGAN", "small retrain", "not defined", 0.01, q),
                              FamilyRow("real training digits", "data", "-", None, q)])
    lines = table.splitlines()
    assert len(lines) == 5 and "Frechet" in lines[0]
    assert "88.10 exact" in lines[2] and "12.50 s" in lines[2] and "not defined" in lines[3] and "small retrain" in lines[3]
    assert "50.0%" in lines[4] and "9/10" in lines[4]


def test_pixelcnn_recipe_records_the_curve_and_the_sampling_time(monkeypatch, capsys):
    recipes = _load("pixelcnn_recipe")
    monkeypatch.setitem(recipes.RECIPES, "tiny", recipes.Recipe(4, 1, 2, batch_size=64))
    result = recipes.run("tiny", train_size=256, eval_size=64)
    assert [p["epoch"] for p in result["points"]] == [1, 2] and result["points"][-1]["test"] < 784 * 0.7
    assert result["test_nll_10000"] > 0 and result["sample_64_seconds"] > 0
    recipes.summary([result])
    assert "tiny (channels 4, blocks 1, 2 epochs" in capsys.readouterr().out
