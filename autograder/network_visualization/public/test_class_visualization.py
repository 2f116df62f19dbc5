"""Public checks: one step of class visualization (Simonyan et al. 2014).

On a linear model the step is known by hand; the usual mistakes' values on the same inputs are stored
with the case (``PUBLIC_CASES``, in ``references.pt``), so that a wrong step is named by the mistake
it reproduces."""

from vizgen.author import (
    ReferenceCase,
    effects_of,
    expect_clean_model,
    expect_match,
    fail,
)
from vizgen.author.checks import check
from vizgen.author.inputs import random_images
from vizgen.author.models import ModelSpec
from vizgen.author.support import assignment_probes

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs



def _linear_inputs():
    return [random_images(1, 8, seed=8).requires_grad_(), ModelSpec("linear", seed=8), 4, 0.1, 2.0], {}


PUBLIC_CASES = [
    ReferenceCase("classvis_linear_public", "class_visualization_update_step", _linear_inputs, atol=1e-5, rtol=1e-4,
                  why="one normalised float32 step along a weight row minus a multiple of the image: rounding only.",
                  capture="img", mistakes="classvis_mistakes"),
]


@check(points=1, function="class_visualization_update_step")
def test_update_step_by_hand(student, reference):
    """on a linear model the step is lr * g / ||g|| with g = W[y] - 2 * l2_reg * I"""
    case = reference.case("classvis_linear_public")
    img, spec, target, l2_reg, learning_rate = case.args
    call = student.class_visualization_update_step(*case.args)
    if call.value is not None:
        fail("class_visualization_update_step should update img in place and return None.")
    weight = nv.SUPPORT.build_model(spec).net[1].weight  # (10, 3*8*8)
    g = weight[target].view(1, 3, 8, 8) - 2 * l2_reg * img.detach()  # d/dI (s_y - l2 ||I||^2), by hand
    by_hand = img.detach() + learning_rate * g / g.norm()
    expect_match(call.args_after["img"], by_hand, case.mistakes, "the updated image", nv.CLASSVIS_FORMULA,
                 atol=case.atol, rtol=case.rtol)


@check(points=1, function="class_visualization_update_step")
def test_update_step_keeps_image_trainable(student):
    """img still requires gradients afterwards and the model is untouched"""
    spec = ModelSpec("tiny_cnn", seed=9)
    img = random_images(1, 16, seed=9).requires_grad_()
    call = student.class_visualization_update_step(img, spec, 1, 1e-3, 1.0)
    if effects_of(call, "img")["requires_grad_changed"]:
        fail("img no longer requires gradients: update it under torch.no_grad() (or via .data).")
    if not effects_of(call, "img")["mutated"]:
        fail("img did not change: update the tensor in place (img += ...), do not rebind the name.")
    expect_clean_model(call, "model")
