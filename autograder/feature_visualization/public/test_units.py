"""Public checks: receptive fields, maximally activating patches, guided backpropagation of one neuron
and the DeepDream step, on hand-computed stacks and tiny seeded CNNs (other inputs than the hidden checks).

Receptive fields are compared with values computed by hand (written below as numbers, with the values
the usual mistakes give); the other correct values and mistakes' values are stored in ``references.pt``
(``PUBLIC_CASES``, built from the solution and the grader's judge): nothing here computes them.
"""

import torch

from vizgen.author import (
    ModelSpec, ReferenceCase, assignment_probes, check, expect_case, expect_clean_model, expect_dtype, expect_finite,
    expect_hooks_removed_on_error, expect_input_unchanged, expect_match, expect_shape, expect_tensor, fail,
    random_images, reproduced_mistake,
)

fv = assignment_probes(__file__)  # autograder/feature_visualization/probes.py: inputs and models only

NOTHING = [("relu",), ("bn",)]
TWO_CONVS = [("conv", 3, 1, 1, 1), ("relu",), ("conv", 3, 1, 1, 1)]
STEM = [("conv", 7, 2, 3, 1), ("bn",), ("relu",), ("maxpool", 3, 2, 1, 1)]  # ResNet's stem
DILATED = [("conv", 3, 1, 2, 2), ("relu",), ("bn",), ("conv", 3, 1, 0, 1), ("avgpool", 2, 2, 0, 1)]

NO_STRIDE = ("the size adds (kernel - 1) per layer without scaling it by the stride so far: each layer adds "
             "(dilation * (kernel - 1)) * (product of the earlier strides)")
NO_DILATION = "the size ignores dilation: a kernel k with dilation d spans d * (k - 1) + 1 pixels"
PAD_UNSCALED = "each padding shifts the field by padding * (the product of the earlier strides), not by padding"
NO_PADDING = "the offset ignores padding: each padded layer moves the field's start padding * (earlier strides) left"
FIELD_RULE = ("per layer, size += (dilation * (kernel - 1)) * stride, offset -= padding * stride, then stride *= the "
              "layer stride")
# (size, stride, offset) by hand, and what each usual mistake gives instead (where it changes the answer).
FIELDS = {
    "ReLU, BatchNorm": (NOTHING, (1, 1, 0), {}),
    "two 3x3 convolutions": (TWO_CONVS, (5, 1, -2), {NO_PADDING: (5, 1, 0)}),
    "ResNet's stem": (STEM, (11, 4, -5), {NO_STRIDE: (9, 4, -5), PAD_UNSCALED: (11, 4, -4), NO_PADDING: (11, 4, 0)}),
    "a dilated stack": (DILATED, (8, 2, -2), {NO_DILATION: (6, 2, -2), NO_PADDING: (8, 2, 0)}),
}


def _expect_field(student, name: str, as_sequential: bool = False) -> None:
    stack, want, mistakes = FIELDS[name]
    value = student.probe("receptive_field_of", "receptive_field", stack, as_sequential=as_sequential).value
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        fail(f"receptive_field returned a {type(value).__name__}; expected a tuple (size, stride, offset).")
    got = tuple(v.item() if isinstance(v, torch.Tensor) and v.numel() == 1 else v for v in value)
    got = tuple(int(v) if isinstance(v, (int, float)) and float(v).is_integer() else v for v in got)
    if got != want:
        known = {m: torch.tensor(v) for m, v in mistakes.items()}
        mistake = reproduced_mistake(torch.tensor(got), known, 0, 0) if all(isinstance(v, int) for v in got) else ""
        fail(f"receptive_field({name}) is {got}; expected (size, stride, offset) = {want}: "
             f"{f'likely bug: {mistake}' if mistake else f'compute {FIELD_RULE}'}.")


@check(points=2, function="receptive_field")
def test_receptive_field_by_hand(student):
    ("ReLU and BatchNorm alone give (1, 1, 0); two 3x3 convolutions (5, 1, -2); "
     "ResNet's stem (7x7 stride 2 pad 3, 3x3 max-pool stride 2 pad 1) (11, 4, -5)")
    for name in ("ReLU, BatchNorm", "two 3x3 convolutions", "ResNet's stem"):
        _expect_field(student, name)


