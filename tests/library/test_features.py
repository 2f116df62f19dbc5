"""vizgen.topics.features on tiny inputs (layers for receptive fields, precision@k, the DeepDream driver) and the
grader-side pieces of the feature visualization judge (``judge.py``), against independent routes."""

import numpy as np
import pytest
import torch
from torch import nn

from conftest import ROOT
from vizgen.topics.features import deepdream, geometric_layers, precision_at_k
from vizgen.author.support import load_judge, support_module
from vizgen.author.models import ModelSpec, TinyCNN
from vizgen.topics.style import VGG19Features, layer_index

fv = support_module(ROOT / "autograder" / "feature_visualization" / "probes.py")  # inputs and models
judge = load_judge(ROOT / "autograder" / "feature_visualization" / "judge.py")  # correct values and mistakes


def test_geometric_layers_stop_at_the_named_layer():
    model = TinyCNN()
    layers = geometric_layers(model, "features.4")  # conv, BN, ReLU, conv, ReLU6
    assert layers == [model.features[0], model.features[3]]
    vgg = VGG19Features("max", "relu4_1")
    assert len(geometric_layers(vgg, f"features.{layer_index('relu4_1')}")) == 12  # 9 convs, 3 pools
    with pytest.raises(ValueError, match="named_modules"):
        geometric_layers(model, "features.99")


def test_precision_at_k_counts_matching_labels():
    database_labels = torch.tensor([0, 1, 1, 2])
    neighbors = torch.tensor([[1, 2], [0, 3]])  # query 0 (label 1): 2 hits; query 1 (label 2): 1 hit
    assert precision_at_k(neighbors, database_labels, torch.tensor([1, 2])) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="Q = 3"):
        precision_at_k(neighbors, database_labels, torch.tensor([1, 2, 0]))


def _add(value):
    def step(img, model, layer, learning_rate):
        return img + value  # a new tensor, as deepdream_step's contract says

    return step


def test_deepdream_without_octaves_or_jitter_is_the_steps():
    img = torch.rand(1, 3, 8, 8)
    before = img.clone()
    out = deepdream(img, nn.Identity(), "", _add(0.5), octaves=1, iterations=3, max_jitter=0)
    assert torch.allclose(out, img + 1.5)
    assert torch.equal(img, before)  # the input is left alone


def test_deepdream_undoes_its_jitter_and_clamps():
    img = torch.rand(1, 3, 9, 7)
    rolled = deepdream(img, nn.Identity(), "", _add(0.0), octaves=1, iterations=4, max_jitter=3, seed=5)
    assert torch.allclose(rolled, img)  # a step that adds nothing leaves the image where it was
    clamped = deepdream(img, nn.Identity(), "", _add(10.0), octaves=1, iterations=1, value_range=(0.0, 1.0))
    assert clamped.max() == 1.0


def test_deepdream_carries_detail_up_the_octaves():
    img = torch.zeros(1, 3, 16, 16)
    out = deepdream(img, nn.Identity(), "", _add(1.0), octaves=3, octave_scale=2.0, iterations=1, max_jitter=0)
    assert out.shape == img.shape
    assert torch.allclose(out, torch.full_like(img, 3.0))  # one step at each of the three scales, all carried up
    with pytest.raises(ValueError, match="one image"):
        deepdream(torch.zeros(2, 3, 8, 8), nn.Identity(), "", _add(1.0))


def test_pca_reference_equals_scikit_learn_up_to_sign():
    from sklearn.decomposition import PCA

    x = fv.spread_data(50, 9, seed=1)
    ours = judge.pca_components(x, 3).numpy()
    theirs = PCA(3).fit(x.numpy()).components_
    signs = np.sign((ours * theirs).sum(axis=1, keepdims=True))
    assert np.allclose(ours * signs, theirs, atol=1e-8)


