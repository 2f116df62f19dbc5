"""Hidden checks: other filter stacks and layouts, photos, ties and k = database size, wide PCA, longer
receptive-field stacks and a gradient-based measurement on VGG19, and reference outputs of the solution."""

from pathlib import Path

import torch

from vizgen.author.cases import ReferenceCase
from vizgen.author.expect import (
    expect_clean_model, expect_close, expect_hooks_removed_on_error, expect_input_unchanged, expect_tensor, fail,
)
from vizgen.author.inputs import photo_batch
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

fv = assignment_probes(__file__)  # autograder/feature_visualization/probes.py


def _filters():
    weights = torch.randn(10, 3, 5, 5, generator=torch.Generator().manual_seed(61)) * torch.linspace(0.1, 9, 10).view(
        -1, 1, 1, 1)  # (10, 3, 5, 5) with very different ranges
    return [weights, 2], {}


def _guided_photos():
    return [ModelSpec("tiny_cnn", seed=62), photo_batch(["rocket", "chelsea"], 24), "features.3", 5], {}


def _dream_photo():
    return [photo_batch(["coffee"], 24), ModelSpec("tiny_cnn", seed=63), "features.5", 0.03], {}


REFERENCE_CASES = [
    ReferenceCase("grid_ten_filters", "filter_grid", _filters, atol=1e-6, rtol=1e-5,
                  why="min-max scaling in float32: implementations differ only by rounding (~1e-7)."),
    ReferenceCase("guided_neuron_photos", "guided_backprop_neuron", _guided_photos, atol=1e-5, rtol=1e-4,
                  why="float32 input gradients through ReLU and in-place ReLU6 from the conv output before the "
                      "in-place activation; hook- and Function-based guided rules agree to rounding (~1e-7)."),
    ReferenceCase("dream_photo", "deepdream_step", _dream_photo, atol=1e-5, rtol=1e-4,
                  why="one float32 gradient step normalised by the mean |g|: rounding differs by summation order (~1e-7)."),
]


@check(points=1, function="filter_grid")
def test_filter_grid_reference(student, reference):
    """matches the reference grid of ten 5x5 filters with very different ranges, padding 2 (4 rows of 3, two cells empty)"""
    case = reference.case("grid_ten_filters")
    call = student.filter_grid(*case.args)
    fv.expect_grid(call, *case.args)
    expect_close(call.value, case.output, "filter_grid's image", atol=case.atol, rtol=case.rtol)


@check(points=1, function="filter_grid")
def test_filter_grid_constant_filter(student):
    """a constant filter becomes 0 (no NaN), and nine filters fill a 3x3 grid exactly"""
    weights = torch.randn(9, 3, 2, 3, generator=torch.Generator().manual_seed(64))  # (9, 3, 2, 3)
    weights[4] = 0.7  # constant: max - min = 0
    fv.expect_grid(student.filter_grid(weights, 1), weights, 1)


@check(points=1, function="extract_features")
def test_extract_features_photos(student):
    """on two photos and another tiny CNN: the (N, 64) penultimate features, model and input left as they were"""
    spec, X = ModelSpec("tiny_cnn", seed=65), photo_batch(["astronaut", "coffee"], 20)
    call = student.extract_features(spec, X)
    expect_close(expect_tensor(call.value, "features"), fv.penultimate(fv.SUPPORT.build_model(spec), X), "features",
                 atol=1e-5, rtol=1e-4, hint="return the input of the model's last nn.Linear, flattened to (N, D)")
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")


@check(points=1, function="extract_features")
def test_extract_features_hook_removed_on_error(student):
    """removes its hook even when the forward raises"""
    expect_hooks_removed_on_error(
        lambda: student.extract_features(ModelSpec("raising_cnn", seed=66), photo_batch(["rocket"], 16)),
        "extract_features", fv.RAISES)


@check(points=1, function="nearest_neighbors")
def test_nearest_neighbors_ties_and_all(student):
    """with many equal distances (points on an integer grid) and k = database size, every row sorted by distance"""
    query, database = fv.integer_points(6, 3, seed=67), fv.integer_points(12, 3, seed=68)
    fv.expect_neighbors(student.nearest_neighbors(query, database, 12).value, query, database, 12)
    fv.expect_neighbors(student.nearest_neighbors(query, database, 5).value, query, database, 5)