@check(points=1, function="receptive_field")
def test_receptive_field_dilation(student):
    ("a 3x3 convolution with dilation 2 and padding 2, a 3x3 one (ReLU and BatchNorm between) and a 2x2 average "
     "pool, passed as an nn.Sequential, give (8, 2, -2)")
    _expect_field(student, "a dilated stack", as_sequential=True)


GUIDED_RULE = ("backpropagate, for each image, the unit of the channel with the largest activation (the layer's output "
               "as the module returned it), passing gradient only where the activation was positive AND the incoming "
               "gradient is positive, at every nn.ReLU and nn.ReLU6")
GRADIENTS = "float32 input gradients through ReLUs: hook- and Function-based rules agree to rounding (~1e-7)."
PUBLIC_CASES = [
    ReferenceCase("public_patches_tiny_cnn", "max_activating_patches",
                  lambda: ([ModelSpec("tiny_cnn", seed=51), random_images(4, 16, seed=51), "features.5", 2, 5,
                            (9, 4, -4)], {}), atol=1e-6, rtol=1e-6,
                  why="patches copy input pixels exactly; the ranking has no near ties on these inputs.",
                  mistakes="patches_mistakes"),
    ReferenceCase("public_guided_tiny_cnn", "guided_backprop_neuron",
                  lambda: ([ModelSpec("tiny_cnn", seed=53), random_images(2, 16, seed=53), "features.5", 3], {}),
                  atol=1e-5, rtol=1e-4, why=GRADIENTS, mistakes="guided_mistakes"),
    ReferenceCase("public_guided_conv_relu_conv", "guided_backprop_neuron",
                  lambda: ([ModelSpec("conv_relu_conv", seed=54), random_images(3, 7, seed=54), "features.2", 1], {}),
                  atol=1e-5, rtol=1e-4, why=GRADIENTS, mistakes="guided_mistakes"),
    ReferenceCase("public_guided_first_conv", "guided_backprop_neuron",
                  lambda: ([ModelSpec("conv_relu_conv", seed=58), random_images(2, 6, seed=58), "features.0", 0], {}),
                  atol=1e-5, rtol=1e-4, why=GRADIENTS, mistakes="guided_mistakes"),
    ReferenceCase("public_dream_conv_relu_conv", "deepdream_step",
                  lambda: ([random_images(1, 6, seed=56), ModelSpec("conv_relu_conv", seed=56), "features.2", 0.05],
                           {}),
                  atol=1e-5, rtol=1e-4, why="one float32 gradient step normalised by the mean |g|: rounding (~1e-7).",
                  mistakes="dream_mistakes"),
    ReferenceCase("public_dream_tiny_cnn", "deepdream_step",
                  lambda: ([random_images(1, 16, seed=57), ModelSpec("tiny_cnn", seed=57), "features.3", 0.02], {}),
                  atol=1e-5, rtol=1e-4, why="one float32 gradient step normalised by the mean |g|: rounding (~1e-7).",
                  mistakes="dream_mistakes"),
]


@check(points=2, function="max_activating_patches")
def test_patches_brute_force(student, reference):
    """on a tiny CNN (features.5, field (9, 4, -4)) the 5 strongest units of channel 2 and their zero-padded patches"""
    case = reference.case("public_patches_tiny_cnn")
    value = student.max_activating_patches(*case.args).value
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"max_activating_patches returned a {type(value).__name__}; expected (patches, locations).")
    patches, locations = expect_tensor(value[0], "patches"), expect_tensor(value[1], "locations")
    want_patches, want_locations = case.output
    expect_shape(locations, (5, 3), "locations", hint="one row (n, i, j) per patch")
    expect_dtype(locations, torch.int64, "locations")
    expect_shape(patches, want_patches.shape, "patches", hint="(k, C, size, size) with size = field[0] = 9")
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
    expect_match(patches, want_patches, mistakes, "patches",
                 "crop rows offset + i * stride ... + size - 1 (and columns likewise) of images[n]",
                 atol=case.atol, rtol=case.rtol)


