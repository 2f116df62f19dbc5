"""vizgen.topics.style: the VGG19 extractor and its weights, Caffe pre/deprocessing, the paintings and the drivers."""

import numpy as np
import pytest
import torch
from torch import nn

from vizgen.topics import style
from vizgen.library.data import load_package_photo
from vizgen.errors import AssetError


def test_caffe_preprocessing_is_bgr_mean_subtracted_and_inverted():
    pixel = np.array([[[10, 20, 30]]], dtype=np.uint8)  # (1, 1, 3) RGB
    x = style.caffe_preprocess(pixel)  # (1, 3, 1, 1) BGR
    assert x.shape == (1, 3, 1, 1) and x.dtype == torch.float32
    assert torch.allclose(x.flatten(), torch.tensor([30 - 103.939, 20 - 116.779, 10 - 123.68]))
    photos = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    assert np.array_equal(style.caffe_deprocess(style.caffe_preprocess(photos)), photos)
    assert style.caffe_deprocess(style.caffe_preprocess(photos[0])[0]).shape == (5, 7, 3)
    assert style.caffe_deprocess(torch.full((1, 3, 2, 2), 1e4)).max() == 255  # clamped, not wrapped


def test_layer_names_follow_vgg19():
    assert len(style.LAYER_NAMES) == 37
    assert [style.layer_index(n) for n in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "pool5")] == [
        1, 6, 11, 20, 22, 36]
    with pytest.raises(ValueError, match="unknown VGG19 layer 'relu6_1'"):
        style.layer_index("relu6_1")
    net = style.VGG19Features(pooling="max", last="relu2_1")
    expected = ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU"]
    assert [type(m).__name__ for m in net.features] == expected
    assert sum(isinstance(m, nn.Conv2d) for m in style.VGG19Features().features) == 16
    with pytest.raises(ValueError, match="pooling must be 'max' or 'avg'"):
        style.VGG19Features(pooling="min")


def test_vgg19_weights_load_quantised_and_frozen(paths):
    cnn = style.load_vgg19(paths, last="relu3_1")
    assert len(cnn.features) == style.layer_index("relu3_1") + 1
    assert not cnn.training and not any(p.requires_grad for p in cnn.parameters())
    first = cnn.features[0].weight
    assert first.shape == (64, 3, 3, 3) and 1 < first.unique().numel() <= 256  # 256 centroids per layer
    photo = style.caffe_preprocess(load_package_photo("chelsea", 64))  # (1, 3, 64, 64)
    with torch.no_grad():
        feats = style.extract_features(photo, cnn)
    assert [tuple(f.shape[1:]) for f in feats[:2]] == [(64, 64, 64), (64, 64, 64)]
    assert tuple(feats[-1].shape) == (1, 256, 16, 16)
    assert all(torch.isfinite(f).all() for f in feats)
    active = (feats[-1] > 0).float().mean().item()
    assert 0.05 < active < 0.95  # trained filters: neither dead nor all on for a natural photo
    assert len(style.extract_features(photo, cnn, last=3)) == 4


def test_gram_texture_synthesis_with_the_loaded_network_matches_the_painting(paths):
    """A short Gatys texture synthesis on the real weights lowers the Gram loss by an order of magnitude."""
    cnn = style.load_vgg19(paths, last="relu2_1")
    painting = style.caffe_preprocess(style.load_style(paths, "starry_night", 32))  # (1, 3, 32, 32)
    layers = [style.layer_index("relu1_1"), style.layer_index("relu2_1")]

    def gram(f):  # (1, C, H, W) -> (1, C, C)
        flat = f.flatten(2)
        return flat @ flat.transpose(1, 2) / flat[0].numel()

    with torch.no_grad():
        targets = [gram(f) for f in (style.extract_features(painting, cnn)[i] for i in layers)]

    def objective(img):
        feats = style.extract_features(img, cnn)
        return sum(((gram(feats[i]) - t) ** 2).sum() for i, t in zip(layers, targets))

    start = style.random_start((1, 3, 32, 32), seed=0)
    texture, history = style.optimize_image(objective, start, steps=30, method="adam", lr=10.0)
    assert history.total[-1] < 0.1 * history.total[0]
    colours = style.caffe_deprocess(texture)[0].reshape(-1, 3).mean(0)  # the painting's mean colour, roughly
    want = style.caffe_deprocess(painting)[0].reshape(-1, 3).mean(0)
    assert np.abs(colours.astype(float) - want).max() < 40


def test_optimize_image_lowers_the_objective_and_leaves_init_alone():
    target = torch.arange(12.0).reshape(1, 3, 2, 2)
    init = torch.zeros(1, 3, 2, 2)

    def objective(img):
        loss = ((img - target) ** 2).sum()
        return loss, {"squares": loss.item()}

    for method, lr in (("lbfgs", None), ("adam", 0.5)):
        result, history = style.optimize_image(objective, init, steps=40, method=method, lr=lr)
        assert history.total[-1] < 0.05 * history.total[0], method
        assert history.parts["squares"] == history.total and history.seconds > 0
        assert not result.requires_grad and torch.equal(init, torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match="method must be 'lbfgs' or 'adam'"):
        style.optimize_image(objective, init, method="sgd")
    with pytest.raises(TypeError, match="scalar tensor"):
        style.optimize_image(lambda img: img.sum(dim=1), init, steps=1, method="adam")


