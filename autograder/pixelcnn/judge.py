"""The PixelCNN assignment's judge (grader only, never shipped): the correct masks, layers, logits, NLLs and
images, the values of the usual mistakes, and the verdicts on what the probes recorded.

Nothing here trusts a verdict from the student's process: the masked layer's output is compared with a
convolution the grader computes from its own weight, bias and input; causality is read from the logits
of images the grader flipped (the recorded gradients can only add failures); the layers come with logits
under the grader's parameters, computed here for the specified network; sampling is judged from the images
drawn on ``raster_oracle``, which this module samples itself, correctly and in the usual wrong ways.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from vizgen.author import ModelSpec, expect_categorical, expect_match, expect_module, fail, reproduced_mistake
from vizgen.author.support import support_module

probes = support_module(Path(__file__).with_name("probes.py"))
SIDE, PIXELS = probes.SIDE, probes.PIXELS
CHANGED = 1e-6  # a logit moved by more than this when an input pixel flipped (float32 logits of size ~0.1-1)


# MaskedConv2d


def expected_mask(mask_type: str, out_channels: int, in_channels: int, k: int) -> torch.Tensor:
    """The mask ``(out, in, k, k)`` of van den Oord et al. 2016 for one colour channel, from the raster index
    of each kernel position against the centre's."""
    position = torch.arange(k * k).view(k, k)
    centre = (k // 2) * k + k // 2
    keep = position < centre if mask_type == "A" else position <= centre  # (k, k) bool
    return keep.float().expand(out_channels, in_channels, k, k).clone()


def layer_candidates(mask_type: str, weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> dict:
    """The masked layer's correct output on (weight, bias, x), then the outputs of the usual mistakes."""
    out_channels, in_channels, k, _ = weight.shape
    mask = expected_mask(mask_type, out_channels, in_channels, k)
    other = expected_mask("B" if mask_type == "A" else "A", out_channels, in_channels, k)
    conv = lambda w, b: F.conv2d(x.double(), w.double(), None if b is None else b.double(), padding=k // 2)  # noqa: E731
    return {
        "correct": conv(weight * mask, bias),
        "the mask is not applied in forward (it was built, or applied once in __init__, but forward convolves with "
        "the unmasked weights once they change): convolve with self.weight * self.mask in forward": conv(weight, bias),
        "the bias is left out: pass self.bias to the convolution": conv(weight * mask, None),
        f"forward uses mask {'B' if mask_type == 'A' else 'A'}'s pattern (A and B are swapped, or the mask includes "
        "the centre)": conv(weight * other, bias),
    }


def mask_hint(mask: torch.Tensor, mask_type: str, k: int) -> str:
    """What is wrong with a mask that is not ``expected_mask``'s."""
    want = expected_mask(mask_type, *mask.shape[:2], k)
    other = expected_mask("B" if mask_type == "A" else "A", *mask.shape[:2], k)
    c = k // 2
    if torch.equal(mask, other) and mask_type == "A":
        return ("it keeps the centre, as mask B does: mask A must hide the centre pixel too (likely bug: the mask "
                "includes the centre, or A and B are swapped)")
    if torch.equal(mask, other):
        return "it hides the centre, as mask A does: mask B keeps the centre pixel (likely bug: A and B are swapped)"
    if bool((mask[:, :, c, c] != want[:, :, c, c]).any()):
        return "the centre is wrong: mask A hides the centre pixel (the mask includes the centre here), mask B keeps it"
    if bool((mask[:, :, c + 1:] != 0).any()):
        return "rows below the centre must be hidden (they come later in raster order)"
    if bool((mask[:, :, :c] != 1).any()):
        return "rows above the centre must be kept entirely (they come earlier in raster order)"
    return "in the centre row keep the pixels left of the centre and hide those right of it"


def expect_masked_layer(report: dict, mask_type: str, in_channels: int, out_channels: int, k: int,
                        weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> None:
    """A ``masked_layer`` report on the grader's (weight, bias, x): an nn.Conv2d subclass with the right mask as
    a buffer, whose forward equals the convolution with weight * mask computed here."""
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
    want = expected_mask(mask_type, out_channels, in_channels, k)
    try:
        mask = report["mask"].float().cpu().expand_as(want)
    except RuntimeError:
        fail(f"{name}'s mask has shape {tuple(report['mask'].shape)}; expected the weight's shape {tuple(want.shape)}.")
    if not torch.equal(mask, want):
        rows = "\n".join(" ".join(str(int(v)) for v in row) for row in mask[0, 0])
        fail(f"{name}'s mask (first output and input channel):\n{rows}\nis wrong: {mask_hint(mask, mask_type, k)}.")
    if "output" not in report:
        fail(f"{name}'s weight has shape {report['weight_shape']}; expected {tuple(weight.shape)}: pass in_channels, "
             "out_channels and kernel_size to nn.Conv2d in that order.")
    candidates = layer_candidates(mask_type, weight, bias, x)
    correct = candidates.pop("correct")
    if tuple(report["output"].shape) != tuple(correct.shape):
        fail(f"{name} maps a {tuple(x.shape)} input to {tuple(report['output'].shape)}; expected "
             f"{tuple(correct.shape)}: pass **conv_kwargs (padding) on to nn.Conv2d.")
    expect_match(report["output"], correct, candidates, f"{name}'s output",
                 "F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding, ...)",
                 atol=1e-4, rtol=1e-4)


# PixelCNN


def expect_causal(report: dict, watch: list, name: str) -> None:
    """A ``causality`` report on ``probes.causality_inputs``: flipping pixel (i, j) or any later one leaves logit
    (i, j) unchanged and flipping the pixel left of it or above it changes it; the recorded gradients, zero at
    and after (i, j), can only add a failure."""
    if report["outputs"] is None:
        fail(f"{name} returned {report['shape']} for a (B, 1, 28, 28) input; expected (B, 1, 28, 28) logits, "
             "one per pixel (end with a 1x1 masked convolution to 1 channel, no sigmoid).")
    out, order = report["outputs"].double(), torch.arange(PIXELS).view(SIDE, SIDE)
    for (b, i, j), grad in zip(watch, report["grads"]):
        moved = {v: float((out[b + n, 0, i, j] - out[b, 0, i, j]).abs()) for n, v in enumerate(probes.VARIANTS)}
        later = (grad.abs() > 1e-9) & (order > i * SIDE + j)
        row, below = moved["rest of the row"] > CHANGED, moved["rows below"] > CHANGED
        if row or below or later.any():
            said = ("pixels after it in its row" if row else "the rows below it" if below
                    else "the later pixel ({}, {})".format(*(int(v) for v in torch.nonzero(later)[0])))
            fail(f"{name}'s logit for pixel ({i}, {j}) changes with {said}: every convolution must be a MaskedConv2d "
                 "whose mask is applied in forward (a plain nn.Conv2d, or a mask built but not applied, lets the "
                 "future in).")
        if moved["itself"] > CHANGED or grad[i, j].abs() > 1e-9:
            fail(f"{name}'s logit for pixel ({i}, {j}) changes with the input pixel ({i}, {j}) itself: the first "
                 "layer must use mask A (it hides the centre) and the later ones mask B; likely bug: A and B "
                 "swapped, or mask A includes the centre.")
        for where, (r, c) in (("left", (i, j - 1)), ("above", (i - 1, j))):
            if r >= 0 and c >= 0 and moved[where] <= CHANGED:
                fail(f"{name}'s logit for pixel ({i}, {j}) ignores the pixel "
                     f"{'to its left' if where == 'left' else 'above it'}"
                     f", ({r}, {c}): the masks hide too much (mask A keeps the rows above and the pixels left of the "
                     "centre).")


def pixelcnn_layers(channels: int, blocks: int) -> list[str]:
    """The leaf layers of ``PixelCNN(channels, blocks)``, in order, as ``probes.describe`` writes them."""
    c = channels
    block = ["ReLU()", f"MaskedConv2d(B, {c}->{c}, 3x3, padding=1)", "ReLU()",
             f"MaskedConv2d(B, {c}->{c}, 1x1, padding=0)"]
    return [f"MaskedConv2d(A, 1->{c}, 7x7, padding=3)", *block * blocks, "ReLU()",
            f"MaskedConv2d(B, {c}->{c}, 1x1, padding=0)", "ReLU()", f"MaskedConv2d(B, {c}->1, 1x1, padding=0)"]


LAYERS_HINT = ("a 7x7 mask-A layer, then each block ReLU, 3x3 B, ReLU, 1x1 B, then ReLU, 1x1 B, ReLU, 1x1 B to one "
               "channel (every convolution a MaskedConv2d, the 1x1 ones too)")


def random_parameters(channels: int, blocks: int, seed: int) -> list:
    """Seeded (weight, bias) per convolution of ``PixelCNN(channels, blocks)``, zero where the correct masks
    hide (so a MaskedConv2d bug does not show here: only how PixelCNN wires its layers does)."""
    generator, c = torch.Generator().manual_seed(seed), channels
    shapes = [("A", c, 1, 7)] + [("B", c, c, 3), ("B", c, c, 1)] * blocks + [("B", c, c, 1), ("B", 1, c, 1)]
    return [(torch.randn(o, i, k, k, generator=generator) * expected_mask(t, o, i, k) / (i * k) ** 0.5,
             torch.randn(o, generator=generator) * 0.1) for t, o, i, k in shapes]


def logit_candidates(params: list, batch: int = 2) -> dict:
    """The logits of the specified network (and of its usual miswirings) under ``params`` on zero images."""
    x = torch.zeros(batch, 1, SIDE, SIDE, dtype=torch.float64)
    convs = [(w.double(), b.double(), w.shape[-1] // 2) for w, b in params]
    conv = lambda h, n: F.conv2d(h, convs[n][0], convs[n][1], padding=convs[n][2])  # noqa: E731
    body = lambda h, n: conv(F.relu(conv(F.relu(h), n)), n + 1)  # noqa: E731
    head = lambda h: conv(F.relu(conv(F.relu(h), len(convs) - 2)), len(convs) - 1)  # noqa: E731
    blocks = range(1, len(convs) - 2, 2)
    h = plain = clipped = conv(x, 0)
    for n in blocks:
        h, plain, clipped = h + body(h, n), body(plain, n), F.relu(clipped + body(clipped, n))
    return {"correct": head(h), "the residual connection is missing: each block computes h = h + body(h)": head(plain),
            "a ReLU was applied after each residual sum (h = relu(h + body(h))): the block adds body(h) to h, and only "
            "the body starts with a ReLU": head(clipped),
            "a sigmoid was applied to the logits: forward returns the last convolution's output":
                torch.sigmoid(head(h))}


def expect_pixelcnn(summary: dict, name: str, layers: list | None, params: list, parameters: int | None = None) -> None:
    """A ``pixelcnn_summary`` with ``params``: an nn.Module with these layers (and parameter count) whose logits
    under the grader's parameters are those of the specified network, computed here."""
    if summary["is_module"] and summary["output_error"]:
        fail(f"{name}'s forward failed on (2, 1, 28, 28) zeros: {summary['output_error']}.")
    expect_module(summary, name, output_shape=(2, 1, SIDE, SIDE), layers=layers, layers_hint=LAYERS_HINT)
    if parameters is not None and summary["parameters"] != parameters:
        fail(f"{name} has {summary['parameters']:,} parameters; expected {parameters:,}: check each layer's sizes, "
             "that every convolution has a bias, and that no layer is missing or repeated.")
    if "logits" not in summary:
        wanted = [(tuple(w.shape), tuple(b.shape)) for w, b in params]
        fail(f"{name}'s convolutions, in order, have weight and bias shapes {summary.get('conv_shapes')}; expected "
             f"{wanted}: {LAYERS_HINT}.")
    candidates = logit_candidates(params)
    expect_match(summary["logits"], candidates.pop("correct"), candidates, f"{name}'s logits under the grader's "
                 "parameters", "h = input(x); h = h + body(h) for each block; return output(h)", atol=1e-4, rtol=1e-4)


# pixelcnn_nll


def nll_mistakes(logits: torch.Tensor, x: torch.Tensor) -> dict[str, float]:
    """The correct NLL (nats per image) first, then the values of the usual mistakes on the same inputs."""
    logits, x = logits.double(), x.double()
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")  # (N, ...)
    n = len(x)
    correct = per_pixel.sum().item() / n
    return {
        "correct": correct,
        "a mean over pixels instead of a sum over the pixels of each image (divide by the number of images only)":
            per_pixel.mean().item(),
        "a sum over the batch too (divide by the number of images)": per_pixel.sum().item(),
        "bits instead of nats (do not divide by log 2 here; the notebook converts to bits per dimension)":
            correct / math.log(2),
        "the logits were passed through a sigmoid before the loss on logits (probabilities passed as logits)":
            F.binary_cross_entropy_with_logits(torch.sigmoid(logits), x, reduction="sum").item() / n,
        "logits and x were swapped (the first argument is the logits, the second the binary targets)":
            F.binary_cross_entropy_with_logits(x, torch.sigmoid(logits), reduction="sum").item() / n,
        "the sign is wrong (the NLL is the negative log-likelihood: positive)": -correct,
    }


# sample


def _draw(model: ModelSpec, n: int, given: torch.Tensor | None, start: int, columns: bool = False, crop: bool = True,
          grad: bool = False, write: bool = True, once: bool = False, whole: bool = False) -> torch.Tensor:
    """Sample the oracle ``model`` as the solution does, or as a usual mistake does (down the columns, without
    the crop, with gradients on, never writing the drawn pixels back, one forward, copying all of given)."""
    oracle = probes.SUPPORT.build_model(model)
    x = torch.zeros(n, 1, SIDE, SIDE)
    if given is not None:
        kept = PIXELS if whole else start
        x.view(n, -1)[:, :kept] = given.reshape(n, -1)[:, :kept].float().cpu()
    first, threads = x.clone(), torch.get_num_threads()
    todo = sorted(range(start, PIXELS), key=lambda k: (k % SIDE, k // SIDE) if columns else k)
    try:
        torch.set_num_threads(1)  # 784 tiny forwards: threads only add overhead
        with torch.set_grad_enabled(grad):
            if once:
                x.view(n, -1)[:, start:] = (oracle(x).reshape(n, -1)[:, start:] > 0).float()
                return x
            for k in todo:
                i, j = divmod(k, SIDE)
                seen = x if write else first
                x[:, 0, i, j] = (oracle(seen[:, :, : i + 1] if crop else seen)[:, 0, i, j] > 0).float()
    finally:
        torch.set_num_threads(threads)
    return x


def sampling_mistakes(model: ModelSpec, n: int, seed: int, given: torch.Tensor | None = None, start: int = 0) -> dict:
    """The images of ``sample(model, n, seed, given, start)`` on the oracle, then those of the usual mistakes."""
    column = ("drew the pixels down the columns (column-major): PixelCNN's masks follow raster order, row by row, "
              "left to right (for i in range(28): for j in range(28))")
    out = {
        "correct": _draw(model, n, given, start),
        column: _draw(model, n, given, start, columns=True, crop=False),
        column + ", each forward on the rows so far": _draw(model, n, given, start, columns=True),
        "ran the model with gradients enabled: wrap the loop in torch.no_grad()":
            _draw(model, n, given, start, grad=True),
        "drew every pixel from one forward: run the model once per pixel, on the image holding the pixels drawn so far":
            _draw(model, n, given, start, once=True),
        "never wrote the drawn pixels into the image the model sees: set x[:, 0, i, j] to the draw before the next "
        "forward": _draw(model, n, given, start, write=False),
    }
    if given is not None:
        whole = ("copied all of given, so the model saw given's pixels after the one it drew: copy only given's "
                 "first `start` pixels and start from zeros")
        out[whole] = _draw(model, n, given, start, whole=True, crop=False)
        out[whole + " (the rows below were cropped, not the pixels after it in its row)"] = _draw(
            model, n, given, start, whole=True)
    return {name: images.bool() for name, images in out.items()}  # binary images: stored eight times smaller


def expect_sampling(report: dict, model: ModelSpec, n: int, seed: int, given: torch.Tensor | None = None,
                    start: int = 0) -> None:
    """A ``record_sampling`` report of ``sample(model, n, seed, given=given, start=start)`` on the oracle: binary
    (n, 1, 28, 28) images, one forward per pixel drawn (as recorded), no gradients, given's pixels before
    ``start`` kept, and exactly the images drawn here; a wrong image is named by the mistake it reproduces
    (``sampling_mistakes``), else by the first pixel that differs."""
    if report["type"] != "Tensor":
        fail(f"sample returned a {report['type']}; expected a tensor (n, 1, 28, 28).")
    if report["shape"] != (n, 1, SIDE, SIDE):
        fail(f"sample(model, {n}, ...) returned shape {report['shape']}; expected ({n}, 1, 28, 28).")
    todo, calls = PIXELS - start, report["calls"]
    if calls == 1:
        fail(f"sample called the model once for all {todo} pixels: each pixel depends on the ones before it, so draw "
             "them one at a time, one forward per pixel, writing each into the image before the next forward.")
    if calls != todo:
        fail(f"sample called the model {calls} times to draw {todo} pixels; expected {todo}: one forward per pixel, in "
             "raster order (no extra forward before or after the loop).")
    if any(report["grad_enabled"]):
        fail("sample ran the model with gradients enabled: wrap the loop in torch.no_grad() (sampling needs no "
             "gradients, and 784 graphs cost memory and time).")
    if report["requires_grad"]:
        fail("sample returned a tensor that requires grad: build the images under torch.no_grad().")
    images = report["images"]
    if not bool(((images == 0) | (images == 1)).all()):
        fail(f"sample returned values other than 0 and 1 (e.g. {images[(images != 0) & (images != 1)][0]:.3g}): "
             "draw each pixel with torch.bernoulli(torch.sigmoid(logit)), not the probability itself.")
    if given is not None and not torch.equal(images.reshape(n, -1)[:, :start], given.reshape(n, -1)[:, :start].float()):
        fail("sample changed the given pixels before start: copy given's first `start` pixels (raster order) into "
             "the image and draw only pixels start, ..., 783.")
    correct = _draw(model, n, given, start)
    if torch.equal(images, correct):
        return
    mistakes = sampling_mistakes(model, n, seed, given, start)
    mistake = reproduced_mistake(images, {k: v for k, v in mistakes.items() if k != "correct"}, atol=0.0, rtol=0.0)
    if mistake:
        fail(f"sample's images are those of a sampler that {mistake}.")
    b, k = (int(v) for v in torch.nonzero(images.reshape(n, -1) != correct.reshape(n, -1))[0])
    fail(f"pixel {k} (row {k // SIDE}, column {k % SIDE}) of image {b} is {int(images.view(n, -1)[b, k])}, but the "
         "logits a raster sampler gets there say otherwise: draw pixel (i, j) from the logit at (i, j) of one forward "
         "made under torch.no_grad() on the image holding pixels 0..k-1 and zeros after, then write it in.")


DRAW_HINT = ("draw pixel (i, j) with torch.bernoulli(torch.sigmoid(logit)), the logit at (i, j) itself (not scaled, "
             "not rounded) of a forward on the image holding the pixels drawn before it in raster order")


def expect_conditionals(draws: list, model: ModelSpec, n: int, start: int = 0, given: torch.Tensor | None = None,
                        law: str = "") -> None:
    """``sample`` on a ``ContextLogits`` model, seeds (a, a, b): binary (n, 1, 28, 28) images that keep given's
    pixels before ``start``, whose pixels from ``start`` on follow the model's conditionals (a goodness-of-fit test
    of every draw against its own conditional, false-failure rate FALSE_FAILURE), seed a repeating its images and
    seed b giving others."""
    for images in draws:
        if not isinstance(images, torch.Tensor) or tuple(images.shape) != (n, 1, SIDE, SIDE):
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            fail(f"sample(model, {n}, seed) returned {shape}; expected ({n}, 1, 28, 28).")
        if not bool(((images == 0) | (images == 1)).all()):
            fail("sample returned values other than 0 and 1: draw each pixel with "
                 "torch.bernoulli(torch.sigmoid(logit)), not the probability itself.")
    images = draws[0].detach().float().cpu()
    if given is not None and not torch.equal(images.reshape(n, -1)[:, :start], given.reshape(n, -1)[:, :start].float()):
        fail("sample changed the given pixels before start: copy given's first `start` pixels (raster order) into the "
             "image and draw only pixels start, ..., 783.")
    likelier, probs = probes.conditional_draws(probes.SUPPORT.build_model(model), images, start)
    if bool((likelier == 1).all()):
        fail(f"every one of the {likelier.numel()} pixels drawn took the value its conditional makes likelier: likely "
             "bug: rounding the probability (p > 0.5) instead of drawing: draw with "
             "torch.bernoulli(torch.sigmoid(logit)).")
    expect_categorical(likelier, probs, f"the pixels {start}..783 of sample(model, {n}, seed) on a model with {law} "
                       "(category 1: the pixel took the value its conditional makes likelier)", DRAW_HINT)
    if not torch.equal(draws[0].detach().cpu(), draws[1].detach().cpu()):
        fail("two calls with the same seed gave different images: draw with torch.Generator().manual_seed(seed) "
             "passed to torch.bernoulli (generator=...), not the global random state.")
    if torch.equal(draws[0].detach().cpu(), draws[2].detach().cpu()):
        fail("two different seeds gave the same images: seed the generator with the seed argument.")
