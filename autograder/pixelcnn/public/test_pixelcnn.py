"""Public checks of the PixelCNN: the masks and their use in forward, causality through the whole
network, its size and wiring, the NLL by hand and for large logits, and sampling in raster order.

They judge against hand-written expectations (the masks as 0/1 rows; a unit impulse through a
convolution returns its kernel turned by 180 degrees; unit parameters give PixelCNN(c, b) logits
c * (1 + b)) and against the stored public references (``PUBLIC_CASES``: the solution's NLL and images,
with the usual mistakes' values), never against code that computes a correct answer."""

import math

import torch

from vizgen.author import (ModelSpec, ReferenceCase, check, expect_case, expect_categorical, expect_clean_model,
                           expect_dtype, expect_match, expect_module, expect_shape, expect_tensor, fail,
                           reproduced_mistake)
from vizgen.author.support import assignment_probes
from vizgen.author.matching import image_figure

pixelcnn = assignment_probes(__file__)  # autograder/pixelcnn/probes.py
SIDE = 28

MASKS = {  # hand-written: 1 where a kernel position is kept, 0 where hidden (raster order, centre in the middle)
    ("A", 3): "111 100 000", ("B", 3): "111 110 000",
    ("A", 5): "11111 11111 11000 00000 00000", ("B", 5): "11111 11111 11100 00000 00000",
}


def _mask(mask_type, k):
    return torch.tensor([[float(v) for v in row] for row in MASKS[mask_type, k].split()])  # (k, k)


