"""Public checks for what the docstrings require beyond shapes: guided (not plain) gradients, hooks
removed even when the forward raises, occlusion batched through the model.

Each catches an honest mistake before grading, on inputs other than the hidden checks' (other
seeds, other images), so a student learns from the self-check what grading will judge.
"""

import torch

from vizgen.author.expect import fail, expect_close, expect_hooks_removed_on_error, expect_tensor
from vizgen.author.inputs import random_images
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs


@check(points=1, function="guided_backprop")
def test_guided_is_not_the_plain_gradient(student):
    """on Linear-ReLU-Linear it is the guided gradient W1^T [(h > 0) * max(W2[y], 0)], not the plain one"""
    spec = ModelSpec("mlp", seed=24)
    X, y = random_images(3, 8, seed=24), torch.tensor([0, 7, 2])
    guided = expect_tensor(student.guided_backprop(X, y, spec).value, "guided gradient")
    net = nv.SUPPORT.build_model(spec).net
    h = net[1](X.flatten(1))  # (N, 16) pre-activation
    upstream = (h > 0) * net[3].weight[y]  # (N, 16): what plain backprop sends down
    plain = (upstream @ net[1].weight).view(3, 3, 8, 8)  # (N, 3, 8, 8)
    expected = ((h > 0) * net[3].weight[y].clamp(min=0) @ net[1].weight).view(3, 3, 8, 8)  # (N, 3, 8, 8)
    if guided.shape == plain.shape and torch.allclose(guided, plain.detach(), atol=1e-5, rtol=1e-4):
        fail(
            "guided_backprop returned the plain gradient of s_y: at every ReLU / ReLU6 also zero the gradient where "
            "the gradient arriving from above is negative (a hook that clamps it at 0)."
        )
    expect_close(guided, expected, "guided gradient", atol=1e-5, rtol=1e-4,
                 hint="pass gradient only where the activation was positive AND the incoming gradient is positive")


@check(points=1, function="guided_backprop")
def test_guided_removes_hooks_when_forward_raises(student):
    """removes its hooks in a `finally` block: a model whose forward raises is left without hooks"""
    X, y = random_images(1, 16, seed=25), torch.tensor([4])
    expect_hooks_removed_on_error(lambda: student.guided_backprop(X, y, ModelSpec("failing_cnn", seed=25)),
                                  "guided_backprop", "FailingCNN")


@check(points=1, function="occlusion_map")
def test_occlusion_runs_in_batches(student):
    """sends the occluded copies through the model in batches of batch_size, not one forward per patch"""
    X, y = random_images(1, 12, seed=26), torch.tensor([3])
    call = student.occlusion_map(X, y, ModelSpec("tiny_cnn", seed=26, count_calls=True), 4, 2, 0.0, 16)
    expect_tensor(call.value, "occlusion map")
    calls, occluded = call.effects["model"]["forward_calls"], 5 * 5
    if calls == 0:  # batching only counts for a function that scores the occluded copies at all
        fail(f"occlusion_map never called the model: score the {occluded} occluded copies with it, batch_size at a time.")
    if calls > 3:  # 25 copies in batches of 16: 2 forwards (one more for an unoccluded pass is fine)
        fail(
            f"occlusion_map called the model {calls} times for {occluded} occluded copies with batch_size=16: "
            "stack the occluded copies into one tensor and run the model on batch_size of them at a time."
        )