@check(points=1, function="max_activating_patches")
def test_patches_side_effects(student):
    """leaves no hook on the model and does not change the images"""
    spec, images = ModelSpec("tiny_cnn", seed=52), random_images(2, 16, seed=52)
    call = student.max_activating_patches(spec, images, "features.2", 0, 3, (3, 1, -1))
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "images")


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_through_relu6(student, reference):
    ("on a tiny CNN at features.5 (below it a ReLU and an in-place ReLU6): a float32 (N, 3, H, W) image, the "
     "guided rule at both kinds of activation")
    case = reference.case("public_guided_tiny_cnn")
    grad = expect_tensor(student.guided_backprop_neuron(*case.args).value, "guided gradient")
    expect_shape(grad, (2, 3, 16, 16), "guided gradient", hint="the gradient with respect to X itself")
    expect_dtype(grad, torch.float32, "guided gradient")
    expect_finite(grad, "guided gradient")
    expect_case(grad, case, "guided gradient", GUIDED_RULE)


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_by_hand(student, reference):
    ("on Conv-ReLU-Conv(1x1) it is W1^T [(h > 0) * max(W2[c], 0)] at the strongest unit's window, "
     "not the plain gradient")
    case = reference.case("public_guided_conv_relu_conv")
    grad = expect_tensor(student.guided_backprop_neuron(*case.args).value, "guided gradient")
    expect_shape(grad, case.output.shape, "guided gradient", hint="the gradient with respect to X itself")
    expect_case(grad, case, "guided gradient", GUIDED_RULE)


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_before_inplace_relu(student, reference):
    ("at features.0, whose output an in-place ReLU overwrites: channel 0's strongest unit (all negative) "
     "has gradient W1[0] at its window")
    case = reference.case("public_guided_first_conv")
    grad = expect_tensor(student.guided_backprop_neuron(*case.args).value, "guided gradient")
    expect_shape(grad, case.output.shape, "guided gradient", hint="the gradient with respect to X itself")
    expect_case(grad, case, "guided gradient", GUIDED_RULE)  # names the in-place overwrite where it reproduces


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_cleans_up(student):
    """leaves model and input as they were, and removes its hooks even when the forward raises"""
    X = random_images(1, 16, seed=55)
    call = student.guided_backprop_neuron(ModelSpec("tiny_cnn", seed=55), X, "features.3", 0)
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")
    expect_hooks_removed_on_error(
        lambda: student.guided_backprop_neuron(ModelSpec("raising_cnn", seed=55), X, "features.3", 0),
        "guided_backprop_neuron", fv.RAISES)


def _expect_dream(call, case) -> None:
    step = expect_tensor(call.value, "deepdream_step's image")
    expect_shape(step, case.output.shape, "deepdream_step's image", hint="return the updated image, same shape as img")
    expect_case(step, case, "deepdream_step's image", fv.DREAM_FORMULA)
    expect_dtype(step, torch.float32, "deepdream_step's image")


@check(points=1, function="deepdream_step")
def test_deepdream_step_by_hand(student, reference):
    """on Conv-ReLU-Conv(1x1), layer features.2: img + lr * g / mean|g| with g the gradient of 1/2 sum(a^2)"""
    case = reference.case("public_dream_conv_relu_conv")
    _expect_dream(student.deepdream_step(*case.args), case)


@check(points=1, function="deepdream_step")
def test_deepdream_step_leaves_inputs(student, reference):
    ("on a tiny CNN at features.3 (before an in-place ReLU6): the right step, img not modified, no hook left "
     "(even when the forward raises)")
    case = reference.case("public_dream_tiny_cnn")
    img = case.args[0]
    call = student.deepdream_step(*case.args)
    expect_input_unchanged(call, "img")
    expect_clean_model(call, "model")
    _expect_dream(call, case)
    expect_hooks_removed_on_error(
        lambda: student.deepdream_step(img, ModelSpec("raising_cnn", seed=57), "features.3", 0.02), "deepdream_step",
        fv.RAISES)
