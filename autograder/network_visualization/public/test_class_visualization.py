"""Public checks: one step of class visualization (Simonyan et al. 2014)."""

from vizgen.author.expect import effects_of, expect_clean_model, expect_close, fail
from vizgen.author.inputs import random_images
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs


@check(points=1, function="class_visualization_update_step")
def test_update_step_by_hand(student):
    """on a linear model the step is lr * g / ||g|| with g = W[y] - 2 * l2_reg * I"""
    spec = ModelSpec("linear", seed=8)
    img = random_images(1, 8, seed=8).requires_grad_()
    call = student.class_visualization_update_step(img, spec, 4, 0.1, 2.0)
    if call.value is not None:
        fail("class_visualization_update_step should update img in place and return None.")
    weight = nv.SUPPORT.build_model(spec).net[1].weight  # (10, 3*8*8)
    g = weight[4].view(1, 3, 8, 8) - 2 * 0.1 * img.detach()  # d/dI (s_y - l2 ||I||^2)
    expected = img.detach() + 2.0 * g / g.norm()
    expect_close(call.args_after["img"], expected, "the updated image", atol=1e-5, rtol=1e-4,
                 hint="ascend s_y(I) - l2_reg * ||I||^2 (squared norm) with a step of learning_rate * g / ||g||, "
                      "in place on img")


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
