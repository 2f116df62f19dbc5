"""Public checks: the content, Gram, style and total variation losses (Gatys et al. 2015, 2016;
Mahendran and Vedaldi 2015) on tensors small enough to check by hand.

The expected values are stored with the cases (``PUBLIC_CASES``, in ``references.pt``, made by the
solution), each with the values of the usual mistakes on the same inputs, so that a wrong value is
named by the mistake it reproduces."""

import torch

from vizgen.author import ReferenceCase, assignment_probes, check, expect_case, expect_match, fail

probes = assignment_probes(__file__)


# (1, 2, 2, 2): two channels of 2 x 2; by hand, G = [[30, 20], [20, 30]] (sum of products), / (2*2*2) = 8.
FEATURES = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[4.0, 3.0], [2.0, 1.0]]]])
GRAM_BY_HAND = torch.tensor([[[30.0, 20.0], [20.0, 30.0]]]) / 8  # (1, 2, 2)

# "No Python loop over pixels": slices make about a dozen torch calls (a loop thousands) and take 1-2 ms of
# CPU time on a (1, 3, 96, 96) image (a loop over its pixels 0.2 s or more); 96 x 96 x 3 is below torch's
# 32768-element grain, so no thread pool inflates the CPU time of a notebook's process.
MAX_TORCH_CALLS = 100
MAX_CPU_SECONDS = 0.02


def _content_inputs():
    return [0.3, FEATURES, FEATURES.flip(-1) * 0.5], {}  # (1, 2, 2, 2) each; by hand 0.3 * 19 = 5.7


def _gram_inputs():
    return [FEATURES], {}


def _gram_batch_inputs():
    return [torch.arange(2 * 3 * 2 * 3, dtype=torch.float32).reshape(2, 3, 2, 3) / 10], {"normalize": False}


def _style_inputs():
    feats = [FEATURES, FEATURES * 2, FEATURES.flip(1)]  # three "layers"; the style layers are 2 and 0
    targets = [torch.eye(2).unsqueeze(0), torch.ones(1, 2, 2)]  # (1, 2, 2) each, for layers 2 and 0
    return [feats, [2, 0], targets, [0.5, 2.0]], {}


def _tv_inputs():
    img = torch.tensor([[[[0.0, 1.0, 3.0], [2.0, 2.0, 0.0]]]]).repeat(1, 3, 1, 1)  # (1, 3, 2, 3)
    img[:, 1] *= 2  # channels differ
    return [img, 0.1], {}


def _tv_counted_inputs():
    return [torch.linspace(-100, 100, 3 * 32 * 32).reshape(1, 3, 32, 32).sin() * 50, 0.5], {}  # (1, 3, 32, 32)


def _tv_timed_inputs():
    return [torch.linspace(-300, 300, 3 * 96 * 96).reshape(1, 3, 96, 96).cos() * 20, 0.5], {}  # (1, 3, 96, 96)


PUBLIC_CASES = [
    ReferenceCase("content-by-hand", "content_loss", _content_inputs, atol=1e-6, rtol=1e-4,
                  why="float32 sum of 8 squares of small halves: exact.", mistakes="content_mistakes"),
    ReferenceCase("gram-by-hand", "gram_matrix", _gram_inputs, atol=1e-6, rtol=1e-4,
                  why="float32 products of small integers, divided by 8: exact.", mistakes="gram_mistakes"),
    ReferenceCase("gram-batch-unnormalized", "gram_matrix", _gram_batch_inputs, atol=1e-6, rtol=1e-4,
                  why="float32 sums of 6 products of tenths: ~1e-7 relative.", mistakes="gram_mistakes"),
    ReferenceCase("style-by-hand", "style_loss", _style_inputs, atol=1e-6, rtol=1e-4,
                  why="float32 Gram matrices of small integers, squared differences summed: ~1e-7 relative.",
                  mistakes="style_mistakes"),
    ReferenceCase("tv-by-hand", "tv_loss", _tv_inputs, atol=1e-6, rtol=1e-4,
                  why="float32 sum of 27 squared differences of small integers: exact.", mistakes="tv_mistakes"),
    ReferenceCase("tv-counted", "tv_loss", _tv_counted_inputs, atol=1e-6, rtol=1e-4,
                  why="float32 sum of ~6000 squared differences of values ~50: summation order changes ~1e-6 "
                      "relative.", mistakes="tv_mistakes"),
    ReferenceCase("tv-timed", "tv_loss", _tv_timed_inputs, atol=1e-6, rtol=1e-4,
                  why="float32 sum of ~55000 squared differences of values ~20: summation order changes ~1e-5 "
                      "relative.", mistakes="tv_mistakes"),
]