def _expect_masked_layer(report, mask_type, in_channels, out_channels, k, bias):
    """A ``masked_layer`` report on ``pixelcnn.impulses``: the mask buffer is MASKS' and the forward returns
    it turned by 180 degrees (plus the bias) for every output and input channel."""
    name = f'MaskedConv2d("{mask_type}", {in_channels}, {out_channels}, {k}, padding={k // 2})'
    if not report["is_conv2d"]:
        fail(f"{name} is a {report['type']}, not an nn.Conv2d: subclass nn.Conv2d (class MaskedConv2d(nn.Conv2d)) "
             "and call super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs).")
    if "mask" in report["parameters"]:
        fail(f"{name} holds its mask as a parameter, which the optimizer would change: register it with "
             "self.register_buffer('mask', mask).")
    if report["mask"] is None:
        fail(f"{name} has no buffer named 'mask' (buffers: {report['buffers'] or 'none'}): build the mask in "
             "__init__ and register it with self.register_buffer('mask', mask).")
    want, other = _mask(mask_type, k), _mask("B" if mask_type == "A" else "A", k)
    try:
        mask = report["mask"].float().cpu().expand(out_channels, in_channels, k, k)
    except RuntimeError:
        fail(f"{name}'s mask has shape {tuple(report['mask'].shape)}; expected the weight's shape "
             f"{(out_channels, in_channels, k, k)}.")
    if not (mask == want).all():
        if (mask == other).all():
            hint = ("it keeps the centre, as mask B does: mask A must hide the centre pixel too (likely bug: the mask "
                    "includes the centre, or A and B are swapped)" if mask_type == "A" else
                    "it hides the centre, as mask B does not: mask B keeps the centre pixel (likely bug: A and B are "
                    "swapped)")
        elif (mask[:, :, k // 2 + 1:] != 0).any():
            hint = "rows below the centre must be hidden (they come later in raster order)"
        else:
            hint = "compare it with the mask above: keep the rows above the centre and the pixels left of it"
        rows = "\n".join(" ".join(str(int(v)) for v in row) for row in mask[0, 0])
        fail(f"{name}'s mask (first output and input channel):\n{rows}\nis wrong: {hint}; expected\n"
             + "\n".join(" ".join(row) for row in MASKS[mask_type, k].split()) + ".")
    if "output" not in report:
        fail(f"{name}'s weight has shape {report['weight_shape']}: pass in_channels, out_channels and kernel_size to "
             "nn.Conv2d in that order.")
    out = report["output"].double().cpu()
    if tuple(out.shape) != (in_channels, out_channels, k, k):
        fail(f"{name} maps a ({in_channels}, {in_channels}, {k}, {k}) input to {tuple(out.shape)}; expected "
             f"({in_channels}, {out_channels}, {k}, {k}): pass **conv_kwargs (padding) on to nn.Conv2d.")
    kernels, want = out.flip(-2, -1), want.double()  # (in, out, k, k): a unit impulse returns its kernel turned
    if torch.allclose(kernels, want + bias, atol=1e-5):
        return
    if torch.allclose(kernels, torch.ones_like(want) + bias, atol=1e-5):
        fail(f"{name}'s forward used the unmasked weights once they changed (as after an optimizer step): the mask was "
             "built (or applied once in __init__) but not applied in forward; convolve with self.weight * self.mask "
             "in forward.")
    if bias and torch.allclose(kernels, want.expand_as(kernels), atol=1e-5):
        fail(f"{name}'s forward left the bias out: pass self.bias to the convolution.")
    fail(f"{name} with all-one weights and bias {bias:g} turns a unit impulse into kernels other than mask + bias "
         f"(first one: {kernels[0, 0].tolist()}): return F.conv2d(x, self.weight * self.mask, self.bias, self.stride, "
         "self.padding, ...).")


@check(points=3, function="MaskedConv2d")
def test_masks_3x3(student):
    ("is an nn.Conv2d with a 'mask' buffer: A hides the centre and what follows it, B only what follows "
     "(3x3, 2 -> 3 channels)")
    for mask_type in ("A", "B"):
        weight, bias, x = pixelcnn.impulses(2, 3, 3)
        report = student.probe("masked_layer", "MaskedConv2d", mask_type, 2, 3, 3, weight, bias, x).value
        _expect_masked_layer(report, mask_type, 2, 3, 3, bias=0.0)


@check(points=3, function="MaskedConv2d")
def test_mask_applied_in_forward(student):
    """forward convolves with weight * mask even after the weights change (5x5 mask A, 1 -> 4 channels)"""
    weight, bias, x = pixelcnn.impulses(1, 4, 5, bias=0.5)
    report = student.probe("masked_layer", "MaskedConv2d", "A", 1, 4, 5, weight, bias, x).value
    _expect_masked_layer(report, "A", 1, 4, 5, bias=0.5)


PIXELS = [(0, 3), (6, 6), (14, 27), (27, 0)]
WHERE = {"left": "to its left", "above": "above it"}


@check(points=4, function="PixelCNN")
def test_pixelcnn_is_causal(student):
    ("output pixel (i, j) does not depend on input pixels at or after (i, j) "
     "(PixelCNN(channels=4, blocks=1), random input)")
    images, watch = pixelcnn.causality_inputs(PIXELS, seed=3)
    name = "PixelCNN(channels=4, blocks=1)"
    report = student.probe("causality", "PixelCNN", 4, 1, images, watch, seed=3).value
    if report["outputs"] is None:
        fail(f"{name} returned {report['shape']} for a (B, 1, 28, 28) input; expected (B, 1, 28, 28) logits, one per "
             "pixel (end with a 1x1 masked convolution to 1 channel, no sigmoid).")
    out = report["outputs"].double()
    for (b, i, j), grad in zip(watch, report["grads"]):
        moved = {v: float((out[b + n, 0, i, j] - out[b, 0, i, j]).abs()) for n, v in enumerate(pixelcnn.VARIANTS)}
        later = grad.abs().flatten()[i * SIDE + j + 1:] > 1e-9
        if moved["rest of the row"] > 1e-6 or moved["rows below"] > 1e-6 or later.any():
            fail(f"{name}'s logit for pixel ({i}, {j}) changes with later pixels (after it in raster order): every "
                 "convolution must be a MaskedConv2d whose mask is applied in forward (a plain nn.Conv2d, or a mask "
                 "built but not applied, lets the future in).")
        if moved["itself"] > 1e-6 or grad[i, j].abs() > 1e-9:
            fail(f"{name}'s logit for pixel ({i}, {j}) changes with the input pixel ({i}, {j}) itself: the first layer "
                 "must use mask A (it hides the centre) and the later ones mask B; likely bug: A and B swapped, or "
                 "mask A includes the centre.")
        for where, (r, c) in (("left", (i, j - 1)), ("above", (i - 1, j))):
            if r >= 0 and c >= 0 and moved[where] <= 1e-6:
                fail(f"{name}'s logit for pixel ({i}, {j}) ignores the pixel {WHERE[where]}, ({r}, {c}): "
                     "the masks hide too much (mask A keeps the rows above and the pixels left of the centre).")


def _expect_unit_logits(summary, name, channels, blocks):
    """Under ``pixelcnn.unit_parameters`` the logits are channels * (1 + blocks) at every pixel."""
    if "logits" not in summary:
        fail(f"{name}'s convolutions, in order, have weight and bias shapes {summary.get('conv_shapes')}: the notebook "
             "lists them (7x7 A, then per block 3x3 B and 1x1 B, then 1x1 B twice), each with a bias.")
    logits, want = summary["logits"].double(), channels * (1 + blocks)
    if torch.allclose(logits, torch.full_like(logits, want), atol=1e-4):
        return
    said = {float(channels): "likely bug: the residual connection is missing: each block computes h = h + body(h)",
            1 / (1 + math.exp(-want)): "likely bug: a sigmoid was applied to the logits: return the last convolution's "
                                       "output"}
    found = next((s for v, s in said.items() if torch.allclose(logits, torch.full_like(logits, v), atol=1e-4)), "")
    fail(f"with every spatial weight 0, the first layer's bias 1, each block's last bias 1 and a head that passes and "
         f"sums the channels, {name} gives logits {logits.flatten()[0].item():.4g} (first pixel); expected "
         f"{channels} x (1 + {blocks}) = {want}: " + (found or "h = input(x); h = h + body(h) for each block; return "
                                                     "output(h)") + ".")


@check(points=1, function="PixelCNN")
def test_pixelcnn_default_size(student):
    """PixelCNN() maps (N, 1, 28, 28) to (N, 1, 28, 28) logits with 171,777 parameters"""
    summary = student.probe("pixelcnn_summary", "PixelCNN", params=pixelcnn.unit_parameters(64, 4)).value
    if summary["is_module"] and summary["output_error"]:
        fail(f"PixelCNN()'s forward failed on (2, 1, 28, 28) zeros: {summary['output_error']}.")
    expect_module(summary, "PixelCNN()", output_shape=(2, 1, 28, 28))
    if summary["parameters"] != 171_777:
        fail(f"PixelCNN() has {summary['parameters']:,} parameters; expected 171,777 (channels=64, blocks=4): "
             "check each layer's sizes, that every convolution has a bias, and that no layer is missing or "
             "repeated.")
    _expect_unit_logits(summary, "PixelCNN()", 64, 4)


LAYERS_3_1 = ["MaskedConv2d(A, 1->3, 7x7, padding=3)", "ReLU()", "MaskedConv2d(B, 3->3, 3x3, padding=1)", "ReLU()",
              "MaskedConv2d(B, 3->3, 1x1, padding=0)", "ReLU()", "MaskedConv2d(B, 3->3, 1x1, padding=0)", "ReLU()",
              "MaskedConv2d(B, 3->1, 1x1, padding=0)"]


@check(points=2, function="PixelCNN")
def test_pixelcnn_layers_small(student):
    ("PixelCNN(channels=3, blocks=1) has the specified layers in order: "
     "7x7 A, ReLU, 3x3 B, ReLU, 1x1 B, ReLU, 1x1 B, ReLU, 1x1 B")
    summary = student.probe("pixelcnn_summary", "PixelCNN", 3, 1, params=pixelcnn.unit_parameters(3, 1)).value
    if summary["is_module"] and summary["output_error"]:
        fail(f"PixelCNN(3, 1)'s forward failed on (2, 1, 28, 28) zeros: {summary['output_error']}.")
    expect_module(summary, "PixelCNN(3, 1)", layers=LAYERS_3_1, layers_hint=(
        "a 7x7 mask-A layer, then each block ReLU, 3x3 B, ReLU, 1x1 B, then ReLU, 1x1 B, ReLU, 1x1 B to one channel "
        "(every convolution a MaskedConv2d, the 1x1 ones too)"))
    _expect_unit_logits(summary, "PixelCNN(3, 1)", 3, 1)


# PixelCNN(2, 3) under unit parameters with biases (-3, 2, 3, 1): the features h go -3, -1, 2, 3 and the head sums
# ReLU(h) over 2 channels. Hand-computed logits of the specified network and of the usual miswirings:
SIGNED = {"correct": 6.0,  # 2 * 3
          "a ReLU was applied after each residual sum (h = relu(h + body(h))): the block adds body(h) to h, and "
          "only the body starts with a ReLU": 8.0,  # h: -3, relu(-1) = 0, relu(0 + 3) = 3, relu(3 + 1) = 4
          "the residual connection is missing: each block computes h = h + body(h)": 2.0,  # h = the last body's 1
          "a sigmoid was applied to the logits: return the last convolution's output": 1 / (1 + math.exp(-6))}


@check(points=1, function="PixelCNN")
def test_pixelcnn_residual_sum(student):
    ("each block adds its body to h, with no ReLU after the sum: PixelCNN(2, 3) with negative features "
     "(zero spatial weights, biases -3, 2, 3, 1) gives logits 6")
    params = pixelcnn.unit_parameters(2, 3, biases=(-3.0, 2.0, 3.0, 1.0))
    summary = student.probe("pixelcnn_summary", "PixelCNN", 2, 3, params=params).value
    if summary["is_module"] and summary["output_error"]:
        fail(f"PixelCNN(2, 3)'s forward failed on (2, 1, 28, 28) zeros: {summary['output_error']}.")
    expect_module(summary, "PixelCNN(2, 3)", output_shape=(2, 1, 28, 28))
    if "logits" not in summary:
        fail(f"PixelCNN(2, 3)'s convolutions, in order, have weight and bias shapes {summary.get('conv_shapes')}: "
             "the notebook's table lists them (7x7 A, then per block 3x3 B and 1x1 B, then 1x1 B twice), each with a "
             "bias.")
    logits = summary["logits"].double()
    candidates = {name: torch.full_like(logits, value) for name, value in SIGNED.items()}
    expect_match(logits, candidates.pop("correct"), candidates, "PixelCNN(2, 3)'s logits with features -3, -1, 2, 3",
                 "h = input(x); h = h + body(h) for each block; return output(h)", atol=1e-4, rtol=1e-4)


def _nll_inputs(logits, x):
    return lambda: ([torch.tensor(logits), torch.tensor(x)], {})


def _zero_logits():
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.3), generator=torch.Generator().manual_seed(4))
    return [torch.zeros(3, 1, 28, 28), x], {}


