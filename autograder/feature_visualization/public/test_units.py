"""Public checks: receptive fields, maximally activating patches, guided backpropagation of one neuron
and the DeepDream step, on hand-computed stacks and tiny seeded CNNs (other inputs than the hidden checks)."""

import torch

from vizgen.author.expect import (
    expect_clean_model, expect_close, expect_dtype, expect_finite, expect_hooks_removed_on_error, expect_input_unchanged,
    expect_shape, expect_tensor, fail,
)
from vizgen.author.inputs import random_images
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

fv = assignment_probes(__file__)  # autograder/feature_visualization/probes.py

NOTHING = [("relu",), ("bn",)]
TWO_CONVS = [("conv", 3, 1, 1, 1), ("relu",), ("conv", 3, 1, 1, 1)]
STEM = [("conv", 7, 2, 3, 1), ("bn",), ("relu",), ("maxpool", 3, 2, 1, 1)]  # ResNet's stem
DILATED = [("conv", 3, 1, 2, 2), ("relu",), ("bn",), ("conv", 3, 1, 0, 1), ("avgpool", 2, 2, 0, 1)]


@check(points=1, function="receptive_field")
def test_receptive_field_by_hand(student):
    """ReLU and BatchNorm alone give (1, 1, 0); two 3x3 convolutions (5, 1, -2); ResNet's stem (7x7 stride 2 pad 3, 3x3 max-pool stride 2 pad 1) (11, 4, -5)"""
    for stack, name in ((NOTHING, "ReLU, BatchNorm"), (TWO_CONVS, "two 3x3 convolutions"), (STEM, "ResNet's stem")):
        fv.expect_field(student.probe("receptive_field_of", "receptive_field", stack).value, stack, name)


@check(points=1, function="receptive_field")
def test_receptive_field_dilation(student):
    """a 3x3 convolution with dilation 2 and padding 2, a 3x3 one (ReLU and BatchNorm between) and a 2x2 average pool give (8, 2, -2)"""
    fv.expect_field(student.probe("receptive_field_of", "receptive_field", DILATED).value, DILATED, "a dilated stack")


@check(points=1, function="max_activating_patches")
def test_patches_brute_force(student):
    """on a tiny CNN (features.5, field (9, 4, -4)) the 5 strongest units of channel 2 and their zero-padded patches"""
    spec, images, field = ModelSpec("tiny_cnn", seed=51), random_images(4, 16, seed=51), (9, 4, -4)
    call = student.max_activating_patches(spec, images, "features.5", 2, 5, field)
    fv.expect_patches(call, fv.SUPPORT.build_model(spec), images, "features.5", 2, 5, field)


@check(points=1, function="max_activating_patches")
def test_patches_side_effects(student):
    """leaves no hook on the model and does not change the images"""
    spec, images = ModelSpec("tiny_cnn", seed=52), random_images(2, 16, seed=52)
    call = student.max_activating_patches(spec, images, "features.2", 0, 3, (3, 1, -1))
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "images")


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_shape(student):
    """returns a float32 (N, 3, H, W) gradient image"""
    X = random_images(2, 16, seed=53)
    call = student.guided_backprop_neuron(ModelSpec("tiny_cnn", seed=53), X, "features.5", 3)
    grad = expect_tensor(call.value, "guided gradient")
    expect_shape(grad, (2, 3, 16, 16), "guided gradient", hint="the gradient with respect to X itself")
    expect_dtype(grad, torch.float32, "guided gradient")
    expect_finite(grad, "guided gradient")
    if grad.abs().sum() == 0:
        fail("the guided gradient is all zeros: backpropagate each image's strongest unit of the channel.")


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_by_hand(student):
    """on Conv-ReLU-Conv(1x1) it is W1^T [(h > 0) * max(W2[c], 0)] at the strongest unit's window, not the plain gradient"""
    spec, X = ModelSpec("conv_relu_conv", seed=54), random_images(3, 7, seed=54)
    grad = expect_tensor(student.guided_backprop_neuron(spec, X, "features.2", 1).value, "guided gradient")
    model = fv.SUPPORT.build_model(spec)
    plain = fv.guided_neuron_by_hand(model, X, 1, guided=False)
    if grad.shape == plain.shape and torch.allclose(grad, plain, atol=1e-5) and not torch.allclose(
            plain, fv.guided_neuron_by_hand(model, X, 1)):
        fail("guided_backprop_neuron returned the plain gradient: at every ReLU / ReLU6 also zero the gradient "
             "where the gradient arriving from above is negative (a hook that clamps it at 0).")
    expect_close(grad, fv.guided_neuron_by_hand(model, X, 1), "guided gradient", atol=1e-5, rtol=1e-4,
                 hint="backpropagate, for each image, the unit of the channel with the largest activation, passing "
                      "gradient only where the activation was positive AND the incoming gradient is positive")


