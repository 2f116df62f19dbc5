"""Hidden checks: other filter stacks and layouts, photos, ties and k = database size, wide PCA, longer
receptive-field stacks and a gradient-based measurement on VGG19, and reference outputs of the solution.

Each compares with the judge's own values (``judge.case``: the correct value and the usual mistakes' values on
the check's inputs, as a stored case carries them) or with stored references, naming the mistake reproduced."""

from pathlib import Path

import torch

from vizgen.author import (
    ModelSpec, ReferenceCase, assignment_judge, assignment_probes, check, expect_case, expect_clean_model, expect_dtype,
    expect_hooks_removed_on_error, expect_input_unchanged, expect_match, expect_shape, expect_tensor, fail, photo_batch,
)

fv = assignment_probes(__file__)  # autograder/feature_visualization/probes.py: inputs and models
judge = assignment_judge(__file__)  # autograder/feature_visualization/judge.py: correct values, mistakes, verdicts



def _expect_grid(call, case) -> None:
    """filter_grid's value is ``case.output`` (a stored case, or one the judge made); else name the mistake."""
    grid = expect_tensor(call.value, "filter_grid's image")
    expect_shape(grid, case.output.shape, "filter_grid's image", hint=fv.GRID_LAYOUT)
    expect_dtype(grid, torch.float32, "filter_grid's image")
    expect_case(grid, case, "filter_grid's image", fv.GRID_FORMULA, not_finite=fv.GRID_FINITE)
    expect_input_unchanged(call, "weights")


def _expect_pca(call, case) -> None:
    """(projected, components) equal the judge's up to each component's sign; else name the mistake reproduced."""
    value = call.value
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"pca returned a {type(value).__name__}; expected a pair (projected (N, k), components (k, D)).")
    projected = expect_tensor(value[0], "pca's projected").double()
    components = expect_tensor(value[1], "pca's components").double()
    want_projected, want_components = (v.double() for v in case.output)
    expect_shape(components, want_components.shape, "pca's components",
                 hint="return one component per ROW, (k, D): the first k rows of Vh from torch.linalg.svd")
    expect_shape(projected, want_projected.shape, "pca's projected", hint="(features - mean) @ components.T")
    for part, name in ((value[0], "pca's projected"), (value[1], "pca's components")):
        expect_dtype(part, case.args[0].dtype, name, hint="keep features' dtype: no .float() or .double()")
    off = (components @ components.T - torch.eye(len(components), dtype=torch.float64)).abs().max().item()
    if off > 1e-4:
        fail(f"pca's components are not orthonormal rows (components @ components.T differs from the identity by up "
             f"to {off:.3g}): return unit-length, mutually orthogonal rows, the first k right singular vectors of "
             "the centred data (rows of Vh).")
    ours, theirs = judge.canonical_signs(components), judge.canonical_signs(want_components)
    for got, want, name, formula in (
            (components * ours[:, None], want_components * theirs[:, None], "pca's components (up to sign)",
             "the first k right singular vectors of features - mean, by decreasing singular value"),
            (projected * ours[None, :], want_projected * theirs[None, :], "pca's projected",
             "(features - mean) @ components.T")):
        mistakes = {m: v for m, v in case.mistakes.items() if tuple(v.shape) == tuple(want.shape)}
        expect_match(got, want, mistakes, name, formula, atol=case.atol, rtol=case.rtol)
    expect_input_unchanged(call, "features")