@pytest.mark.parametrize("stack", [
    [("conv", 3, 1, 1, 1), ("conv", 3, 2, 0, 1), ("maxpool", 2, 2, 0, 1), ("conv", 3, 1, 1, 2)],
    [("conv", 5, 2, 2, 1), ("avgpool", 3, 1, 1, 1), ("conv", 3, 2, 1, 3)],
])
def test_field_by_hand_equals_the_gradient_measurement(stack):
    layers = [nn.Conv2d(3, 3, *s[1:3], padding=s[3], dilation=s[4]) if s[0] == "conv" else
              fv.build_stack([s])[0] for s in stack]
    model = nn.Sequential(*layers)
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.constant_(module.weight, 1.0)  # positive weights: every pixel of the field has a gradient
    size, stride, offset = judge.field_by_hand(stack)
    first, last = judge.gradient_field(model, 64, unit=2)
    assert (first, last) == (offset + 2 * stride, offset + 2 * stride + size - 1)


def test_vgg_unit_depends_on_exactly_its_field():
    model = VGG19Features("avg", "conv3_1")
    assert judge.field_by_hand([("conv", 3, 1, 1, 1)]) == (3, 1, -1)
    size, stride, offset = 24, 4, -10  # conv1_1 .. conv3_1 by hand (the hidden check measures real weights)
    assert judge.gradient_field(model, 28, unit=3) == (offset + 3 * stride, offset + 3 * stride + size - 1)


def test_guided_neuron_by_hand_equals_autograd_with_the_guided_rule():
    model = fv.SUPPORT.build_model(ModelSpec("conv_relu_conv", seed=3))
    X = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(3)).requires_grad_(True)
    h = model.features[0](X)
    a = torch.relu(h)
    a.register_hook(lambda g: g.clamp(min=0))  # the guided rule at the only ReLU
    out = model.features[2](a)[:, 1]  # (2, 4, 4)
    out.flatten(1).max(dim=1).values.sum().backward()
    assert torch.allclose(judge.guided_neuron_by_hand(model, X.detach(), 1), X.grad, atol=1e-6)


def test_dream_candidates_differ_and_the_correct_one_ascends():
    model = fv.SUPPORT.build_model(ModelSpec("tiny_cnn", seed=4))
    img = torch.rand(1, 3, 16, 16) * 2 - 1
    candidates = judge.dream_mistakes(img, model, "features.3", 0.05)
    values = list(candidates.values())
    assert all(not torch.allclose(a, b) for i, a in enumerate(values) for b in values[i + 1:])

    def objective(x):
        return 0.5 * judge.layer_output(model, x, "features.3").pow(2).sum().item()

    assert objective(candidates["correct"]) > objective(img)


def test_guided_gradient_equals_the_hand_formulas():
    model = fv.SUPPORT.build_model(ModelSpec("conv_relu_conv", seed=5))
    X = torch.randn(3, 3, 7, 7, generator=torch.Generator().manual_seed(5))
    assert torch.allclose(judge.guided_gradient(model, X, "features.2", 0), judge.guided_neuron_by_hand(model, X, 0),
                          atol=1e-6)
    assert torch.allclose(judge.guided_gradient(model, X, "features.0", 0),
                          judge.first_conv_neuron_by_hand(model, X, 0),
                          atol=1e-6)  # channel 0 is all negative: read before the in-place ReLU


def test_public_references_equal_the_judges_own_values():
    """The shipped public references (the solution's outputs) agree with the judge's routes on the same inputs,
    and carry the mistakes the judge names there."""
    from vizgen.engine.stores import ReferenceStore

    store = ReferenceStore(ROOT / "autograder" / "feature_visualization" / "public" / "references.pt")
    for name in store.load():
        case = store.case(name)
        candidates = judge.MISTAKES_OF[case.function](*case.args, **case.kwargs)
        want, got = candidates.pop("correct"), case.output
        if case.function == "pca":  # components are defined up to sign: the judge's signs are canonical
            signs = judge.canonical_signs(got[1])
            got = (got[0] * signs[None, :], got[1] * signs[:, None])
        for a, b in zip(got, want) if isinstance(want, tuple) else [(got, want)]:
            assert torch.allclose(a.double(), b.double(), atol=1e-5, rtol=1e-4), name
        assert set(case.mistakes) == set(candidates), name
