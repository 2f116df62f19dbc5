"""Public checks: the content, Gram, style and total variation losses (Gatys et al. 2015, 2016;
Mahendran and Vedaldi 2015) on tensors small enough to check by hand."""

import torch

from vizgen.author.expect import fail
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes

style = assignment_probes(__file__)  # autograder/style_transfer/probes.py

# (1, 2, 2, 2): two channels of 2 x 2; by hand, G = [[30, 20], [20, 30]] (sum of products), / (2*2*2) = 8.
FEATURES = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[4.0, 3.0], [2.0, 1.0]]]])


@check(points=1, function="content_loss")
def test_content_loss_by_hand(student):
    """equals w * sum((F - P)^2) on a (1, 2, 2, 2) feature map"""
    current, original = FEATURES, FEATURES.flip(-1) * 0.5  # (1, 2, 2, 2) each
    value = student.content_loss(0.3, current, original).value
    style.expect_scalar(value, style.content_candidates(0.3, current, original), "the content loss",
                        style.CONTENT_FORMULA)


@check(points=1, function="gram_matrix")
def test_gram_matrix_by_hand(student):
    """is [[30, 20], [20, 30]] / 8 for a hand-made (1, 2, 2, 2) input"""
    value = student.gram_matrix(FEATURES).value
    style.expect_tensor_match(value, style.gram_candidates(FEATURES, True), "gram_matrix(features)", style.GRAM_FORMULA)


@check(points=1, function="gram_matrix")
def test_gram_matrix_batch_unnormalized(student):
    """gives one (C, C) matrix per image of a batch, unnormalised when normalize=False"""
    features = torch.arange(2 * 3 * 2 * 3, dtype=torch.float32).reshape(2, 3, 2, 3) / 10  # (2, 3, 2, 3)
    value = student.gram_matrix(features, normalize=False).value
    style.expect_tensor_match(value, style.gram_candidates(features, False), "gram_matrix(features, normalize=False)",
                              style.GRAM_FORMULA)


@check(points=1, function="style_loss")
def test_style_loss_by_hand(student):
    """sums w_l * sum((G_l - A_l)^2) over two layers with different weights"""
    feats = [FEATURES, FEATURES * 2, FEATURES.flip(1)]  # three "layers"; the style layers are 2 and 0
    layers, weights = [2, 0], [0.5, 2.0]
    targets = [torch.eye(2).unsqueeze(0), torch.ones(1, 2, 2)]  # (1, 2, 2) each, for layers 2 and 0
    value = student.style_loss(feats, layers, targets, weights).value
    style.expect_scalar(value, style.style_candidates(feats, layers, targets, weights), "the style loss",
                  style.STYLE_FORMULA + " (if gram_matrix fails its checks, fix it first)")


@check(points=1, function="tv_loss")
def test_tv_loss_by_hand(student):
    """equals w * (sum of squared vertical + horizontal neighbour differences) on a 2 x 3 image"""
    img = torch.tensor([[[[0.0, 1.0, 3.0], [2.0, 2.0, 0.0]]]]).repeat(1, 3, 1, 1)  # (1, 3, 2, 3)
    img[:, 1] *= 2  # channels differ
    value = student.tv_loss(img, 0.1).value
    style.expect_scalar(value, style.tv_candidates(img, 0.1), "the total variation loss", style.TV_FORMULA)


@check(points=1, function="tv_loss")
def test_tv_loss_without_pixel_loops(student):
    """computes a (1, 3, 32, 32) image's loss with a few tensor operations (slices, no loop over pixels)"""
    img = torch.linspace(-100, 100, 3 * 32 * 32).reshape(1, 3, 32, 32).sin() * 50  # (1, 3, 32, 32)
    counted = student.probe("count_torch_calls", "tv_loss", img, 0.5).value
    style.expect_scalar(counted["value"], style.tv_candidates(img, 0.5), "the total variation loss", style.TV_FORMULA,
                        rtol=1e-4)
    style.expect_no_pixel_loop(counted["calls"], img)
