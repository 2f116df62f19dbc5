"""Public checks: saliency maps and GrabCut masks (Simonyan et al. 2014).

On a linear model the saliency is known by hand (max over the channels of |W[y]|); the usual mistakes'
values on the same inputs are stored with the case (``PUBLIC_CASES``, in ``references.pt``), so that a
wrong saliency is named by the mistake it reproduces."""

import numpy as np
import torch

from vizgen.author import (
    ReferenceCase,
    expect_array,
    expect_clean_model,
    expect_device,
    expect_dtype,
    expect_finite,
    expect_input_unchanged,
    expect_iou,
    expect_match,
    expect_shape,
    expect_tensor,
    fail,
)
from vizgen.author.checks import check
from vizgen.author.inputs import random_images
from vizgen.author.models import ModelSpec
from vizgen.author.support import assignment_probes

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs



def _linear_inputs():
    return [random_images(3, 8, seed=1), torch.tensor([0, 4, 9]), ModelSpec("linear", seed=1)], {}


PUBLIC_CASES = [
    ReferenceCase("saliency_linear_public", "compute_saliency_maps", _linear_inputs, atol=1e-6, rtol=1e-5,
                  why="the input gradient of a linear model is a weight row, copied exactly; |.| and max are exact.",
                  mistakes="saliency_mistakes"),
]


@check(points=1, function="compute_saliency_maps")
def test_saliency_shape(student):
    """returns a float32 (N, H, W) tensor on the input's device"""
    X, y = random_images(2, 16, seed=0), torch.tensor([1, 3])
    call = student.compute_saliency_maps(X, y, ModelSpec("tiny_cnn", seed=0))
    saliency = expect_tensor(call.value, "saliency")
    expect_shape(saliency, (2, 16, 16), "saliency", hint="take the max of |gradient| over the colour channel (dim=1)")
    expect_dtype(saliency, torch.float32, "saliency")
    expect_device(saliency, X.device, "saliency")
    expect_finite(saliency, "saliency")
    if (saliency < 0).any():
        fail("saliency has negative values: take the absolute value of the gradient before the max.")


@check(points=1, function="compute_saliency_maps")
def test_saliency_linear_model(student, reference):
    """on a linear model the saliency is max_c |W[y]|, computed by hand"""
    case = reference.case("saliency_linear_public")
    _, y, spec = case.args
    call = student.compute_saliency_maps(*case.args)
    weight = nv.SUPPORT.build_model(spec).net[1].weight  # (10, 3*8*8): d s_y / d X = W[y]
    by_hand = weight[y].view(3, 3, 8, 8).abs().amax(dim=1)  # (N, 8, 8)
    expect_match(call.value, by_hand, case.mistakes, "saliency", nv.SALIENCY_FORMULA, atol=case.atol, rtol=case.rtol)
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")


@check(points=1, function="saliency_to_mask")
def test_mask_on_square(student):
    """the GrabCut mask finds a red square that the saliency points at"""
    img, saliency = nv.square_scene(32, 10, 22)
    square = np.zeros((32, 32), dtype=bool)
    square[10:22, 10:22] = True  # where the red square is, by construction
    call = student.saliency_to_mask(img, saliency)
    mask = expect_array(call.value, "mask")
    expect_shape(mask, square.shape, "mask", hint="return one boolean per pixel, (H, W)")
    expect_dtype(mask, np.dtype(bool), "mask", hint="compare the GrabCut labels with GC_FGD / GC_PR_FGD")
    expect_iou(mask, square, 0.9, "the mask", "the salient square",
               "seed GC_FGD at or above the fg_quantile of the saliency, GC_BGD at or below the bg_quantile, "
               "and keep GC_FGD and GC_PR_FGD")