@check(points=1, function="nearest_neighbors")
def test_nearest_neighbors_digit_sized(student):
    """matches brute force on 784-dimensional rows (20 queries, 300 rows, k = 7) and leaves the inputs unchanged"""
    generator = torch.Generator().manual_seed(69)
    query, database = torch.rand(20, 784, generator=generator), torch.rand(300, 784, generator=generator)
    call = student.nearest_neighbors(query, database, 7)
    fv.expect_neighbors(call.value, query, database, 7)
    expect_input_unchanged(call, "query")
    expect_input_unchanged(call, "database")


@check(points=1, function="pca")
def test_pca_wide(student):
    """wide data (9 rows of 20 features), k = 2: components up to sign and projection, features unchanged"""
    x = fv.spread_data(9, 20, seed=70)
    fv.expect_pca(student.pca(x, 2), x, 2)


@check(points=1, function="pca")
def test_pca_one_component(student):
    """k = 1 on 60 rows of 5 features far from the origin: the direction of largest variance"""
    x = fv.spread_data(60, 5, seed=71) + 50.0
    fv.expect_pca(student.pca(x, 1), x, 1)


@check(points=1, function="get_activations")
def test_get_activations_photos(student):
    """on two photos: features.3's output before the in-place ReLU6, and features.6's, no hook left"""
    spec, X = ModelSpec("tiny_cnn", seed=72), photo_batch(["chelsea", "motorcycle"], 24)
    model = fv.SUPPORT.build_model(spec)
    for layer in ("features.3", "features.6"):
        call = student.get_activations(spec, X, layer)
        expect_close(expect_tensor(call.value, "activations"), fv.layer_output(model, X, layer),
                     f"activations of {layer}", atol=1e-5, rtol=1e-4,
                     hint="keep a clone of the module's output in a forward hook (in-place layers may follow)")
        expect_clean_model(call, "model")


@check(points=1, function="get_activations")
def test_get_activations_hook_removed_on_error(student):
    """removes its hook even when the forward raises"""
    expect_hooks_removed_on_error(
        lambda: student.get_activations(ModelSpec("raising_cnn", seed=73), photo_batch(["coffee"], 16), "features.5"),
        "get_activations", fv.RAISES)


LONG_STACK = [("conv", (5, 5), (2, 2), (2, 2), (1, 1)), ("relu",), ("avgpool", 2, 2, 0, 1), ("conv", 3, 1, 2, 2),
              ("maxpool", 3, 2, 1, 1), ("bn",), ("conv", 1, 1, 0, 1)]


@check(points=1, function="receptive_field")
def test_receptive_field_long_stack(student):
    """a stack with (h, w) pairs, average pooling, dilation and a 1x1 convolution, passed as an nn.Sequential, gives (31, 8, -14)"""
    value = student.probe("receptive_field_of", "receptive_field", LONG_STACK, as_sequential=True).value
    fv.expect_field(value, LONG_STACK, "the long stack")


@check(points=1, function="receptive_field")
def test_receptive_field_identity(student):
    """no geometric layer (only ReLU and BatchNorm) gives (1, 1, 0); one 2x2 max-pool gives (2, 2, 0)"""
    for stack, name in (([("relu",), ("bn",)], "ReLU, BatchNorm"), ([("maxpool", 2, 2, 0, 1)], "a 2x2 max-pool")):
        fv.expect_field(student.probe("receptive_field_of", "receptive_field", stack).value, stack, name)


