"""Hidden checks: occlusion maps and guided backpropagation."""

import torch

from vizgen.author import (
    assignment_judge,
    expect_case,
    expect_hooks_removed_on_error,
    expect_match,
    expect_tensor,
)
from vizgen.author.cases import ReferenceCase
from vizgen.author.checks import check
from vizgen.author.inputs import photo_batch
from vizgen.author.models import ModelSpec
from vizgen.author.support import assignment_probes

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs
judge = assignment_judge(__file__)  # autograder/network_visualization/judge.py: correct values, mistakes, verdicts


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
    expect_case(call.value, case, "occlusion map", nv.OCCLUSION_FORMULA,
                mistakes=judge.occlusion_mistakes(*case.args, **case.kwargs))


@check(points=1, function="occlusion_map")
def test_occlusion_is_batched(student):
    """runs the occluded copies through the model, in batches, not one forward per patch"""
    X, y = photo_batch(["astronaut", "coffee"], 8), torch.tensor([2, 3])  # (2, 3, 8, 8): 2 x 7 x 7 = 98 copies
    spec = ModelSpec("deep_linear", seed=12, count_calls=True)
    student.occlusion_map(X, y, ModelSpec("linear", seed=12), 8, 8, 0.0)  # warm-up: the timed call is not the first
    call = student.occlusion_map(X, y, spec, 2, 1, 0.0)  # batch_size 64: 2 forwards
    expect_tensor(call.value, "occlusion map")
    judge.batching_verdict(call, spec, X[:1], copies=98, max_forwards=8, batch_size=64,
                           accepted=judge.occlusion_mistakes(X, y, spec, 2, 1, 0.0), atol=1e-5, rtol=1e-4)


@check(points=1, function="guided_backprop")
def test_guided_reference(student, reference):
    """matches the reference guided gradient (ReLU and in-place ReLU6) on two photos"""
    case = reference.case("guided_photos")
    call = student.guided_backprop(*case.args, **case.kwargs)
    expect_case(call.value, case, "guided gradient", nv.GUIDED_FORMULA,
                mistakes=judge.guided_mistakes(*case.args, **case.kwargs))


@check(points=1, function="guided_backprop")
def test_guided_by_hand(student):
    """on Linear-ReLU-Linear the guided gradient is W1^T [(h > 0) * max(W2[y], 0)]"""
    spec = ModelSpec("mlp", seed=14)
    X, y = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(14)), torch.tensor([1, 5])
    call = student.guided_backprop(X, y, spec)
    mistakes = {k: v for k, v in judge.guided_mistakes(X, y, spec).items() if k != "correct"}
    expect_match(call.value, judge.guided_by_hand(X, y, spec), mistakes, "guided gradient", nv.GUIDED_FORMULA,
                 atol=1e-5, rtol=1e-4)


@check(points=1, function="guided_backprop")
def test_guided_removes_hooks_on_error(student):
    """removes its hooks even when the forward pass raises"""
    X, y = photo_batch(["rocket"], 16), torch.tensor([0])
    expect_hooks_removed_on_error(lambda: student.guided_backprop(X, y, ModelSpec("failing_cnn", seed=15)),
                                  "guided_backprop", "FailingCNN")
