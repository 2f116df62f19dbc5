"""vizgen.topics.pixelcnn: the training and sampling drivers and the comparison's records, on tiny inputs."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vizgen.topics.pixelcnn import (FAMILY_SAMPLES, FamilyRow, as_images, bits_per_dim, checkpoint, comparison_table,
                             complete_lower_half, load_family, record_family, test_nll, timed, train_pixelcnn)
from vizgen.library.quality import SampleQuality

from verbs.test_benchmarks import _load  # loads a benchmark script by name


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


def test_a_family_record_round_trips_without_the_models_code(tmp_path):
    draws = []

    def draw(n):  # a stand-in generator: (n, 1, 28, 28) in [-1, 1]
        draws.append(n)
        return torch.rand(n, 1, 28, 28) * 2 - 1

    path = record_family(tmp_path / "checkpoints" / "vae_family.pt", draw, bound=97.5, iw=95.25, images=2000)
    record = load_family(path)
    assert draws == [64, FAMILY_SAMPLES - 64]
    assert record["samples"].shape == (FAMILY_SAMPLES, 784) and record["samples"].dtype == torch.float32
    assert record["bound"] == 97.5 and record["iw"] == 95.25 and record["images"] == 2000 and record["seconds_64"] >= 0
    assert load_family(None) is None


def test_a_family_record_refuses_images_outside_minus_one_to_one(tmp_path):
    with pytest.raises(ValueError, match=r"x \* 2 - 1"):
        record_family(tmp_path / "f.pt", lambda n: torch.full((n, 784), 3.0))
    assert not (tmp_path / "f.pt").exists()


def test_comparison_table_has_a_row_per_family():
    q = SampleQuality(0.5, 9, 0.9, 12.3, [1] * 10)
    table = comparison_table([FamilyRow("PixelCNN", "this notebook", "88.10 exact", 12.5, q),
                              FamilyRow("DCGAN", "GAN notebook", "not defined", 0.01, q),
                              FamilyRow("real training digits", "data", "-", None, q),
                              FamilyRow("VAE", "not recorded", "run the VAE notebook", None, None)])
    lines = table.splitlines()
    assert len(lines) == 6 and "Frechet" in lines[0]
    assert ("88.10 exact" in lines[2] and "12.50 s" in lines[2] and "not defined" in lines[3]
            and "GAN notebook" in lines[3])
    assert "50.0%" in lines[4] and "9/10" in lines[4]
    assert "run the VAE notebook" in lines[5] and "%" not in lines[5]


def test_pixelcnn_recipe_records_the_curve_and_the_sampling_time(monkeypatch, capsys):
    recipes = _load("pixelcnn_recipe")
    monkeypatch.setitem(recipes.RECIPES, "tiny", recipes.Recipe(4, 1, 2, batch_size=64))
    result = recipes.run("tiny", train_size=256, eval_size=64)
    assert [p["epoch"] for p in result["points"]] == [1, 2] and result["points"][-1]["test"] < 784 * 0.7
    assert result["test_nll_10000"] > 0 and result["sample_64_seconds"] > 0
    recipes.summary([result])
    assert "tiny (channels 4, blocks 1, 2 epochs" in capsys.readouterr().out