def _given(n, p, seed):
    return torch.bernoulli(torch.full((n, 1, 28, 28), p), generator=torch.Generator().manual_seed(seed))


NLL_WHY = "float32 BCE summed over at most 2,352 pixels: stable formulations agree to ~1e-6 relative."
SAMPLE_WHY = "every logit is +-60, so each Bernoulli draw is 0 or 1 whatever the generator: the images are exact."
PUBLIC_CASES = [
    ReferenceCase("public_nll_zero_logits", "pixelcnn_nll", _zero_logits, atol=1e-5, rtol=1e-4, why=NLL_WHY,
                  mistakes="nll_mistakes"),
    ReferenceCase("public_nll_by_hand", "pixelcnn_nll", _nll_inputs(
        [[[[2.0, -1.0], [0.5, 0.0]]], [[[-3.0, 1.5], [4.0, -0.5]]]],
        [[[[1.0, 0.0], [0.0, 1.0]]], [[[1.0, 1.0], [1.0, 0.0]]]]),
        atol=1e-5, rtol=1e-4, why=NLL_WHY, mistakes="nll_mistakes"),
    ReferenceCase("public_nll_large_logits", "pixelcnn_nll", _nll_inputs(
        [[[[1000.0, -1000.0], [50.0, -50.0]]], [[[-300.0, 700.0], [-60.0, 90.0]]]],
        [[[[1.0, 0.0], [0.0, 1.0]]], [[[0.0, 1.0], [1.0, 1.0]]]]),
        atol=1e-5, rtol=1e-4, why=NLL_WHY, mistakes="nll_mistakes"),
    ReferenceCase("public_sample_raster", "sample", lambda: ([ModelSpec("raster_oracle", seed=6), 20, 0], {}),
                  atol=0.0, rtol=0.0, why=SAMPLE_WHY, mistakes="sampling_mistakes"),
    ReferenceCase("public_sample_completion", "sample", lambda: ([ModelSpec("raster_oracle", seed=8), 16, 2],
                  {"given": _given(16, 0.3, 7), "start": 200}), atol=0.0, rtol=0.0, why=SAMPLE_WHY,
                  mistakes="sampling_mistakes"),
]