@check(points=1, function="receptive_field")
def test_receptive_field_measured_on_vgg19(student):
    """VGG19 up to conv3_1 (real weights): its unit (3, 3) depends on exactly the input rows the answer predicts"""
    from vizgen.course.config import course_paths
    from vizgen.topics.style import load_vgg19

    stack = [("vgg19", "conv3_1")]
    value = student.probe("receptive_field_of", "receptive_field", stack).value
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        fail(f"receptive_field returned a {type(value).__name__}; expected a tuple (size, stride, offset).")
    size, stride, offset = (int(v) for v in value)
    vgg = load_vgg19(course_paths(Path(__file__).parent), last="conv3_1")  # 0.3 s: the weights file
    first, last = fv.gradient_field(vgg, 28, unit=3)  # the rows unit (3, 3)'s gradient reaches
    predicted = (offset + 3 * stride, offset + 3 * stride + size - 1)
    if predicted != (first, last):
        fail(f"on VGG19 up to conv3_1 your (size, stride, offset) = {(size, stride, offset)} predicts that unit (3, 3) "
             f"sees input rows {predicted[0]}..{predicted[1]}, but its gradient reaches rows {first}..{last}: "
             "per layer, size += (dilation * (kernel - 1)) * stride, offset -= padding * stride, stride *= layer stride.")


@check(points=1, function="max_activating_patches")
def test_patches_photos(student):
    """on three photos at features.2 of another tiny CNN (field (3, 1, -1)): the 6 strongest units of channel 5 and their patches"""
    spec, images, field = ModelSpec("tiny_cnn", seed=74), photo_batch(["astronaut", "rocket", "flower"], 12), (3, 1, -1)
    call = student.max_activating_patches(spec, images, "features.2", 5, 6, field)
    fv.expect_patches(call, fv.SUPPORT.build_model(spec), images, "features.2", 5, 6, field)


@check(points=1, function="max_activating_patches")
def test_patches_cross_border(student):
    """at features.5 (field (9, 4, -4)) of 12-pixel photos every field crosses the border: those pixels are 0"""
    spec, images, field = ModelSpec("tiny_cnn", seed=75), photo_batch(["china", "grace_hopper"], 12), (9, 4, -4)
    call = student.max_activating_patches(spec, images, "features.5", 7, 4, field)
    fv.expect_patches(call, fv.SUPPORT.build_model(spec), images, "features.5", 7, 4, field)
    expect_input_unchanged(call, "images")


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_reference(student, reference):
    """matches the reference on two photos at features.3, whose output an in-place ReLU6 overwrites"""
    case = reference.case("guided_neuron_photos")
    call = student.guided_backprop_neuron(*case.args)
    expect_close(call.value, case.output, "guided gradient", atol=case.atol, rtol=case.rtol,
                 hint="pick the neuron from the layer's output as the module returned it (keep it, return a clone from "
                      "the hook), and clamp the incoming gradient at 0 at every ReLU and ReLU6")
    expect_clean_model(call, "model")


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_by_hand_other(student):
    """on another Conv-ReLU-Conv(1x1) and channel: the hand-computed guided gradient, input unchanged"""
    spec, X = ModelSpec("conv_relu_conv", seed=76), photo_batch(["chelsea", "coffee"], 9)
    call = student.guided_backprop_neuron(spec, X, "features.2", 0)
    expect_close(expect_tensor(call.value, "guided gradient"), fv.guided_neuron_by_hand(fv.SUPPORT.build_model(spec), X, 0),
                 "guided gradient", atol=1e-5, rtol=1e-4,
                 hint="the strongest unit of the channel per image, guided rule at every ReLU")
    expect_input_unchanged(call, "X")


@check(points=1, function="deepdream_step")
def test_deepdream_step_reference(student, reference):
    """matches the reference step on a photo at features.5 of a tiny CNN"""
    case = reference.case("dream_photo")
    call = student.deepdream_step(*case.args)
    img, spec, layer, lr = case.args
    fv.expect_dream_step(call, fv.SUPPORT.build_model(spec), img, layer, lr, want=case.output, atol=case.atol,
                         rtol=case.rtol)


@check(points=1, function="deepdream_step")
def test_deepdream_step_hook_removed_on_error(student):
    """removes its hook even when the forward raises"""
    expect_hooks_removed_on_error(
        lambda: student.deepdream_step(photo_batch(["rocket"], 16), ModelSpec("raising_cnn", seed=77), "features.0", 0.1),
        "deepdream_step", fv.RAISES)
