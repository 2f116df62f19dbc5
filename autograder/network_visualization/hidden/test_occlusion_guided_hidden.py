"""Hidden checks: occlusion maps and guided backpropagation."""

import torch

from vizgen.author.cases import ReferenceCase
from vizgen.author.expect import effects_of, expect_close, expect_hooks_removed_on_error, expect_tensor, fail
from vizgen.author.inputs import photo_batch
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs


def _occlusion_inputs():
    X = photo_batch(["astronaut", "coffee"], 24)  # (2, 3, 24, 24)
    return [X, torch.tensor([1, 6]), ModelSpec("tiny_cnn", seed=12), 6, 3, 0.5], {}


def _guided_inputs():
    return [photo_batch(["rocket", "chelsea"], 24), torch.tensor([0, 8]), ModelSpec("tiny_cnn", seed=13)], {}


REFERENCE_CASES = [
    ReferenceCase(
        "occlusion_photos", "occlusion_map", _occlusion_inputs, atol=1e-5, rtol=1e-4,
        why="softmax probabilities of a tiny CNN in float32; batching changes only summation order (~1e-7).",
    ),
    ReferenceCase(
        "guided_photos", "guided_backprop", _guided_inputs, atol=1e-5, rtol=1e-4,
        why="float32 input gradients through ReLU and in-place ReLU6; hook-based and Function-based guided "
            "ReLUs agree to rounding (~1e-7 relative).",
    ),
]


@check(points=1, function="occlusion_map")
def test_occlusion_reference(student, reference):
    """matches the reference occlusion map on two photos (fill 0.5, patch 6, stride 3)"""
    case = reference.case("occlusion_photos")
    call = student.occlusion_map(*case.args, **case.kwargs)
    expect_close(call.value, case.output, "occlusion map", atol=case.atol, rtol=case.rtol,
                 hint="use the patch_size, stride and fill arguments as given, and softmax probabilities of class y[n]")


@check(points=1, function="occlusion_map")
def test_occlusion_is_batched(student):
    """runs the occluded copies through the model, in batches, not one forward per patch"""
    X, y = photo_batch(["astronaut", "coffee"], 16), torch.tensor([2, 3])
    call = student.occlusion_map(X, y, ModelSpec("tiny_cnn", seed=12, count_calls=True), 4, 2, 0.0)
    calls, occluded = effects_of(call, "model")["forward_calls"], 2 * 7 * 7
    if calls == 0:  # batching only counts for a function that scores the occluded copies at all
        fail(
            f"occlusion_map never called the model: score the {occluded} occluded copies with the model (in "
            "batches of batch_size) and record the drop in the target class's score."
        )
    if calls > 8:
        fail(
            f"occlusion_map called the model {calls} times for {occluded} occluded images: stack the occluded "
            "copies into one tensor and run them through the model in batches of batch_size."
        )
    expect_tensor(call.value, "occlusion map")


@check(points=1, function="guided_backprop")
def test_guided_reference(student, reference):
    """matches the reference guided gradient (ReLU and in-place ReLU6) on two photos"""
    case = reference.case("guided_photos")
    call = student.guided_backprop(*case.args, **case.kwargs)
    expect_close(call.value, case.output, "guided gradient", atol=case.atol, rtol=case.rtol,
                 hint="at every ReLU and ReLU6 pass gradient only where the incoming gradient is positive and the "
                      "activation's own gradient is nonzero; backpropagate the raw score s_y")


@check(points=1, function="guided_backprop")
def test_guided_by_hand(student):
    """on Linear-ReLU-Linear the guided gradient is W1^T [(h > 0) * max(W2[y], 0)]"""
    spec = ModelSpec("mlp", seed=14)
    X, y = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(14)), torch.tensor([1, 5])
    call = student.guided_backprop(X, y, spec)
    net = nv.SUPPORT.build_model(spec).net
    h = net[1](X.flatten(1))  # (N, 16) pre-activation
    upstream = (h > 0) * net[3].weight[y].clamp(min=0)  # (N, 16): forward and backward both positive
    expected = (upstream @ net[1].weight).view(2, 3, 8, 8)  # (N, 3, 8, 8)
    expect_close(call.value, expected, "guided gradient", atol=1e-5, rtol=1e-4,
                 hint="zero the gradient where the incoming gradient is negative, in addition to ReLU's own mask")


@check(points=1, function="guided_backprop")
def test_guided_removes_hooks_on_error(student):
    """removes its hooks even when the forward pass raises"""
    X, y = photo_batch(["rocket"], 16), torch.tensor([0])
    expect_hooks_removed_on_error(lambda: student.guided_backprop(X, y, ModelSpec("failing_cnn", seed=15)),
                                  "guided_backprop", "FailingCNN")