@check(points=2, function="pixelcnn_nll")
def test_nll_zero_logits(student, reference):
    """with logits 0 it is 784 log 2 nats per image, whatever the images"""
    case = reference.case("public_nll_zero_logits")  # 784 log 2 = 543.43: BCE(0, x) = log 2 for every pixel
    expect_case(student.pixelcnn_nll(*case.args).value, case, "pixelcnn_nll", pixelcnn.NLL_FORMULA, scalar=True)


@check(points=2, function="pixelcnn_nll")
def test_nll_by_hand(student, reference):
    """sums the BCE over the pixels of each image and averages over the images (2 images of 2 x 2)"""
    case = reference.case("public_nll_by_hand")
    expect_case(student.pixelcnn_nll(*case.args).value, case, "pixelcnn_nll", pixelcnn.NLL_FORMULA, scalar=True)


@check(points=2, function="pixelcnn_nll")
def test_nll_stable_for_large_logits(student, reference):
    """stays finite and right for logits of +-50 to +-1000"""
    case = reference.case("public_nll_large_logits")
    expect_case(student.pixelcnn_nll(*case.args).value, case, "pixelcnn_nll", pixelcnn.NLL_FORMULA, scalar=True)


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


def _expect_sampling(report, case):
    """A ``record_sampling`` report on the case's oracle: the recorded forwards, then the images: the stored
    solution's, or a stored mistake's (named), or the first pixel that differs."""
    (_, n, _), given, start = case.args, case.kwargs.get("given"), case.kwargs.get("start", 0)
    if report["type"] != "Tensor" or report["shape"] != (n, 1, 28, 28):
        fail(f"sample(model, {n}, ...) returned {report.get('shape', report['type'])}; "
             f"expected a tensor ({n}, 1, 28, 28).")
    todo = 784 - start
    if report["calls"] == 1:
        fail(f"sample called the model once for all {todo} pixels: each pixel depends on the ones before it, so draw "
             "them one at a time, one forward per pixel, writing each into the image before the next forward.")
    if report["calls"] != todo:
        fail(f"sample called the model {report['calls']} times to draw {todo} pixels; expected {todo}: one forward per "
             "pixel, in raster order (no extra forward before or after the loop).")
    if any(report["grad_enabled"]) or report["requires_grad"]:
        fail("sample ran the model with gradients enabled: wrap the loop in torch.no_grad() (sampling needs no "
             "gradients, and 784 graphs cost memory and time).")
    images = report["images"]
    if not bool(((images == 0) | (images == 1)).all()):
        fail("sample returned values other than 0 and 1: draw each pixel with torch.bernoulli(torch.sigmoid(logit)), "
             "not the probability itself.")
    if given is not None and not torch.equal(images.reshape(n, -1)[:, :start], given.reshape(n, -1)[:, :start]):
        fail("sample changed the given pixels before start: copy given's first `start` pixels (raster order) into "
             "the image and draw only pixels start, ..., 783.")
    if torch.equal(images, case.output.float().cpu()):
        return
    mistake = reproduced_mistake(images, case.mistakes, atol=0.0, rtol=0.0)
    figure = image_figure(images, case.output.float().cpu())  # the image that differs most, and where
    if mistake:
        fail(f"sample's images are those of a sampler that {mistake}.", figure)
    b, k = (int(v) for v in torch.nonzero(images.reshape(n, -1) != case.output.reshape(n, -1))[0])
    fail(f"pixel {k} (row {k // 28}, column {k % 28}) of image {b} differs from a raster sampler's: draw pixel (i, j) "
         "from the logit at (i, j) of one forward made under torch.no_grad() on the image holding pixels 0..k-1 and "
         "zeros after, then write it in.", figure)


