"""Public checks: guided backpropagation (Springenberg et al. 2015)."""

import torch

from vizgen.author.expect import (
    expect_clean_model, expect_dtype, expect_finite, expect_input_unchanged, expect_shape, expect_tensor, fail,
)
from vizgen.author.inputs import random_images
from vizgen.author.checks import check
from vizgen.author.models import ModelSpec


@check(points=1, function="guided_backprop")
def test_guided_shape(student):
    """returns a float32 (N, 3, H, W) gradient image"""
    X, y = random_images(2, 16, seed=4), torch.tensor([1, 2])
    call = student.guided_backprop(X, y, ModelSpec("tiny_cnn", seed=4))
    grad = expect_tensor(call.value, "guided gradient")
    expect_shape(grad, (2, 3, 16, 16), "guided gradient", hint="return the gradient with respect to X itself")
    expect_dtype(grad, torch.float32, "guided gradient")
    expect_finite(grad, "guided gradient")
    if grad.abs().sum() == 0:
        fail("the guided gradient is all zeros: backpropagate the score s_y of each image.")


@check(points=1, function="guided_backprop")
def test_guided_cleans_up(student):
    """leaves no hooks on the model and does not change its input"""
    X, y = random_images(1, 16, seed=5), torch.tensor([3])
    call = student.guided_backprop(X, y, ModelSpec("tiny_cnn", seed=5))
    expect_clean_model(call, "model")
    expect_input_unchanged(call, "X")
