"""Public checks: fooling images (Szegedy et al. 2014)."""

import torch

from vizgen.author.expect import expect_classified_as, expect_input_unchanged, expect_shape, expect_tensor, fail
from vizgen.author.inputs import random_images
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

nv = assignment_probes(__file__)  # autograder/network_visualization/probes.py: small models, inputs


def _target_other_than_prediction(model, X):
    with torch.no_grad():
        scores = model(X)[0]  # (C,)
    return int(scores.argsort()[-2])  # the runner-up class


@check(points=1, function="make_fooling_image")
def test_fooling_hits_target(student):
    """the fooling image is classified as the target"""
    spec = ModelSpec("tiny_cnn", seed=6)
    model, X = nv.SUPPORT.build_model(spec), random_images(1, 16, seed=6)
    target = _target_other_than_prediction(model, X)
    call = student.make_fooling_image(X, target, spec)
    fooled = expect_tensor(call.value, "fooling image")
    expect_shape(fooled, X.shape, "fooling image")
    expect_classified_as(model, fooled, target, "the fooling image",
                         "ascend the target's score (add the step, do not subtract it) until the prediction is "
                         "the target")
    expect_input_unchanged(call, "X")


@check(points=1, function="make_fooling_image")
def test_fooling_stops_when_fooled(student):
    """an image already classified as the target comes back unchanged; one that is not, changes"""
    spec = ModelSpec("tiny_cnn", seed=7)
    model, X = nv.SUPPORT.build_model(spec), random_images(1, 16, seed=7)
    scores = model(X)[0]
    already, other = int(scores.argmax()), int(scores.argsort()[-2])
    call = student.make_fooling_image(X, already, spec)
    change = (expect_tensor(call.value, "fooling image") - X).abs().max().item()
    if change > 0:
        fail(
            f"the image changed by up to {change:.3g} although the model already predicted the target: check the "
            "prediction before each step and stop as soon as it is the target."
        )
    moved = (expect_tensor(student.make_fooling_image(X, other, spec).value, "fooling image") - X).abs().max().item()
    if moved == 0:
        fail(
            "the image also came back unchanged for a target the model does not predict yet: stopping only counts "
            "for an attack that moves the image, so take steps along the gradient of the target's score until the "
            "prediction is the target."
        )