@check(points=1, function="content_loss")
def test_content_loss_by_hand(student, reference):
    """equals w * sum((F - P)^2) on a (1, 2, 2, 2) feature map"""
    case = reference.case("content-by-hand")
    expect_case(student.content_loss(*case.args).value, case, "the content loss", probes.CONTENT_FORMULA, scalar=True)


@check(points=2, function="gram_matrix")
def test_gram_matrix_by_hand(student, reference):
    """is [[30, 20], [20, 30]] / 8 for a hand-made (1, 2, 2, 2) input"""
    case = reference.case("gram-by-hand")
    expect_match(student.gram_matrix(FEATURES).value, GRAM_BY_HAND, case.mistakes, "gram_matrix(features)",
                 probes.GRAM_FORMULA, atol=case.atol, rtol=case.rtol)


@check(points=1, function="gram_matrix")
def test_gram_matrix_batch_unnormalized(student, reference):
    """gives one (C, C) matrix per image of a batch, unnormalised when normalize=False"""
    case = reference.case("gram-batch-unnormalized")
    value = student.gram_matrix(*case.args, **case.kwargs).value
    expect_case(value, case, "gram_matrix(features, normalize=False)", probes.GRAM_FORMULA)


@check(points=1, function="style_loss")
def test_style_loss_by_hand(student, reference):
    """sums w_l * sum((G_l - A_l)^2) over two layers with different weights"""
    case = reference.case("style-by-hand")
    expect_case(student.style_loss(*case.args).value, case, "the style loss",
                probes.STYLE_FORMULA + " (if gram_matrix fails its checks, fix it first)", scalar=True)


@check(points=1, function="tv_loss")
def test_tv_loss_by_hand(student, reference):
    """equals w * (sum of squared vertical + horizontal neighbour differences) on a 2 x 3 image"""
    case = reference.case("tv-by-hand")
    expect_case(student.tv_loss(*case.args).value, case, "the total variation loss", probes.TV_FORMULA, scalar=True)


@check(points=1, function="tv_loss")
def test_tv_loss_without_pixel_loops(student, reference):
    """computes a (1, 3, 32, 32) image's loss with a few tensor operations (slices, no loop over pixels)"""
    counted, timed = reference.case("tv-counted"), reference.case("tv-timed")
    report = student.probe("count_torch_calls", "tv_loss", *counted.args).value
    expect_case(report["value"], counted, "the total variation loss", probes.TV_FORMULA, scalar=True)
    if report["calls"] > MAX_TORCH_CALLS:
        fail(f"tv_loss made {report['calls']} torch operations on a 32 x 32 image: that is a Python loop over pixels; "
             "replace it by differences of shifted slices, img[:, :, 1:, :] - img[:, :, :-1, :].")
    call = student.tv_loss(*timed.args)  # after the first call: the process is started, its cells run
    expect_case(call.value, timed, "the total variation loss of a 96 x 96 image", probes.TV_FORMULA, scalar=True)
    if call.cpu_seconds > MAX_CPU_SECONDS:
        fail(f"tv_loss took {call.cpu_seconds * 1000:.0f} ms of CPU time on a 96 x 96 image (slices take a few ms; "
             f"the limit is {MAX_CPU_SECONDS * 1000:.0f} ms): that is a Python loop over pixels; replace it by "
             "differences of shifted slices, img[:, :, 1:, :] - img[:, :, :-1, :], summed with torch.")
