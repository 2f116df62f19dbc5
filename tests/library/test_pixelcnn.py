"""vizgen.topics.pixelcnn: the training and sampling drivers and the comparison's records, on tiny inputs."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vizgen.topics.pixelcnn import (COURSE_REFERENCE, FAMILY_SAMPLES, OWN, REFERENCE, REFERENCE_KEYS, FamilyRow,
                                    as_images, bits_per_dim, checkpoint, comparison_table, complete_lower_half,
                                    family_records, load_family, load_reference, record_family, save_reference,
                                    idle_threads, test_nll, timed, train_pixelcnn)
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


class TinyConv(nn.Module):
    """A 1x1 convolution: parameters Adam's moments depend on, unlike PixelMarginals' constant gradient."""

    def __init__(self, channels=1):
        super().__init__()
        self.conv = nn.Conv2d(1, channels, 1)

    def forward(self, x):
        return self.conv(x * 0 + 1)[:, :1]


def _train(model, path, epochs=2, **kwargs):
    grey = _digits(96)
    x_eval = torch.bernoulli(_digits(16, seed=1), generator=torch.Generator().manual_seed(2))
    lines = []
    curve = train_pixelcnn(model, _nll, grey, x_eval, epochs=epochs, batch_size=32, lr=0.05, seed=3,
                           checkpoint=path, log=lines.append, **kwargs)
    return curve, lines


def test_training_resumes_from_its_checkpoint_as_if_never_stopped(tmp_path):
    torch.manual_seed(0)
    uninterrupted = TinyConv()
    start = {k: v.clone() for k, v in uninterrupted.state_dict().items()}
    whole, _ = _train(uninterrupted, None, epochs=3)

    path = tmp_path / "checkpoints" / "pixelcnn.pt"
    first = TinyConv()
    first.load_state_dict(start)
    _, lines = _train(first, path, epochs=3, budget_minutes=0.0)  # a kill after epoch 1, saved
    assert path.is_file() and not path.with_name("pixelcnn.pt.partial").exists()
    assert lines[0].startswith("epoch 1/3") and lines[0].endswith("saved") and "stopped after epoch 1/3" in lines[1]

    resumed = TinyConv()  # a fresh kernel reruns the cell: the same seed, the same untrained model
    resumed.load_state_dict(start)
    curve, lines = _train(resumed, path, epochs=3)
    assert lines[0] == f"resumed from {path} after epoch 1/3" and [line[:9] for line in lines[1:]] == ["epoch 2/3",
                                                                                                      "epoch 3/3"]
    assert curve["epoch"] == [1, 2, 3] and curve["train"] == pytest.approx(whole["train"])
    assert curve["test"] == pytest.approx(whole["test"])
    for name, value in uninterrupted.state_dict().items():
        assert torch.allclose(resumed.state_dict()[name], value), name

    again = TinyConv()
    again.load_state_dict(start)
    done, lines = _train(again, path, epochs=3)  # finished: nothing left to train
    assert done["epoch"] == [1, 2, 3] and len(lines) == 1


def test_training_starts_over_from_a_checkpoint_of_other_settings(tmp_path):
    path = tmp_path / "pixelcnn.pt"
    _train(TinyConv(), path, epochs=1)
    curve, lines = _train(TinyConv(channels=2), path, epochs=1)  # another architecture
    assert "starting over" in lines[0] and "shapes" in lines[0] and curve["epoch"] == [1]
    _, lines = _train(TinyConv(channels=2), path, epochs=2)  # the same architecture, other epochs
    assert "starting over" in lines[0] and "epochs" in lines[0]
    changed = TinyConv(channels=2)
    changed.conv.bias.data += 1  # the same shapes, another computation: a code change
    _, lines = _train(changed, path, epochs=2)
    assert "starting over" in lines[0] and "code changed" in lines[0]
    path.write_bytes(b"not a checkpoint")
    _, lines = _train(TinyConv(channels=2), path, epochs=2)
    assert "could not be read" in lines[0] and len(lines) == 3


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


def test_the_course_reference_holds_only_samples_and_numbers():
    raw = torch.load(COURSE_REFERENCE, weights_only=True)
    families = set(raw) - {"made"}
    assert families == set(REFERENCE_KEYS)
    assert isinstance(raw["made"], str) and "solution" in raw["made"]
    for name in families:
        keys = REFERENCE_KEYS[name]
        assert set(raw[name]) == {"samples", *keys}
        assert raw[name]["samples"].shape == (FAMILY_SAMPLES, 784) and raw[name]["samples"].dtype == torch.uint8
        assert all(isinstance(raw[name][k], float) and raw[name][k] > 0 for k in keys)
    reference = load_reference()
    assert set(reference) == families
    for name in families:
        samples = reference[name]["samples"]
        assert samples.dtype == torch.float32 and -1 <= samples.min() and samples.max() <= 1 and samples.std() > 0.1
    assert 80 < reference["VAE"]["iw"] < reference["VAE"]["bound"] < 110 and reference["VAE"]["images"] >= 1000


def test_the_comparison_takes_the_students_records_else_the_course_reference(tmp_path):
    here = tmp_path / "solutions" / "pixelcnn"
    here.mkdir(parents=True)
    records = family_records(here)
    assert {name: r["source"] for name, r in records.items()} == {"VAE": REFERENCE, "DCGAN": REFERENCE}
    assert torch.equal(records["VAE"]["samples"], load_reference()["VAE"]["samples"])

    record_family(tmp_path / "solutions" / "variational_autoencoders" / "checkpoints" / "vae_family.pt",
                  lambda n: torch.zeros(n, 784), bound=99.0, iw=96.0, images=2000)
    records = family_records(here)
    assert records["VAE"]["source"] == OWN and records["VAE"]["bound"] == 99.0
    assert torch.equal(records["VAE"]["samples"], torch.zeros(FAMILY_SAMPLES, 784))
    record_family(tmp_path / "solutions" / "generative_adversarial_networks" / "checkpoints" / "dcgan_family.pt",
                  lambda n: torch.ones(n, 784))
    assert family_records(here)["DCGAN"]["source"] == OWN

    (tmp_path / "solutions" / "generative_adversarial_networks" / "checkpoints" / "dcgan_family.pt").unlink()
    only_vae = save_reference({"VAE": load_reference()["VAE"]}, tmp_path / "only_vae.pt")  # a family not shipped
    assert family_records(here, only_vae)["DCGAN"] is None
    both = save_reference({"VAE": load_reference()["VAE"], "DCGAN": {"samples": -torch.ones(128, 784),
                                                                     "seconds_64": 0.5}}, tmp_path / "both.pt")
    assert family_records(here, both)["DCGAN"]["source"] == REFERENCE
    without = family_records(here, tmp_path / "absent.pt")
    assert without["VAE"]["source"] == OWN and without["DCGAN"] is None


def test_a_reference_round_trips_through_uint8(tmp_path):
    samples = torch.linspace(-1, 1, FAMILY_SAMPLES * 784).reshape(FAMILY_SAMPLES, 784)
    records = {"VAE": {"samples": samples, "seconds_64": 0.01, "bound": 99.0, "iw": 95.0, "images": 2000.0},
               "DCGAN": {"samples": -samples, "seconds_64": 0.02}}
    reference = load_reference(save_reference(records, tmp_path / "ref.pt", made="the solution notebooks, test"))
    assert (reference["VAE"]["samples"] - samples).abs().max() <= 1 / 255 + 1e-6
    assert reference["DCGAN"]["seconds_64"] == 0.02 and reference["VAE"]["made"] == "the solution notebooks, test"


def test_idle_threads_follow_the_load_and_the_setting(monkeypatch):
    monkeypatch.delenv("VIZGEN_THREADS", raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr("os.getloadavg", lambda: (0.3, 0.0, 0.0))
    assert idle_threads() == 2
    monkeypatch.setattr("os.getloadavg", lambda: (1.2, 0.0, 0.0))
    assert idle_threads() == 2
    monkeypatch.setattr("os.getloadavg", lambda: (1.7, 0.0, 0.0))
    assert idle_threads() == 1
    monkeypatch.setattr("os.getloadavg", lambda: (9.0, 0.0, 0.0))
    assert idle_threads() == 1
    monkeypatch.setenv("VIZGEN_THREADS", "2")
    assert idle_threads() == 2