def _expect_patches(call, case) -> None:
    """(patches, locations) equal the judge's brute force; else name the mistake reproduced or what differs."""
    value = call.value
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"max_activating_patches returned a {type(value).__name__}; expected (patches, locations).")
    patches, locations = expect_tensor(value[0], "patches"), expect_tensor(value[1], "locations")
    want_patches, want_locations = case.output
    expect_shape(locations, want_locations.shape, "locations", hint="one row (n, i, j) per patch")
    expect_dtype(locations, torch.int64, "locations")
    expect_shape(patches, want_patches.shape, "patches", hint="(k, C, size, size) with size = field[0]")
    expect_dtype(patches, torch.float32, "patches")
    if not torch.equal(locations, want_locations):
        if set(map(tuple, locations.tolist())) == set(map(tuple, want_locations.tolist())):
            fail("max_activating_patches found the right units but not largest first: sort by activation, descending.")
        fail(f"max_activating_patches' first locations are {locations[:2].tolist()}; expected "
             f"{want_locations[:2].tolist()}: take the k largest values of that channel over all images and positions "
             "of the layer's output and unravel each flat index into (n, i, j).")
    inside = want_patches.ne(0).any(dim=1, keepdim=True).expand_as(want_patches)  # pixels inside the image
    if torch.allclose(patches[inside], want_patches[inside], atol=1e-6) and not torch.allclose(patches, want_patches):
        fail("the patches are right inside the image but not where the field crosses its border: fill those "
             "pixels with 0 (pad the images with zeros before cropping).")
    mistakes = {m: v for m, v in case.mistakes.items() if tuple(v.shape) == tuple(want_patches.shape)}
    expect_match(patches, want_patches, mistakes, "patches", judge.PATCH_CROP, atol=case.atol, rtol=case.rtol)


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
                  why="min-max scaling in float32: implementations differ only by rounding (~1e-7).",
                  mistakes="grid_mistakes"),
    ReferenceCase("guided_neuron_photos", "guided_backprop_neuron", _guided_photos, atol=1e-5, rtol=1e-4,
                  why="float32 input gradients through ReLU and in-place ReLU6 from the conv output before the "
                      "in-place activation; hook- and Function-based guided rules agree to rounding (~1e-7).",
                  mistakes="guided_mistakes"),
    ReferenceCase("dream_photo", "deepdream_step", _dream_photo, atol=1e-5, rtol=1e-4,
                  why="one float32 gradient step normalised by the mean |g|: rounding differs by summation order "
                      "(~1e-7).",
                  mistakes="dream_mistakes"),
]


@check(points=1, function="filter_grid")
def test_filter_grid_reference(student, reference):
    ("matches the reference grid of ten 5x5 filters with very different ranges, padding 2 "
     "(4 rows of 3, two cells empty)")
    case = reference.case("grid_ten_filters")
    call = student.filter_grid(*case.args)
    _expect_grid(call, case)  # layout, dtype, NaN, the solution's grid and the mistakes on these filters


@check(points=1, function="filter_grid")
def test_filter_grid_constant_filter(student):
    """a constant filter becomes 0 (no NaN), and nine filters fill a 3x3 grid exactly"""
    weights = torch.randn(9, 3, 2, 3, generator=torch.Generator().manual_seed(64))  # (9, 3, 2, 3)
    weights[4] = 0.7  # constant: max - min = 0
    _expect_grid(student.filter_grid(weights, 1), judge.case("filter_grid", weights, 1, atol=1e-5, rtol=1e-5))


@check(points=2, function="extract_features")
def test_extract_features_photos(student):
    ("on two photos and a CNN whose head is Linear-ReLU-Linear: the (N, 32) input of the last Linear, model and "
     "input left as they were")
    spec, X = ModelSpec("two_linear_cnn", seed=65), photo_batch(["astronaut", "coffee"], 20)
    call = student.extract_features(spec, X)
    candidates = judge.features_mistakes(spec, X)
    feats = expect_tensor(call.value, "features")
    expect_match(feats, candidates.pop("correct"), candidates, "features",
                 "the input of the model's last nn.Linear, flattened to (N, D)", atol=1e-5, rtol=1e-4)
    expect_dtype(feats, torch.float32, "features")
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
    judge.expect_neighbors(student.nearest_neighbors(query, database, 12).value, query, database, 12)
    judge.expect_neighbors(student.nearest_neighbors(query, database, 5).value, query, database, 5)


