"""Hidden checks: the losses on other inputs (references), a few descent steps on each loss,
periodic textures and the law of window-1 textures, instance norm against the judge's values and its
usual mistakes (near-constant channels, other shapes), other network sizes and the exact layer list."""

import numpy as np
import torch

from vizgen.author import (ReferenceCase, assignment_judge, assignment_probes, check, expect_case, expect_categorical,
                           expect_input_unchanged, expect_match, expect_module, fail)
from vizgen.author.expect import expect_periodic, expect_pixels_from

judge = assignment_judge(__file__)  # autograder/style_transfer/judge.py: grader side only
probes = assignment_probes(__file__)  # the messages' definitions of each loss


def _random(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _content_inputs():
    return [2.5e-2, _random(1, 16, 9, 7, seed=31) * 10, _random(1, 16, 9, 7, seed=32) * 10], {}


def _gram_inputs():
    return [torch.relu(_random(3, 8, 5, 6, seed=33))], {}  # a batch of 3, non-square maps


def _gram_raw_inputs():
    return [torch.relu(_random(3, 8, 5, 6, seed=33))], {"normalize": False}  # the same maps, unnormalised


def _style_inputs():
    feats = [f.detach() for f in judge.tiny_features(_random(1, 3, 12, 10, seed=34))]  # 6 layers
    targets = [f.detach() for f in judge.tiny_features(_random(1, 3, 12, 10, seed=35))]
    layers, weights = [1, 3, 5], [3.0, 0.5, 10.0]
    return [feats, layers, [judge.gram(targets[i]).float() for i in layers], weights], {}


def _tv_inputs():
    return [_random(1, 3, 11, 8, seed=36) * 50, 3e-3], {}


REFERENCE_CASES = [
    ReferenceCase("content", "content_loss", _content_inputs, atol=1e-3, rtol=1e-5,
                  why="float32 sum of 1008 squares of values ~10: summation order changes ~1e-6 relative.",
                  mistakes="content_mistakes"),
    ReferenceCase("gram", "gram_matrix", _gram_inputs, atol=1e-6, rtol=1e-5,
                  why="float32 products summed over 30 positions, divided by 240: ~1e-7 relative.",
                  mistakes="gram_mistakes"),
    ReferenceCase("gram-raw", "gram_matrix", _gram_raw_inputs, atol=1e-5, rtol=1e-5,
                  why="float32 products summed over 30 positions: ~1e-7 relative.", mistakes="gram_mistakes"),
    ReferenceCase("style", "style_loss", _style_inputs, atol=1e-6, rtol=1e-4,
                  why="float32 Gram matrices of a tiny net's features; squared differences summed: ~1e-6 relative.",
                  mistakes="style_mistakes"),
    ReferenceCase("tv", "tv_loss", _tv_inputs, atol=1e-3, rtol=1e-5,
                  why="float32 sum of ~500 squared differences of values ~50: ~1e-6 relative.", mistakes="tv_mistakes"),
]


@check(points=1, function="content_loss")
def test_content_loss_reference(student, reference):
    """matches the reference on other features with another weight"""
    case = reference.case("content")
    expect_case(student.content_loss(*case.args).value, case, "the content loss", probes.CONTENT_FORMULA, scalar=True)


@check(points=1, function="content_loss")
def test_content_loss_descends(student):
    """a few gradient steps on it move an image's features towards the target's"""
    judge.expect_descent(student, "content_loss", "content", {"layer": 3}, seed=40)


@check(points=1, function="gram_matrix")
def test_gram_matrix_reference(student, reference):
    """matches the reference on a batch of three non-square maps"""
    case = reference.case("gram")
    expect_case(student.gram_matrix(*case.args).value, case, "gram_matrix(features)", probes.GRAM_FORMULA)
    case = reference.case("gram-raw")
    expect_case(student.gram_matrix(*case.args, **case.kwargs).value, case, "gram_matrix(features, normalize=False)",
                probes.GRAM_FORMULA)


@check(points=1, function="style_loss")
def test_style_loss_reference(student, reference):
    """matches the reference on three layers of a small network with unequal weights"""
    case = reference.case("style")
    expect_case(student.style_loss(*case.args).value, case, "the style loss",
                probes.STYLE_FORMULA + " (if gram_matrix fails its checks, fix it first)", scalar=True)


@check(points=1, function="style_loss")
def test_style_loss_descends(student):
    """a few gradient steps on it move an image's Gram matrices towards the target's"""
    judge.expect_descent(student, "style_loss", "style", {"layers": [1, 3, 5], "weights": [1.0, 10.0, 10.0]}, seed=42)


@check(points=1, function="tv_loss")
def test_tv_loss_reference(student, reference):
    """matches the reference on another image and weight"""
    case = reference.case("tv")
    expect_case(student.tv_loss(*case.args).value, case, "the total variation loss", probes.TV_FORMULA, scalar=True)


@check(points=1, function="tv_loss")
def test_tv_loss_is_vectorised(student):
    """computes a (2, 3, 24, 40) batch's loss with a few tensor operations (no Python loop over pixels)"""
    img = _random(2, 3, 24, 40, seed=44)  # (2, 3, 24, 40)
    counted = student.probe("count_torch_calls", "tv_loss", img, 1.0).value
    mistakes = judge.tv_mistakes(img, 1.0)
    expect_match(counted["value"], mistakes.pop("correct"), mistakes, "the total variation loss",
                 probes.TV_FORMULA, scalar=True)
    timed = _random(1, 3, 80, 128, seed=43) * 30  # (1, 3, 80, 128): 30720 entries, under torch's parallel grain
    call = student.tv_loss(timed, 0.2)  # after the first call: the process is started, its cells run
    mistakes = judge.tv_mistakes(timed, 0.2)
    expect_match(call.value, mistakes.pop("correct"), mistakes, "the total variation loss of an 80 x 128 image",
                 probes.TV_FORMULA, scalar=True)
    judge.expect_no_pixel_loop(counted["calls"], img, call.cpu_seconds, timed)


@check(points=1, function="synthesize_texture_nn")
def test_texture_reproduces_a_periodic_sample(student):
    """continues a sample made of one repeated 4 x 4 tile with the same period"""
    tile = np.random.default_rng(45).integers(0, 256, (4, 4, 3), dtype=np.uint8)
    sample = np.tile(tile, (5, 5, 1))  # (20, 20, 3), period 4 both ways
    out = np.asarray(student.synthesize_texture_nn(sample, 16, 5, 3).value)
    if out.shape != (16, 16, 3):
        fail(f"the texture has shape {out.shape}; expected (16, 16, 3).")
    expect_periodic(out, sample, 4, "match each pixel's already-filled neighbourhood (a mask of the filled pixels) "
                    "against every sample window and copy the centre of a best match")


@check(points=1, function="synthesize_texture_nn")
def test_texture_other_window_and_size(student):
    """works for a rectangular sample, window 7 and out_size 9, copying only sample pixels"""
    sample = np.random.default_rng(46).integers(0, 256, (14, 18, 3), dtype=np.uint8)  # (14, 18, 3)
    out = np.asarray(student.synthesize_texture_nn(sample, 9, 7, 1).value)
    if out.shape != (9, 9, 3) or out.dtype != np.uint8:
        fail(f"the texture is {out.dtype} {out.shape}; expected uint8 (9, 9, 3).")
    expect_pixels_from(out, sample, "the texture")


def _expect_instance_norm(call, x, weight, bias, eps, name, atol, rtol):
    mistakes = judge.instance_norm_mistakes(x, weight, bias, eps)
    expect_match(call.value, mistakes.pop("correct"), mistakes, name, probes.INSTANCE_NORM_FORMULA, atol=atol,
                 rtol=rtol)


@check(points=1, function="synthesize_texture_nn")
def test_texture_window_one_is_uniform(student):
    """with window 1, a 33 x 33 texture's pixels are uniform draws from a 5 x 7 sample's 35 distinct pixels"""
    index = np.arange(35).reshape(5, 7)
    sample = np.stack([index * 7, 250 - index * 3, (index * 11) % 256], axis=-1).astype(np.uint8)  # (5, 7, 3)
    known = {tuple(p): k for k, p in enumerate(sample.reshape(-1, 3))}
    out = np.asarray(student.synthesize_texture_nn(sample, 33, 1, 4).value)
    if out.shape != (33, 33, 3):
        fail(f"with window 1 the texture has shape {out.shape}; expected (33, 33, 3): window 1 is an odd window too "
             "(its neighbourhood is the pixel alone; out[r:-r] is empty when r == 0).")
    expect_pixels_from(out, sample, "the texture for window 1")
    draws = [known[tuple(p)] for p in out.reshape(-1, 3)]  # (1089,) the sample pixel each one copies
    expect_categorical(torch.tensor(draws), torch.full((35,), 1 / 35),
                       "the pixels of a 33 x 33 texture grown with window 1 from a 5 x 7 sample of 35 distinct pixels",
                       "with window 1 every sample window matches equally well: pick uniformly at random among all "
                       "the windows within 10% of the best, not the first one or a fixed number of them")


@check(points=1, function="instance_norm")
def test_instance_norm_near_constant_channels(student):
    """stays right where eps matters: channels varying by 3e-3 or not at all, eps 1e-5 and 1e-2"""
    x = 0.1 + 3e-3 * _random(1, 4, 6, 6, seed=47)  # (1, 4, 6, 6): variance ~1e-5, the size of eps
    x[0, 2] = 0.7  # one exactly constant channel: only eps keeps it finite
    weight, bias = _random(4, seed=48), _random(4, seed=49)
    for eps in (1e-5, 1e-2):
        call = student.instance_norm(x, weight, bias, eps)
        _expect_instance_norm(call, x, weight, bias, eps, f"instance_norm(x, w, b, eps={eps:g})", 1e-4, 1e-3)


@check(points=1, function="instance_norm")
def test_instance_norm_random_shapes(student):
    """is right on several shapes (one image, one channel, wide maps), input unchanged"""
    for k, shape in enumerate([(1, 1, 3, 3), (4, 2, 1, 9), (3, 5, 7, 2)]):
        x = _random(*shape, seed=50 + k) * (k + 1) - k
        weight, bias = _random(shape[1], seed=60 + k), _random(shape[1], seed=70 + k)
        call = student.instance_norm(x, weight, bias)
        _expect_instance_norm(call, x, weight, bias, 1e-5, f"instance_norm on shape {shape}", 1e-4, 1e-4)
        expect_input_unchanged(call, "x")


@check(points=1, function="TransformerNet")
def test_transformer_net_other_size(student):
    """TransformerNet(8, 2) keeps a (1, 3, 17, 21) shape with 52,899 parameters"""
    summary = student.probe("module_summary", "TransformerNet", 8, 2, input_shape=(1, 3, 17, 21)).value
    expect_module(summary, "TransformerNet(8, 2)", output_shape=(1, 3, 17, 21), parameters=52_899)


def _layers(c: int, residual: int) -> list[str]:
    def conv(cin, cout, k, stride=1, relu=True):
        layers = ["ReflectionPad2d()",
                  f"Conv2d(in_channels={cin}, out_channels={cout}, kernel_size=({k}, {k}), "
                  f"stride=({stride}, {stride}), padding=(0, 0))", "InstanceNorm2d()"]
        return layers + ["ReLU()"] if relu else layers
    found = conv(3, c, 9) + conv(c, 2 * c, 3, 2) + conv(2 * c, 4 * c, 3, 2)
    for _ in range(residual):
        found += conv(4 * c, 4 * c, 3) + conv(4 * c, 4 * c, 3, relu=False)
    found += conv(4 * c, 2 * c, 3) + conv(2 * c, c, 3)
    return found + ["ReflectionPad2d()", f"Conv2d(in_channels={c}, out_channels=3, kernel_size=(9, 9), stride=(1, 1), "
                                         "padding=(0, 0))"]


@check(points=1, function="TransformerNet")
def test_transformer_net_layers(student):
    """TransformerNet(8, 2) has exactly the notebook's table of layers, in order"""
    summary = student.probe("module_summary", "TransformerNet", 8, 2).value
    expect_module(summary, "TransformerNet(8, 2)", layers=_layers(8, 2))
