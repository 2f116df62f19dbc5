"""Hidden checks: masks and forwards for other kernels and channels, causality on other pixels and sizes, the
exact layers and their wiring under random parameters, the NLL on another reference, and sampling statistics,
dependence and completion. Correct values and verdicts come from the judge (``judge.py``)."""

import torch

from vizgen.author import Figure, ModelSpec, ReferenceCase, check, expect_loss, fail
from vizgen.author.support import assignment_judge

judge = assignment_judge(__file__)  # autograder/pixelcnn/judge.py
pixelcnn = judge.probes  # autograder/pixelcnn/probes.py


def _large_logits():
    generator = torch.Generator().manual_seed(41)
    logits = torch.randn(5, 1, 6, 7, generator=generator) * 300  # (5, 1, 6, 7): |logits| up to ~1000
    x = torch.bernoulli(torch.full((5, 1, 6, 7), 0.4), generator=generator)  # (5, 1, 6, 7)
    return [logits, x], {}


REFERENCE_CASES = [
    ReferenceCase("nll_large_logits", "pixelcnn_nll", _large_logits, atol=1e-3, rtol=1e-5,
                  why="float32 BCE on logits up to |1000| summed over 42 pixels: stable formulations agree to "
                      "~1e-6 relative.",
                  mistakes="nll_mistakes"),
]


def _layer(student, mask_type, in_channels, out_channels, k, seed):
    weight, bias, x = pixelcnn.random_layer(in_channels, out_channels, k, seed)
    report = student.probe("masked_layer", "MaskedConv2d", mask_type, in_channels, out_channels, k,
                           weight, bias, x).value
    judge.expect_masked_layer(report, mask_type, in_channels, out_channels, k, weight, bias, x)


@check(points=2, function="MaskedConv2d")
def test_masks_other_kernels(student):
    """the masks are right for 1x1, 5x5 and 7x7 kernels and 3 -> 2 channels, A and B"""
    for k in (1, 5, 7):
        for mask_type in ("A", "B"):
            _layer(student, mask_type, 3, 2, k, seed=10 + k)


@check(points=2, function="MaskedConv2d")
def test_mask_b_forward_wide(student):
    """forward applies mask B with 7x7 kernels and 4 -> 6 channels"""
    _layer(student, "B", 4, 6, 7, seed=11)


OTHER_PIXELS = [(0, 0), (0, 1), (1, 0), (9, 20), (20, 9), (27, 27)]


@check(points=3, function="PixelCNN")
def test_pixelcnn_causal_deeper(student):
    """stays causal with 3 residual blocks and 5 channels, at the corners and edges too"""
    images, watch = pixelcnn.causality_inputs(OTHER_PIXELS, seed=12)
    report = student.probe("causality", "PixelCNN", 5, 3, images, watch, seed=12).value
    judge.expect_causal(report, watch, "PixelCNN(channels=5, blocks=3)")


@check(points=2, function="PixelCNN")
def test_pixelcnn_layers(student):
    """PixelCNN(channels=6, blocks=2) has exactly the specified layers, in order"""
    params = judge.random_parameters(6, 2, seed=16)
    summary = student.probe("pixelcnn_summary", "PixelCNN", 6, 2, params=params).value
    judge.expect_pixelcnn(summary, "PixelCNN(6, 2)", judge.pixelcnn_layers(6, 2), params, parameters=1093)


@check(points=1, function="pixelcnn_nll")
def test_nll_large_logits_reference(student, reference):
    """is right and finite for logits as large as |1000|, on 5 images of 6 x 7 pixels"""
    case = reference.case("nll_large_logits")
    candidates = {**case.mistakes, "correct": case.output.item()}
    expect_loss(student.pixelcnn_nll(*case.args).value, candidates, "pixelcnn_nll", pixelcnn.NLL_FORMULA,
                rtol=case.rtol, atol=case.atol)


@check(points=1, function="pixelcnn_nll")
def test_nll_one_image(student):
    """one image whose pixels are all predicted right with logit 3: 784 log(1 + e^-3)"""
    x = torch.bernoulli(torch.full((1, 1, 28, 28), 0.5), generator=torch.Generator().manual_seed(13))
    logits = (x * 2 - 1) * 3  # (1, 1, 28, 28): +3 where the pixel is on, -3 where off
    candidates = {**judge.nll_mistakes(logits, x), "correct": 784 * torch.log1p(torch.exp(torch.tensor(-3.0))).item()}
    expect_loss(student.pixelcnn_nll(logits, x).value, candidates, "pixelcnn_nll", pixelcnn.NLL_FORMULA)


OTHER_LAW = "logit(i, j) = a[j % 2] - 1.8 x(i - 1, j + 1) + 2.2 x(i, j - 1), a = (0.7, -0.6)"


@check(points=2, function="sample")
def test_sample_conditional_distribution_other(student):
    ("on another model with known conditionals, 32 images and 32 completions of given upper halves follow "
     "them (goodness-of-fit tests, false-failure rate 1e-4 each); seeds repeat and differ")
    model = ModelSpec("context_logits_other")
    draws = [student.sample(model, 32, seed).value for seed in (7, 7, 8)]
    judge.expect_conditionals(draws, model, 32, law=OTHER_LAW)
    given = torch.bernoulli(torch.full((32, 1, 28, 28), 0.4), generator=torch.Generator().manual_seed(17))
    draws = [student.sample(model, 32, seed, given=given, start=392).value for seed in (9, 9, 10)]
    judge.expect_conditionals(draws, model, 32, start=392, given=given, law=OTHER_LAW)


@check(points=1, function="sample")
def test_sample_follows_the_previous_pixel(student):
    ("on a model where each pixel copies the one before it (raster order), every image comes out "
     "all black or all white")
    images = student.sample(ModelSpec("copy_previous"), 12, 9).value
    if not isinstance(images, torch.Tensor) or tuple(images.shape) != (12, 1, 28, 28):
        fail(f"sample(model, 12, 9) returned {getattr(images, 'shape', type(images).__name__)}; "
             "expected (12, 1, 28, 28).")
    flat = images.detach().float().cpu().reshape(12, -1)  # (12, 784)
    is_mixed = (flat.min(dim=1).values == 0) & (flat.max(dim=1).values == 1)  # (12,)
    mixed = int(is_mixed.sum())
    if mixed:
        first = int(is_mixed.nonzero()[0])
        figure = Figure(((f"yours (image {first})", flat[first].reshape(28, 28).numpy()),),
                        caption="black and white mixed: each pixel copies the one before it")
        fail(f"{mixed} of 12 images mix black and white pixels although each pixel's logit is +-30 after the one "
             "before it in raster order: pixel k must be drawn after pixels 0..k-1, from a forward on the image "
             "holding them (row by row, left to right).", figure)
    if flat[:, 0].min() == flat[:, 0].max():
        fail("all 12 images start with the same first pixel although its probability is 1/2: draw pixel 0 with "
             "torch.bernoulli too.")


@check(points=1, function="sample")
def test_sample_completes_given_pixels(student):
    """with given images and start=392, keeps their upper half and draws only the lower half, one forward per pixel"""
    given = torch.bernoulli(torch.full((20, 1, 28, 28), 0.5), generator=torch.Generator().manual_seed(14))
    model = ModelSpec("raster_oracle", seed=15)
    report = student.probe("record_sampling", "sample", model, 20, 3, given=given, start=392).value
    judge.expect_sampling(report, model, 20, 3, given=given, start=392)