@check(points=1, function="guided_backprop_neuron")
def test_guided_neuron_before_inplace_relu(student):
    """at features.0, whose output an in-place ReLU overwrites: channel 0's strongest unit (all negative) has gradient W1[0] at its window"""
    spec, X = ModelSpec("conv_relu_conv", seed=58), random_images(2, 6, seed=58)
    grad = expect_tensor(student.guided_backprop_neuron(spec, X, "features.0", 0).value, "guided gradient")
    expect_shape(grad, tuple(X.shape), "guided gradient", hint="the gradient with respect to X itself")
    if grad.abs().sum() == 0:
        fail("the guided gradient is all zeros: the neuron was read after the in-place ReLU that follows the layer had "
             "overwritten its output with 0. In the layer's forward hook keep the output and return output.clone(), "
             "so that the in-place ReLU changes the copy.")
    expect_close(grad, fv.first_conv_neuron_by_hand(fv.SUPPORT.build_model(spec), X, 0), "guided gradient", atol=1e-5,
                 rtol=1e-4, hint="the neuron is the strongest unit of the layer's output as the module returned it")


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


@check(points=1, function="deepdream_step")
def test_deepdream_step_by_hand(student):
    """on Conv-ReLU-Conv(1x1), layer features.2: img + lr * g / mean|g| with g the gradient of 1/2 sum(a^2)"""
    spec, img = ModelSpec("conv_relu_conv", seed=56), random_images(1, 6, seed=56)
    model = fv.SUPPORT.build_model(spec)
    a_relu = model.features[1](model.features[0](img))  # (1, 4, 4, 4)
    a = model.features[2](a_relu)  # (1, 2, 4, 4): L = 1/2 sum(a^2), so dL/da = a
    back = torch.nn.functional.conv_transpose2d(a, model.features[2].weight) * (a_relu > 0)  # (1, 4, 4, 4)
    g = torch.nn.functional.conv_transpose2d(back, model.features[0].weight)  # (1, 3, 6, 6)
    want = img + 0.05 * g / (g.abs().mean() + 1e-8)
    fv.expect_dream_step(student.deepdream_step(img, spec, "features.2", 0.05), model, img, "features.2", 0.05, want)


@check(points=1, function="deepdream_step")
def test_deepdream_step_leaves_inputs(student):
    """on a tiny CNN at features.3 (before an in-place ReLU6): the right step, img not modified, no hook left (even when the forward raises)"""
    spec, img = ModelSpec("tiny_cnn", seed=57), random_images(1, 16, seed=57)
    call = student.deepdream_step(img, spec, "features.3", 0.02)
    expect_input_unchanged(call, "img")
    expect_clean_model(call, "model")
    fv.expect_dream_step(call, fv.SUPPORT.build_model(spec), img, "features.3", 0.02)
    expect_hooks_removed_on_error(
        lambda: student.deepdream_step(img, ModelSpec("raising_cnn", seed=57), "features.3", 0.02), "deepdream_step",
        fv.RAISES)