@check(points=1, function="nearest_neighbors")
def test_nearest_neighbors_digit_sized(student):
    ("matches brute force on 784-dimensional rows (20 queries, 300 rows, k = 7), leaves the inputs unchanged, "
     "and needs no loop over pairs (CPU time on 300 x 300 pairs)")
    generator = torch.Generator().manual_seed(69)
    query, database = torch.rand(20, 784, generator=generator), torch.rand(300, 784, generator=generator)
    call = student.nearest_neighbors(query, database, 7)
    judge.expect_neighbors(call.value, query, database, 7)
    expect_input_unchanged(call, "query")
    expect_input_unchanged(call, "database")
    query, database = torch.randn(300, 8, generator=generator), torch.randn(300, 8, generator=generator)
    timed = student.nearest_neighbors(query, database, 5)
    judge.expect_neighbors(timed.value, query, database, 5)  # only a right answer's cost counts
    judge.expect_no_pair_loop(timed, query, database)


@check(points=1, function="pca")
def test_pca_wide(student):
    """wide data (9 rows of 20 features), k = 2: components up to sign and projection, features unchanged"""
    x = fv.spread_data(9, 20, seed=70)
    _expect_pca(student.pca(x, 2), judge.case("pca", x, 2, atol=1e-4, rtol=1e-4))


@check(points=1, function="pca")
def test_pca_one_component(student):
    """k = 1 on 60 rows of 5 features far from the origin: the direction of largest variance"""
    x = fv.spread_data(60, 5, seed=71) + 50.0
    _expect_pca(student.pca(x, 1), judge.case("pca", x, 1, atol=1e-4, rtol=1e-4))


@check(points=1, function="get_activations")
def test_get_activations_photos(student):
    """on two photos: features.3's output before the in-place ReLU6, and features.6's, no hook left"""
    spec, X = ModelSpec("tiny_cnn", seed=72), photo_batch(["chelsea", "motorcycle"], 24)
    for layer in ("features.3", "features.6"):
        call = student.get_activations(spec, X, layer)
        candidates = judge.activations_mistakes(spec, X, layer)
        expect_match(expect_tensor(call.value, "activations"), candidates.pop("correct"), candidates,
                     f"activations of {layer}", "a clone of the module's output, kept by a forward hook (in-place "
                     "layers may follow)", atol=1e-5, rtol=1e-4)
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
    ("a stack with (h, w) pairs, average pooling, dilation and a 1x1 convolution, passed as an nn.Sequential, "
     "gives (31, 8, -14)")
    value = student.probe("receptive_field_of", "receptive_field", LONG_STACK, as_sequential=True).value
    judge.expect_field(value, LONG_STACK, "the long stack")


@check(points=1, function="receptive_field")
def test_receptive_field_identity(student):
    """no geometric layer (only ReLU and BatchNorm) gives (1, 1, 0); one 2x2 max-pool gives (2, 2, 0)"""
    for stack, name in (([("relu",), ("bn",)], "ReLU, BatchNorm"), ([("maxpool", 2, 2, 0, 1)], "a 2x2 max-pool")):
        judge.expect_field(student.probe("receptive_field_of", "receptive_field", stack).value, stack, name)


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
    first, last = judge.gradient_field(vgg, 28, unit=3)  # the rows unit (3, 3)'s gradient reaches
    predicted = (offset + 3 * stride, offset + 3 * stride + size - 1)
    if predicted != (first, last):
        fail(f"on VGG19 up to conv3_1 your (size, stride, offset) = {(size, stride, offset)} predicts that unit (3, 3) "
             f"sees input rows {predicted[0]}..{predicted[1]}, but its gradient reaches rows {first}..{last}: "
             "per layer, size += (dilation * (kernel - 1)) * stride, offset -= padding * stride, "
             "stride *= layer stride.")


@check(points=1, function="max_activating_patches")
def test_patches_photos(student):
    ("on three photos at features.2 of another tiny CNN (field (3, 1, -1)): the 6 strongest units of channel 5 "
     "and their patches")
    spec, images, field = ModelSpec("tiny_cnn", seed=74), photo_batch(["astronaut", "rocket", "flower"], 12), (3, 1, -1)
    call = student.max_activating_patches(spec, images, "features.2", 5, 6, field)
    _expect_patches(call, judge.case("max_activating_patches", spec, images, "features.2", 5, 6, field, atol=1e-6,
                                     rtol=1e-6))


