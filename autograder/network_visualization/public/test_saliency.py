"""Public checks: saliency maps and GrabCut masks (Simonyan et al. 2014)."""

import numpy as np
import torch

from vizgen.author.expect import (
    expect_array, expect_clean_model, expect_close, expect_device, expect_dtype, expect_finite, expect_input_unchanged, expect_iou, expect_shape, expect_tensor, fail,
)
from vizgen.author.inputs import random_images
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs


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
def test_saliency_linear_model(student):
    """on a linear model the saliency is max_c |W[y]|, computed by hand"""
    spec = ModelSpec("linear", seed=1)
    X, y = random_images(3, 8, seed=1), torch.tensor([0, 4, 9])
    call = student.compute_saliency_maps(X, y, spec)
    weight = nv.SUPPORT.build_model(spec).net[1].weight  # (10, 3*8*8): d s_y / d X = W[y]
    expected = weight[y].view(3, 3, 8, 8).abs().amax(dim=1)  # (N, 8, 8)
    no_abs = weight[y].view(3, 3, 8, 8).amax(dim=1)  # (N, 8, 8): the usual mistake, max of the signed gradient
    forgot_abs = isinstance(call.value, torch.Tensor) and call.value.shape == no_abs.shape and torch.allclose(
        call.value, no_abs, atol=1e-6, rtol=1e-5)
    expect_close(call.value, expected, "saliency", atol=1e-6, rtol=1e-5,
                 hint="take |gradient| before the max over the colour channel" if forgot_abs else
                 "use the gradient of the raw score s_y (not the softmax or the loss), one score per image")
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")


@check(points=1, function="saliency_to_mask")
def test_mask_on_square(student):
    """the GrabCut mask finds a red square that the saliency points at"""
    img, saliency, truth = nv.square_scene()
    call = student.saliency_to_mask(img, saliency)
    mask = expect_array(call.value, "mask")
    expect_shape(mask, truth.shape, "mask", hint="return one boolean per pixel, (H, W)")
    expect_dtype(mask, np.dtype(bool), "mask", hint="compare the GrabCut labels with GC_FGD / GC_PR_FGD")
    expect_iou(mask, truth, 0.9, "the mask", "the salient square",
               "seed GC_FGD at or above the fg_quantile of the saliency, GC_BGD at or below the bg_quantile, "
               "and keep GC_FGD and GC_PR_FGD")
