"""Hidden checks: fooling images and the class visualization step."""

import torch

from vizgen.author import (
    assignment_judge,
    expect_case,
    expect_classified_as,
    expect_input_unchanged,
    expect_tensor,
    fail,
)
from vizgen.author.cases import ReferenceCase
from vizgen.author.checks import check
from vizgen.author.inputs import photo_batch, random_images
from vizgen.author.models import ModelSpec
from vizgen.author.support import assignment_probes

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs
judge = assignment_judge(__file__)  # autograder/network_visualization/judge.py: correct values, mistakes, objective

FOOLING_MODEL = ModelSpec("tiny_cnn", seed=16)


def _fooling_inputs():
    X = photo_batch(["chelsea"], 32)  # (1, 3, 32, 32)
    with torch.no_grad():
        target = int(nv.SUPPORT.build_model(FOOLING_MODEL)(X)[0].argsort()[-3])  # the third most likely class
    return [X, target, FOOLING_MODEL], {"max_iter": 100, "lr": 0.5}


def _classvis_inputs():
    img = random_images(1, 16, seed=17).requires_grad_()
    return [img, ModelSpec("tiny_cnn", seed=17), 2, 0.01, 0.5], {}


REFERENCE_CASES = [
    ReferenceCase(
        "fooling_chelsea", "make_fooling_image", _fooling_inputs, atol=1e-4, rtol=0,
        why="used for its distance to the original only: a correct attack may stop a step earlier or later "
            "under rounding, so the student's distance may be up to 1.5x the reference's plus one step. "
            "atol is for CPU/GPU parity of the stored image (the same steps, rounding only; 5e-5 seen on an H100).",
    ),
    ReferenceCase(
        "classvis_step", "class_visualization_update_step", _classvis_inputs, atol=1e-5, rtol=1e-4,
        why="one normalised float32 gradient step on a tiny CNN: implementations differ in rounding only.",
        capture="img",
    ),
]


@check(points=1, function="make_fooling_image")
def test_fooling_photo_hits_target(student, reference):
    """the fooling image of a photo is classified as the target"""
    case = reference.case("fooling_chelsea")
    _, target, spec = case.args
    call = student.make_fooling_image(*case.args, **case.kwargs)
    fooled = expect_tensor(call.value, "fooling image")
    expect_classified_as(judge.build(spec), fooled, target, "the fooling image",
                         "step along +lr * g / ||g|| (g the gradient of the target's raw score) until it is the target")
    expect_input_unchanged(call, "X")


@check(points=1, function="make_fooling_image")
def test_fooling_stays_close(student, reference):
    """the fooling image fools the model and stays as close to the photo as the reference attack"""
    case = reference.case("fooling_chelsea")
    X, lr = case.args[0], case.kwargs["lr"]
    fooled = expect_tensor(student.make_fooling_image(*case.args, **case.kwargs).value, "fooling image")
    # Close only counts once it fools: the photo itself is at distance 0 and fools nothing.
    expect_classified_as(judge.build(case.args[2]), fooled, case.args[1], "the fooling image",
                         "this point is for staying close while fooling the model, so the image must first be "
                         "classified as the target")
    distance, allowed = (fooled - X).norm().item(), 1.5 * (case.output - X).norm().item() + lr
    if distance > allowed:
        fail(
            f"the fooling image is {distance:.3g} away from the photo (L2), the reference needs "
            f"{(case.output - X).norm().item():.3g}: normalise each step by the gradient's L2 norm and stop as soon "
            "as the model predicts the target."
        )


@check(points=1, function="class_visualization_update_step")
def test_update_step_reference(student, reference):
    """one update step matches the reference on a tiny CNN"""
    case = reference.case("classvis_step")
    call = student.class_visualization_update_step(*case.args, **case.kwargs)
    expect_case(call.args_after["img"], case, "the updated image", nv.CLASSVIS_FORMULA,
                mistakes=judge.classvis_mistakes(*case.args, **case.kwargs))


@check(points=1, function="class_visualization_update_step")
def test_update_step_raises_objective(student):
    """a small step increases s_y(I) - l2_reg * ||I||^2"""
    spec, target, l2_reg = ModelSpec("tiny_cnn", seed=18), 5, 0.01
    img = random_images(1, 16, seed=18).requires_grad_()
    call = student.class_visualization_update_step(img, spec, target, l2_reg, 0.05)
    before = judge.classvis_objective(img.detach(), spec, target, l2_reg)
    after = judge.classvis_objective(call.args_after["img"], spec, target, l2_reg)
    if after <= before:
        fail(
            f"the objective went from {before:.4g} to {after:.4g}: add the step (gradient ascent) and include the "
            "regulariser with a minus sign."
        )