@check(points=1, function="max_activating_patches")
def test_patches_cross_border(student):
    """at features.5 (field (9, 4, -4)) of 12-pixel photos every field crosses the border: those pixels are 0"""
    spec, images, field = ModelSpec("tiny_cnn", seed=75), photo_batch(["china", "grace_hopper"], 12), (9, 4, -4)
    call = student.max_activating_patches(spec, images, "features.5", 7, 4, field)
    _expect_patches(call, judge.case("max_activating_patches", spec, images, "features.5", 7, 4, field, atol=1e-6,
                                     rtol=1e-6))
    expect_input_unchanged(call, "images")


GUIDED_PHOTOS = ("the neuron picked from the layer's output as the module returned it (keep it, return a clone from "
                 "the hook), with the incoming gradient clamped at 0 at every ReLU and ReLU6")


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_reference(student, reference):
    ("matches the reference on two photos at features.3, whose output an in-place ReLU6 overwrites, and the "
     "judge's guided gradient at features.5, above that ReLU6")
    case = reference.case("guided_neuron_photos")
    call = student.guided_backprop_neuron(*case.args)
    expect_case(expect_tensor(call.value, "guided gradient"), case, "guided gradient", GUIDED_PHOTOS)
    expect_clean_model(call, "model")
    spec, X, _, channel = case.args
    above = judge.case("guided_backprop_neuron", spec, X, "features.5", channel, atol=case.atol, rtol=case.rtol)
    value = student.guided_backprop_neuron(spec, X, "features.5", channel).value
    expect_case(expect_tensor(value, "guided gradient at features.5"), above, "guided gradient at features.5",
                GUIDED_PHOTOS)


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_by_hand_other(student):
    ("on another Conv-ReLU-Conv(1x1): the hand-computed guided gradient of channel 0 at features.2 and at "
     "features.0 (before its in-place ReLU), input unchanged, hooks removed when the forward raises")
    spec, X = ModelSpec("conv_relu_conv", seed=76), photo_batch(["chelsea", "coffee"], 9)
    for layer, hand in (("features.2", judge.guided_neuron_by_hand), ("features.0", judge.first_conv_neuron_by_hand)):
        call = student.guided_backprop_neuron(spec, X, layer, 0)
        candidates = judge.guided_mistakes(spec, X, layer, 0)
        candidates.pop("correct")  # the autograd route; the hand formula is the correct value here
        expect_match(expect_tensor(call.value, "guided gradient"), hand(spec, X, 0), candidates,
                     f"guided gradient at {layer}",
                     "the strongest unit of the channel per image (the layer's output as the module returned it), "
                     "guided rule at every ReLU", atol=1e-5, rtol=1e-4)
        expect_input_unchanged(call, "X")
    expect_hooks_removed_on_error(
        lambda: student.guided_backprop_neuron(ModelSpec("raising_cnn", seed=76), X, "features.3", 1),
        "guided_backprop_neuron", fv.RAISES)


@check(points=1, function="deepdream_step")
def test_deepdream_step_reference(student, reference):
    """matches the reference step on a photo at features.5 of a tiny CNN and leaves img unchanged"""
    case = reference.case("dream_photo")
    call = student.deepdream_step(*case.args)
    step = expect_tensor(call.value, "deepdream_step's image")
    expect_shape(step, case.output.shape, "deepdream_step's image", hint="return the updated image, same shape as img")
    expect_case(step, case, "deepdream_step's image", fv.DREAM_FORMULA)  # stored with the judge's mistakes
    expect_input_unchanged(call, "img")


@check(points=1, function="deepdream_step")
def test_deepdream_step_hook_removed_on_error(student):
    """removes its hook even when the forward raises"""
    expect_hooks_removed_on_error(
        lambda: student.deepdream_step(photo_batch(["rocket"], 16), ModelSpec("raising_cnn", seed=77),
                                       "features.0", 0.1),
        "deepdream_step", fv.RAISES)
