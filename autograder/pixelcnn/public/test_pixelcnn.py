"""Public checks of the PixelCNN: the masks and their use in forward, causality through the whole
network, its size, the NLL by hand and for large logits, and sampling in raster order."""

import math

import torch

from vizgen.author.expect import (expect_clean_model, expect_dtype, expect_loss, expect_module, expect_shape,
                                   expect_tensor, fail)
from vizgen.author.checks import check
from vizgen.author.support import assignment_probes
from vizgen.author.models import ModelSpec

pixelcnn = assignment_probes(__file__)  # autograder/pixelcnn/probes.py


@check(points=1, function="MaskedConv2d")
def test_masks_3x3(student):
    """is an nn.Conv2d with a 'mask' buffer: A hides the centre and what follows it, B only what follows (3x3, 2 -> 3 channels)"""
    for mask_type in ("A", "B"):
        report = student.probe("masked_layer", "MaskedConv2d", mask_type, 2, 3, 3, seed=1).value
        pixelcnn.expect_masked_layer(report, mask_type, 2, 3, 3)


@check(points=1, function="MaskedConv2d")
def test_mask_applied_in_forward(student):
    """forward convolves with weight * mask even after the weights change (5x5 mask A, 1 -> 4 channels)"""
    report = student.probe("masked_layer", "MaskedConv2d", "A", 1, 4, 5, seed=2).value
    pixelcnn.expect_masked_layer(report, "A", 1, 4, 5)


PIXELS = [(0, 3), (6, 6), (14, 27), (27, 0)]


@check(points=1, function="PixelCNN")
def test_pixelcnn_is_causal(student):
    """output pixel (i, j) does not depend on input pixels at or after (i, j) (PixelCNN(channels=4, blocks=1), random input)"""
    report = student.probe("causality", "PixelCNN", 4, 1, PIXELS, seed=3).value
    pixelcnn.expect_causal(report, PIXELS, "PixelCNN(channels=4, blocks=1)")


@check(points=1, function="PixelCNN")
def test_pixelcnn_default_size(student):
    """PixelCNN() maps (N, 1, 28, 28) to (N, 1, 28, 28) logits with 171,777 parameters"""
    summary = student.probe("pixelcnn_summary", "PixelCNN").value
    if summary["is_module"] and summary["output_error"]:
        fail(f"PixelCNN()'s forward failed on (2, 1, 28, 28) zeros: {summary['output_error']}.")
    expect_module(summary, "PixelCNN()", output_shape=(2, 1, 28, 28))
    if summary["parameters"] != 171_777:
        fail(f"PixelCNN() has {summary['parameters']:,} parameters; expected 171,777 (channels=64, blocks=4): check each "
             "layer's sizes, that every convolution has a bias, and that no layer is missing or repeated.")


@check(points=1, function="PixelCNN")
def test_pixelcnn_layers_small(student):
    """PixelCNN(channels=3, blocks=1) has the specified layers in order: 7x7 A, ReLU, 3x3 B, ReLU, 1x1 B, ReLU, 1x1 B, ReLU, 1x1 B"""
    summary = student.probe("pixelcnn_summary", "PixelCNN", 3, 1).value
    pixelcnn.expect_layers(summary, 3, 1)


@check(points=1, function="pixelcnn_nll")
def test_nll_zero_logits(student):
    """with logits 0 it is 784 log 2 nats per image, whatever the images"""
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.3), generator=torch.Generator().manual_seed(4))
    candidates = pixelcnn.nll_candidates(torch.zeros(3, 1, 28, 28), x)
    candidates["correct"] = 784 * math.log(2)  # BCE(0, x) = log 2 for every pixel, summed over 784 pixels
    expect_loss(student.pixelcnn_nll(torch.zeros(3, 1, 28, 28), x).value, candidates, "pixelcnn_nll",
                pixelcnn.NLL_FORMULA)


@check(points=1, function="pixelcnn_nll")
def test_nll_by_hand(student):
    """sums the BCE over the pixels of each image and averages over the images (2 images of 2 x 2)"""
    logits = torch.tensor([[[[2.0, -1.0], [0.5, 0.0]]], [[[-3.0, 1.5], [4.0, -0.5]]]])  # (2, 1, 2, 2)
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]], [[[1.0, 1.0], [1.0, 0.0]]]])  # (2, 1, 2, 2)
    expect_loss(student.pixelcnn_nll(logits, x).value, pixelcnn.nll_candidates(logits, x), "pixelcnn_nll",
                pixelcnn.NLL_FORMULA)


@check(points=1, function="pixelcnn_nll")
def test_nll_stable_for_large_logits(student):
    """stays finite and right for logits of +-50 to +-1000"""
    logits = torch.tensor([[[[1000.0, -1000.0], [50.0, -50.0]]], [[[-300.0, 700.0], [-60.0, 90.0]]]])  # (2, 1, 2, 2)
    x = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]], [[[0.0, 1.0], [1.0, 1.0]]]])  # (2, 1, 2, 2)
    expect_loss(student.pixelcnn_nll(logits, x).value, pixelcnn.nll_candidates(logits, x), "pixelcnn_nll",
                pixelcnn.NLL_FORMULA)


@check(points=1, function="sample")
def test_sample_shape_and_forwards(student):
    """returns binary (3, 1, 28, 28) images after 784 forwards, without gradients or changes to the model"""
    call = student.sample(ModelSpec("fvsbn", seed=5, count_calls=True), 3, 0)
    images = expect_tensor(call.value, "sample(model, 3, 0)")
    expect_shape(images, (3, 1, 28, 28), "sample(model, 3, 0)", hint="one (1, 28, 28) image per sample")
    expect_dtype(images, (torch.float32,), "sample(model, 3, 0)", hint="build the images with torch.zeros (float32)")
    if not bool(((images == 0) | (images == 1)).all()):
        fail("sample returned values other than 0 and 1: draw each pixel with torch.bernoulli(torch.sigmoid(logit)).")
    calls = call.effects["model"]["forward_calls"]
    if calls != 784:
        fail(f"sample called the model {calls} times; expected 784, one forward per pixel in raster order"
             + (" (a single forward draws every pixel independently of the others)" if calls == 1 else "") + ".")
    expect_clean_model(call, "model")
    if call.effects["model"]["param_grads_left"]:
        fail("sample left gradients on the model's parameters: sample under torch.no_grad(), no backward.")


@check(points=1, function="sample")
def test_sample_raster_order(student):
    """draws pixel k from the k-th forward, in raster order, under no_grad, each forward seeing the pixels drawn before"""
    report = student.probe("record_sampling", "sample", 20, 0, pattern_seed=6).value
    pixelcnn.expect_raster_sampling(report, 20)


@check(points=1, function="sample")
def test_sample_seeded_bernoulli_draws(student):
    """with every logit -0.4 about 40% of pixels are on (sigmoid(-0.4)); the same seed gives the same images, another seed others"""
    out = student.probe("sample_draws", "sample", "constant", 4, (1, 1, 2), logit=-0.4).value
    pixelcnn.expect_seeded_draws(out, 4, 0.4013)  # sigmoid(-0.4)


@check(points=1, function="sample")
def test_sample_completes_from_start(student):
    """with given images and start=200, keeps pixels 0..199 and draws pixels 200..783, one forward each, in raster order"""
    given = torch.bernoulli(torch.full((16, 1, 28, 28), 0.3), generator=torch.Generator().manual_seed(7))
    report = student.probe("record_sampling", "sample", 16, 2, start=200, given=given, pattern_seed=8).value
    pixelcnn.expect_completion(report, given, 200)
