"""Hidden checks: saliency maps and GrabCut masks, on photos and seeded models."""

import torch

from vizgen.author import (
    assignment_judge,
    effects_of,
    expect_array,
    expect_case,
    expect_clean_model,
    expect_device,
    expect_input_unchanged,
    expect_iou,
    fail,
)
from vizgen.author.cases import ReferenceCase
from vizgen.author.checks import check
from vizgen.author.inputs import photo, photo_batch
from vizgen.author.models import ModelSpec
from vizgen.author.support import assignment_probes

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs
judge = assignment_judge(__file__)  # autograder/network_visualization/judge.py: correct values, mistakes


def _saliency_inputs():
    return [photo_batch(["coffee", "rocket"], 32), torch.tensor([3, 7]), ModelSpec("tiny_cnn", seed=11)], {}


def _mask_inputs():
    return [photo("chelsea", 48), nv.gaussian_blob(48, 26, 20, 8)], {}


REFERENCE_CASES = [
    ReferenceCase(
        "saliency_photos", "compute_saliency_maps", _saliency_inputs, atol=1e-5, rtol=1e-4,
        why="float32 input gradients of a tiny CNN: correct implementations differ only in summation order "
            "(one backward of the summed scores or one per image), about 1e-7 relative; CUDA kernels add ~1e-6.",
    ),
    ReferenceCase(
        "mask_chelsea", "saliency_to_mask", _mask_inputs, atol=0, rtol=0,
        why="compared by IoU >= 0.95, not elementwise: GrabCut is deterministic after cv2.setRNGSeed(0), but "
            "quantile interpolation choices move a few seed pixels and so a few boundary pixels.",
    ),
]


@check(points=1, function="compute_saliency_maps")
def test_saliency_reference(student, reference):
    """matches the reference saliency on two photos"""
    case = reference.case("saliency_photos")
    call = student.compute_saliency_maps(*case.args, **case.kwargs)
    expect_case(call.value, case, "saliency", nv.SALIENCY_FORMULA,
                mistakes=judge.saliency_mistakes(*case.args, **case.kwargs))


@check(points=1, function="compute_saliency_maps")
def test_saliency_side_effects(student, reference):
    """leaves the model and the input as they were"""
    case = reference.case("saliency_photos")
    call = student.compute_saliency_maps(*case.args, **case.kwargs)
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")
    expect_device(call.value, case.args[0].device, "saliency")
    if effects_of(call, "model")["param_grads_left"]:
        fail("compute_saliency_maps left gradients on model parameters: the parameters are frozen; "
             "do not call requires_grad_() on the model.")


@check(points=1, function="saliency_to_mask")
def test_mask_reference(student, reference):
    """matches the reference GrabCut mask on a photo (IoU >= 0.95)"""
    case = reference.case("mask_chelsea")
    mask = expect_array(student.saliency_to_mask(*case.args, **case.kwargs).value, "mask")
    expect_iou(mask, case.output, 0.95, "the mask", "the reference mask",
               "seed with the quantiles of the saliency (GC_FGD >= fg_quantile, GC_BGD <= bg_quantile, "
               "GC_PR_BGD elsewhere), call cv2.setRNGSeed(0), run GrabCut with GC_INIT_WITH_MASK for `iterations`")


@check(points=1, function="saliency_to_mask")
def test_mask_accepts_tensor_and_keeps_inputs(student, reference):
    """accepts a torch saliency map and does not modify the image"""
    case = reference.case("mask_chelsea")
    img, saliency = case.args
    call = student.saliency_to_mask(img, torch.from_numpy(saliency))
    mask = expect_array(call.value, "mask")
    expect_iou(mask, case.output, 0.95, "with a torch.Tensor saliency the mask", "the reference mask",
               "convert the saliency with .detach().cpu().numpy() first")
    expect_input_unchanged(call, "img")