@check(points=2, function="sample")
def test_sample_raster_order(student, reference):
    ("draws pixel k from the k-th forward, in raster order, under no_grad, each forward seeing the pixels "
     "drawn before")
    case = reference.case("public_sample_raster")
    _expect_sampling(student.probe("record_sampling", "sample", *case.args, **case.kwargs).value, case)


CONDITIONALS = ("logit(i, j) = a[j % 2] + 2 x(i - 1, j + 1) - 1.5 x(i, j - 1) with a = (-1, 0.5): each pixel's "
                "conditional depends on its column and on two pixels before it")
DRAW_HINT = ("draw pixel (i, j) with torch.bernoulli(torch.sigmoid(logit)), the logit at (i, j) itself (not scaled, "
             "not rounded) of a forward on the image holding the pixels drawn before it in raster order")


@check(points=2, function="sample")
def test_sample_conditional_distribution(student):
    ("each pixel follows Bernoulli(sigmoid(logit)) given the pixels drawn before it: 32 images (25,088 draws) "
     "on a model with known conditionals pass a goodness-of-fit test (false-failure rate 1e-4); a seed repeats "
     "its images, another seed gives others")
    spec, n = ModelSpec("context_logits"), 32
    draws = [student.sample(spec, n, seed).value for seed in (1, 1, 2)]
    for images in draws:
        if not isinstance(images, torch.Tensor) or tuple(images.shape) != (n, 1, SIDE, SIDE):
            fail(f"sample(model, {n}, seed) returned {getattr(images, 'shape', type(images).__name__)}; expected "
                 f"({n}, 1, 28, 28).")
        if not bool(((images == 0) | (images == 1)).all()):
            fail("sample returned values other than 0 and 1: draw each pixel with torch.bernoulli(torch.sigmoid("
                 "logit)), not the probability itself.")
    likelier, probs = pixelcnn.conditional_draws(pixelcnn.SUPPORT.build_model(spec), draws[0])
    if bool((likelier == 1).all()):
        fail(f"every one of the {likelier.numel()} pixels took the value its conditional makes likelier: likely bug: "
             "rounding the probability (p > 0.5) instead of drawing: draw with torch.bernoulli(torch.sigmoid(logit)).")
    expect_categorical(likelier, probs, f"the pixels of sample(model, {n}, 1) on a model with {CONDITIONALS} "
                       "(category 1: the pixel took the value its conditional makes likelier)", DRAW_HINT)
    if not torch.equal(draws[0], draws[1]):
        fail("two calls with the same seed gave different images: draw with torch.Generator().manual_seed(seed) "
             "passed to torch.bernoulli (generator=...), not the global random state.")
    if torch.equal(draws[0], draws[2]):
        fail("two different seeds gave the same images: seed the generator with the seed argument.")


@check(points=1, function="sample")
def test_sample_completes_from_start(student, reference):
    ("with given images and start=200, keeps pixels 0..199 and draws pixels 200..783, one forward each, "
     "in raster order")
    case = reference.case("public_sample_completion")
    _expect_sampling(student.probe("record_sampling", "sample", *case.args, **case.kwargs).value, case)
