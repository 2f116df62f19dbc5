"""Public checks: occlusion maps (Zeiler & Fergus 2014)."""

import torch

from vizgen.author.expect import expect_close, expect_dtype, expect_input_unchanged, expect_shape, expect_tensor, fail
from vizgen.author.inputs import random_images
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs


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
def test_occlusion_by_hand(student):
    """matches a patch-by-patch computation on a linear model"""
    spec = ModelSpec("linear", seed=3)
    X, y = random_images(1, 8, seed=3), torch.tensor([2])
    call = student.occlusion_map(X, y, spec, 4, 2, 0.5)
    model = nv.SUPPORT.build_model(spec)
    expected = torch.empty(3, 3)
    for i in range(3):
        for j in range(3):
            occluded = X.clone()
            occluded[:, :, 2 * i : 2 * i + 4, 2 * j : 2 * j + 4] = 0.5
            expected[i, j] = model(occluded).softmax(dim=1)[0, 2]
    expect_close(call.value, expected[None], "occlusion map", atol=1e-5, rtol=1e-4,
                 hint="patch (i, j) covers rows i*stride : i*stride+patch_size and the same for columns; "
                      "fill it with `fill` and report softmax(scores)[y]")
