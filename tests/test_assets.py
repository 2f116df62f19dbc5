"""Offline assets: verified by checksum, clear messages when missing or corrupt, and usable."""

import shutil

import numpy as np
import pytest
import torch

from vizgen.assets import SOURCES, fetch, verify
from vizgen.assets.fetch import fetch_source
from vizgen.config import CoursePaths
from vizgen.data import imagenet_class_names, load_imagenet_samples, load_mnist, load_package_photo
from vizgen.errors import AssetError
from vizgen.image import preprocess
from vizgen.models import ModelSpec, build_model, load_classifier


def _source(name):
    return next(s for s in SOURCES if s.name == name)


def test_everything_fetched_is_verified(paths):
    for source in SOURCES:
        assert verify(paths, source) == [], source.name


def test_corrupt_file_is_detected_and_refetched(paths, tmp_path, monkeypatch):
    course = CoursePaths(tmp_path)
    styles = _source("styles")
    monkeypatch.setenv("VIZGEN_STYLES_SOURCE", str(paths.styles_source))
    assert fetch(course, ["styles"], log=lambda _: None) == {"styles": "fetched"}
    victim = course.datasets / styles.files[0].target
    victim.write_bytes(b"not a painting")
    assert any("wrong SHA-256" in p for p in verify(course, styles))
    assert fetch_source(course, styles, log=lambda _: None) == "fetched"
    assert verify(course, styles) == []


def test_missing_source_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("VIZGEN_STYLES_SOURCE", str(tmp_path / "nowhere"))
    with pytest.raises(AssetError, match="styles: .*not found: put the course's shared/datasets/styles folder"):
        fetch(CoursePaths(tmp_path), ["styles"], log=lambda _: None)


def test_changed_source_is_refused(paths, tmp_path, monkeypatch):
    fake = tmp_path / "styles"
    shutil.copytree(paths.styles_source, fake)
    (fake / _source("styles").files[0].member).write_bytes(b"tampered")
    monkeypatch.setenv("VIZGEN_STYLES_SOURCE", str(fake))
    with pytest.raises(AssetError, match="the source changed; report it to the course staff"):
        fetch(CoursePaths(tmp_path / "course"), ["styles"], log=lambda _: None)


def test_classifier_recognises_the_sample_photos(paths):
    samples = load_imagenet_samples(paths)
    model = load_classifier(paths)
    with torch.no_grad():
        predicted = model(preprocess(samples.images)).argmax(dim=1).numpy()  # (20,)
    assert (predicted == samples.labels).sum() >= 16  # 17 of 20 measured; timm's non-tf_ variant scores far lower
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert len(imagenet_class_names()) == 1000 and imagenet_class_names()[243] == "bull mastiff"


def test_mnist_and_package_photos(paths):
    images, labels = load_mnist(paths, "test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist()[:3] == [980, 1135, 1032]
    assert load_package_photo("chelsea", 64).shape == (64, 64, 3)
    with pytest.raises(AssetError, match="unknown photo 'lena'"):
        load_package_photo("lena")


def test_small_models_are_seeded_and_leave_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = build_model(ModelSpec("tiny_cnn", seed=4)), build_model(ModelSpec("tiny_cnn", seed=4))
    assert torch.rand(1) == before
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    c = build_model(ModelSpec("tiny_cnn", seed=5))
    assert not torch.equal(a.head.weight, c.head.weight)
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        build_model(ModelSpec("resnet"))
