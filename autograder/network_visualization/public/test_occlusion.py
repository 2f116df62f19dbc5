"""Public checks: occlusion maps (Zeiler & Fergus 2014).

The map a patch-by-patch computation gives on a linear model is stored with the case (``PUBLIC_CASES``,
in ``references.pt``, made by the solution), with the usual mistakes' values on the same inputs."""

import torch

from vizgen.author import (
    ReferenceCase,
    assignment_probes,
    expect_case,
    expect_dtype,
    expect_input_unchanged,
    expect_shape,
    expect_tensor,
    fail,
)
from vizgen.author.checks import check
from vizgen.author.inputs import random_images
from vizgen.author.models import ModelSpec

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: models, inputs, the maps' definitions


def _linear_inputs():
    return [random_images(1, 8, seed=3), torch.tensor([2]), ModelSpec("linear", seed=3), 4, 2, 0.5], {}


PUBLIC_CASES = [
    ReferenceCase("occlusion_linear_public", "occlusion_map", _linear_inputs, atol=1e-5, rtol=1e-4,
                  why="softmax probabilities of a linear model in float32; batching changes only the order of the "
                      "sums (~1e-7).", mistakes="occlusion_mistakes"),
]


@check(points=1, function="occlusion_map")
def test_occlusion_shape_and_range(student):
    """returns (N, H', W') probabilities with H' = (H - patch) // stride + 1"""
    X, y = random_images(2, 16, seed=2), torch.tensor([0, 5])
    call = student.occlusion_map(X, y, ModelSpec("tiny_cnn", seed=2), 8, 4, 0.0)
    heat = expect_tensor(call.value, "occlusion map")
    expect_shape(heat, (2, 3, 3), "occlusion map", hint="one value per patch position: (16 - 8) // 4 + 1 = 3 per side")
    expect_dtype(heat, torch.float32, "occlusion map")
    if heat.min() < 0 or heat.max() > 1:
        fail("occlusion map values leave [0, 1]: report softmax probabilities, not raw scores.")
    expect_input_unchanged(call, "X")


@check(points=1, function="occlusion_map")
def test_occlusion_by_hand(student, reference):
    """matches a patch-by-patch computation on a linear model"""
    case = reference.case("occlusion_linear_public")
    call = student.occlusion_map(*case.args, **case.kwargs)
    expect_case(call.value, case, "occlusion map", nv.OCCLUSION_FORMULA)
