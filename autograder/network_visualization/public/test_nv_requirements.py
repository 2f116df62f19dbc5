"""Public checks for what the docstrings require beyond shapes: guided (not plain) gradients, hooks
removed even when the forward raises, occlusion batched through the model.

Each catches an honest mistake before grading, on inputs other than the hidden checks' (other
seeds, other images), so a student learns from the self-check what grading will judge. The usual
mistakes' values are stored with the cases (``PUBLIC_CASES``, in ``references.pt``).

Batching is judged on a model that costs a fixed few milliseconds per forward (``deep_linear``): the
forward count comes from the student's process, so the call's CPU time, which the worker measures from
the kernel's clock outside that process, must also stay below a third of what one forward per copy
costs, as measured here on this check's own copy of the model; and only a map that scoring the copies
gives (the stored correct map, or a usual mistake's) counts.
"""

import math

import torch

from vizgen.author import (
    ReferenceCase,
    effects_of,
    expect_hooks_removed_on_error,
    expect_match,
    expect_tensor,
    fail,
    reproduces,
)
from vizgen.author.checks import check
from vizgen.author.inputs import random_images
from vizgen.author.models import ModelSpec
from vizgen.author.support import assignment_probes

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs

# 49 occluded copies (patch 2, stride 1 on 8 x 8) in batches of 32: 2 forwards (3 with an unoccluded pass).
BATCHED_COPIES, BATCHED_FORWARDS, BATCH_SIZE = 49, 3, 32
CPU_SHARE_OF_ONE_FORWARD_PER_COPY = 1 / 3  # one forward per copy costs 3x this or more; 2 batches ~1/8 of it


def _guided_inputs():
    return [random_images(3, 8, seed=24), torch.tensor([0, 7, 2]), ModelSpec("mlp", seed=24)], {}


def _batched_inputs():
    X, y = random_images(1, 8, seed=26), torch.tensor([3])
    return [X, y, ModelSpec("deep_linear", seed=26, count_calls=True), 2, 1, 0.0, BATCH_SIZE], {}


PUBLIC_CASES = [
    ReferenceCase("guided_mlp_public", "guided_backprop", _guided_inputs, atol=1e-5, rtol=1e-4,
                  why="float32 products of two small weight matrices: implementations differ in rounding only.",
                  mistakes="guided_mistakes"),
    ReferenceCase("occlusion_batched_public", "occlusion_map", _batched_inputs, atol=1e-5, rtol=1e-4,
                  why="softmax probabilities after 800 small float32 layers that only add, multiply and clamp, the "
                      "same for every batch size but the first matrix product (~1e-6).",
                  mistakes="occlusion_mistakes"),
]


@check(points=1, function="guided_backprop")
def test_guided_is_not_the_plain_gradient(student, reference):
    """on Linear-ReLU-Linear it is the guided gradient W1^T [(h > 0) * max(W2[y], 0)], not the plain one"""
    case = reference.case("guided_mlp_public")
    X, y, spec = case.args
    guided = expect_tensor(student.guided_backprop(*case.args).value, "guided gradient")
    net = nv.SUPPORT.build_model(spec).net
    h = net[1](X.flatten(1))  # (N, 16) pre-activation
    by_hand = ((h > 0) * net[3].weight[y].clamp(min=0) @ net[1].weight).view(3, 3, 8, 8)  # (N, 3, 8, 8)
    expect_match(guided, by_hand, case.mistakes, "guided gradient", nv.GUIDED_FORMULA, atol=case.atol, rtol=case.rtol)


@check(points=1, function="guided_backprop")
def test_guided_removes_hooks_when_forward_raises(student):
    """removes its hooks in a `finally` block: a model whose forward raises is left without hooks"""
    X, y = random_images(1, 16, seed=25), torch.tensor([4])
    expect_hooks_removed_on_error(lambda: student.guided_backprop(X, y, ModelSpec("failing_cnn", seed=25)),
                                  "guided_backprop", "FailingCNN")


@check(points=1, function="occlusion_map")
def test_occlusion_runs_in_batches(student, reference):
    """sends the occluded copies through the model in batches of batch_size, not one forward per patch"""
    case = reference.case("occlusion_batched_public")
    X, y, spec = case.args[:3]
    student.occlusion_map(X, y, ModelSpec("linear", seed=26), 8, 8, 0.0)  # warm-up: the timed call is not the first
    call = student.occlusion_map(*case.args, **case.kwargs)
    expect_tensor(call.value, "occlusion map")
    forwards = effects_of(call, "model")["forward_calls"]
    if forwards == 0:  # batching only counts for a function that scores the occluded copies at all
        fail(f"occlusion_map never called the model: score the {BATCHED_COPIES} occluded copies with it, batch_size "
             "at a time.")
    if forwards > BATCHED_FORWARDS:
        fail(f"occlusion_map called the model {forwards} times for {BATCHED_COPIES} occluded copies with "
             f"batch_size={BATCH_SIZE}: stack the occluded copies into one tensor and run the model on batch_size of "
             "them at a time.")
    one = nv.forward_cpu_seconds(nv.SUPPORT.build_model(ModelSpec("deep_linear", seed=spec.seed)), X)
    if call.cpu_seconds > CPU_SHARE_OF_ONE_FORWARD_PER_COPY * BATCHED_COPIES * one:
        batches = math.ceil(BATCHED_COPIES / BATCH_SIZE)
        fail(f"occlusion_map took {call.cpu_seconds:.3g} s of CPU time for {BATCHED_COPIES} occluded copies, about "
             f"{math.floor(call.cpu_seconds / one)} forwards of this model ({one * 1e3:.2g} ms each here), although "
             f"{batches} batches of batch_size={BATCH_SIZE} need about {batches}: stack the occluded copies into one "
             "tensor and run the model on batch_size of them at a time (one forward per patch is what costs this "
             "time).")
    if not any(reproduces(call.value, value, case.atol, case.rtol) for value in (case.output, *case.mistakes.values())):
        fail("batching only counts for a function that scores the occluded copies, and this map is none that scoring "
             "them gives: make the checks that compare the map with the expected one pass first.")