def test_train_fast_style_trains_in_place_with_seeded_batches():
    photos = torch.randn(6, 3, 8, 8, generator=torch.Generator().manual_seed(0))

    def objective(out, batch):  # learn the identity
        loss = ((out - batch) ** 2).mean()
        return loss, {"identity": loss.item()}

    def run():
        torch.manual_seed(1)
        net = nn.Conv2d(3, 3, 3, padding=1)
        return net, style.train_fast_style(net, photos, objective, steps=60, batch_size=2, lr=0.05, seed=3)

    (net, first), (_, second) = run(), run()
    assert first.total == second.total  # batches come from the seeded private generator
    assert np.mean(first.total[-5:]) < 0.2 * np.mean(first.total[:5])
    assert net.training and style.seconds_per_image(net, photos[:2], repeats=1) > 0


def test_caffe_scaled_network_works_in_unit_range():
    seen = []
    inner = nn.Identity()
    inner.register_forward_hook(lambda module, args, out: seen.append(args[0].abs().max().item()))
    wrapped = style.CaffeScaled(inner, scale=128.0)
    x = torch.full((1, 3, 2, 2), -128.0)
    assert torch.equal(wrapped(x), x) and seen == [1.0]
    assert list(wrapped.parameters()) == list(inner.parameters())


def test_paintings(paths):
    assert style.style_names() == ["cafe_terrace_at_night", "composition_viii", "great_wave", "langlois_bridge",
                                   "starry_night", "the_night_cafe"]
    assert style.load_style(paths, "great_wave", 40).shape == (40, 40, 3)
    with pytest.raises(AssetError, match="unknown painting 'mona_lisa'"):
        style.load_style(paths, "mona_lisa", 40)


def test_residual_caffe_scaled_network_adds_its_change_to_the_photo():
    zero = nn.Conv2d(3, 3, 1)
    nn.init.zeros_(zero.weight), nn.init.zeros_(zero.bias)
    x = torch.randn(2, 3, 4, 4) * 100  # (2, 3, 4, 4) Caffe pixels
    assert torch.equal(style.CaffeScaled(zero, residual=True)(x), x)  # no change: the photo itself
    assert torch.equal(style.CaffeScaled(zero)(x), torch.zeros_like(x))  # without the residual: grey
    shift = nn.Conv2d(3, 3, 1)
    nn.init.zeros_(shift.weight), nn.init.constant_(shift.bias, 0.5)
    assert torch.allclose(style.CaffeScaled(shift, scale=128.0, residual=True)(x), x + 64.0)


class _ColourClassifier(nn.Module):
    """A stand-in for EfficientNet-Lite0 on 3 'classes' beyond 1000: the logits are the mean of each channel."""

    def forward(self, x):  # (N, 3, 224, 224) in [-1, 1] -> (N, 1000)
        assert x.shape[1:] == (3, 224, 224) and x.min() >= -1 - 1e-6 and x.max() <= 1 + 1e-6
        logits = torch.full((len(x), 1000), -10.0)
        logits[:, :3] = x.mean(dim=(2, 3))  # class 0 red, 1 green, 2 blue
        logits[:, 3] = -5.0  # a fixed fourth, so the top-5 holds the three colours and filler classes
        return logits


def test_keeps_class_compares_the_photo_top1_with_the_stylised_top_k():
    red, green = np.zeros((8, 8, 3), np.uint8), np.zeros((6, 6, 3), np.uint8)
    red[..., 0], green[..., 1] = 255, 200
    photos = np.stack([red, np.resize(green, (8, 8, 3))])  # (2, 8, 8, 3): classes 0 and 1
    clf = _ColourClassifier()
    assert style.classify_top(clf, photos, k=1).tolist() == [[0], [1]]
    same = style.keeps_class(clf, photos, photos, k=1)
    assert same["photo_class"].tolist() == [0, 1] and same["kept"].tolist() == [True, True]
    assert same["stylised_top"].shape == (2, 1)
    swapped = style.keeps_class(clf, photos, photos[::-1], k=1)
    assert swapped["kept"].tolist() == [False, False]
    assert style.keeps_class(clf, photos, photos[::-1], k=3)["kept"].tolist() == [True, True]  # 3 colours in the top-3
    with pytest.raises(ValueError, match="2 photos but 1 stylised"):
        style.keeps_class(clf, photos, photos[:1])


def test_keeps_class_with_efficientnet_on_a_photo(paths):
    from vizgen.library.models import load_classifier

    clf = load_classifier(paths)
    cat = load_package_photo("chelsea", 128)[None]  # (1, 128, 128, 3)
    grey = np.full_like(cat, 128)
    assert style.keeps_class(clf, cat, cat)["kept"].tolist() == [True]
    result = style.keeps_class(clf, cat, grey)
    assert result["kept"].tolist() == [False] and result["stylised_top"].shape == (1, 5)
