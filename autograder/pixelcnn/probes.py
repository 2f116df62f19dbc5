"""The PixelCNN assignment's support module: its probes, small models and the named mistakes.

Probes run next to the student's functions (registered by ``SUPPORT`` below) and return plain summaries:

* ``masked_layer``: a student ``MaskedConv2d``'s buffers, mask and one forward pass with weights the
  grader chose after construction (so a mask applied once in ``__init__`` shows);
* ``causality``: the gradient of chosen output pixels of a student ``PixelCNN`` with respect to a
  random input: output (i, j) must not depend on input pixels at or after (i, j) in raster order;
* ``pixelcnn_summary``: the layers (masked convolutions described by their mask type), the
  parameter count and the output shape;
* ``record_sampling``: the student's ``sample`` run on a model that records every input it gets
  and answers each call with its own pattern of confident logits, so the grader can tell from the
  returned images which forward each pixel came from (raster order means pixel k from forward k),
  whether gradients were on, and what the model saw when each pixel was drawn;
* ``sample_draws``: ``sample`` on models whose distribution is known (constant logits; each pixel
  copying the one before it), for the statistics.

``FVSBN`` is the small seeded model of the sampling checks: a fully visible sigmoid belief net,
logits = a strictly lower-triangular linear map of the pixels before (raster order), causal by
construction and cheap for 784 forwards.

Masks (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", ICML, Sec. 3.4 and Fig. 4):
in a k x k kernel with centre (c, c), c = k // 2, mask "A" keeps the rows above the centre and the
pixels left of it in the centre row; mask "B" keeps the centre too. The NLL is the binary
cross-entropy with logits summed over the 784 pixels, averaged over the images (their eq. 1-2).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vizgen.author.probes import module_summary
from vizgen.author.support import Support

SIDE = 28  # images are (N, 1, 28, 28)
PIXELS = SIDE * SIDE
CONFIDENT = 30.0  # |logit| of the recording model's answers: sigmoid(30) rounds to 1 in float32
NLL_FORMULA = ("F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / N: the BCE summed over "
               "every pixel of every image, divided by the number of images")


def expected_mask(mask_type: str, out_channels: int, in_channels: int, k: int) -> torch.Tensor:
    """The mask ``(out, in, k, k)`` of van den Oord et al. 2016 for one colour channel, built from the
    raster index of each kernel position against the centre's."""
    position = torch.arange(k * k).view(k, k)  # raster index of each kernel position
    centre = (k // 2) * k + k // 2
    keep = position < centre if mask_type == "A" else position <= centre  # (k, k) bool
    return keep.float().expand(out_channels, in_channels, k, k).clone()


def masked_layer(cls: Callable, mask_type: str, in_channels: int, out_channels: int, k: int, seed: int = 0) -> dict:
    """Build ``cls(mask_type, in_channels, out_channels, k, padding=k // 2)``; report its type, its buffers
    and mask, then set random weights and bias and run it on a random input: weight, bias, input, output."""
    layer = cls(mask_type, in_channels, out_channels, k, padding=k // 2)
    report = {"is_conv2d": isinstance(layer, nn.Conv2d), "type": type(layer).__name__,
              "buffers": sorted(name for name, _ in layer.named_buffers()),
              "parameters": sorted(name for name, _ in layer.named_parameters())}
    if not report["is_conv2d"]:
        return report
    mask = dict(layer.named_buffers()).get("mask")
    report["mask"] = None if mask is None else mask.detach().clone()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator))  # as after training steps
        if layer.bias is not None:
            layer.bias.copy_(torch.randn(layer.bias.shape, generator=generator))
        x = torch.randn(2, in_channels, 9, 9, generator=generator)  # (2, in, 9, 9)
        report["output"] = layer(x).detach()
    report.update(weight=layer.weight.detach().clone(), x=x,
                  bias=None if layer.bias is None else layer.bias.detach().clone())
    return report


def describe(module: nn.Module) -> str:
    """A layer as text; a masked convolution by its mask type, read from its mask: "MaskedConv2d(A, 1->8, 7x7, padding=3)"."""
    mask = dict(module.named_buffers(recurse=False)).get("mask")
    if isinstance(module, nn.Conv2d) and mask is not None:
        k = module.kernel_size[0]
        centre = mask.expand_as(module.weight)[:, :, k // 2, k // 2]
        kind = "B" if bool((centre != 0).all()) else "A" if bool((centre == 0).all()) else "?"
        return (f"MaskedConv2d({kind}, {module.in_channels}->{module.out_channels}, {k}x{k}, "
                f"padding={module.padding[0]})")
    if isinstance(module, nn.Conv2d):
        return f"{type(module).__name__}({module.in_channels}->{module.out_channels}, {module.kernel_size[0]}x{module.kernel_size[1]}, no mask)"
    return f"{type(module).__name__}()"


def pixelcnn_summary(cls: Callable, *args, batch: int = 2, **kwargs) -> dict:
    """``probes.module_summary`` of ``cls(*args, **kwargs)`` with its layers as ``describe`` writes them
    (masked convolutions by mask type) and its output shape on ``(batch, 1, 28, 28)`` zeros."""
    return module_summary(cls, *args, input_shape=(batch, 1, SIDE, SIDE), describe=describe, **kwargs)


def causality(cls: Callable, channels: int, blocks: int, pixels: list, seed: int = 0) -> dict:
    """Build ``cls(channels=channels, blocks=blocks)`` (seeded, default initialisation), feed one random
    image (a batch of P copies, one per pixel: no layer mixes images) and return, for each output pixel
    (i, j) in ``pixels``, the gradient of that logit with respect to the whole input ``(P, 28, 28)``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(channels=channels, blocks=blocks)
        x = torch.rand(1, 1, SIDE, SIDE).expand(len(pixels), 1, SIDE, SIDE).clone().requires_grad_()  # (P, 1, 28, 28)
    out = model(x)  # (P, 1, 28, 28): the same image P times, one output pixel per copy
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        return {"shape": tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__, "grads": None}
    rows, cols = torch.tensor([i for i, _ in pixels]), torch.tensor([j for _, j in pixels])
    (grad,) = torch.autograd.grad(out[torch.arange(len(pixels)), 0, rows, cols].sum(), x, allow_unused=True)
    grads = torch.zeros(len(pixels), SIDE, SIDE) if grad is None else grad[:, 0]  # (P, 28, 28): copy p's own pixel
    return {"shape": (1, 1, SIDE, SIDE), "grads": grads.detach()}


class FVSBN(nn.Module):
    """logits = W x + b over the flattened image, W strictly lower triangular (raster order): pixel k
    sees only the pixels before it. Accepts the first h rows ``(N, 1, h, 28)`` too (what a sampler
    that crops the finished rows gives) and answers for those rows."""

    def __init__(self, num_classes: int = 10, scale: float = 0.05):  # num_classes: ModelSpec's constructor slot
        super().__init__()
        self.weight = nn.Parameter(torch.randn(PIXELS, PIXELS).tril(-1) * scale)  # (784, 784) strictly lower
        self.bias = nn.Parameter(torch.randn(PIXELS) * 0.5)  # (784,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        m = h * w
        flat = x.reshape(n, m)  # (N, h * 28)
        logits = flat @ self.weight[:m, :m].T + self.bias[:m]  # (N, h * 28)
        return logits.view(n, 1, h, w)


class _Recorder(nn.Module):
    """Answers call t with pattern[t] as logits (+-CONFIDENT), records whether gradients were on, the
    input (the rows it got, unfilled rows as -1) and its shape."""

    def __init__(self, pattern: torch.Tensor):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))  # so next(model.parameters()) finds the device
        self.pattern = pattern  # (T, N, 784) bool
        self.inputs: list[torch.Tensor] = []
        self.grad_enabled: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        seen = torch.full((n, PIXELS), -1.0)
        seen[:, : h * w] = x.detach().reshape(n, -1).float()
        self.inputs.append(seen)
        self.grad_enabled.append(torch.is_grad_enabled())
        t = min(len(self.inputs) - 1, len(self.pattern) - 1)
        answer = (self.pattern[t].float() * 2 - 1) * CONFIDENT  # (N, 784)
        return answer.view(n, 1, SIDE, SIDE)[:, :, :h, :w] + self.anchor * 0


def record_sampling(sample: Callable, n: int, seed: int, start: int = 0, given: torch.Tensor | None = None,
                    pattern_seed: int = 0) -> dict:
    """Run ``sample(model, n, seed[, given=given, start=start])`` on a recording model. Returns the images, the
    forward count, whether any ran with gradients, ``raster`` ``(784,)`` (pixel k matches the confident logits
    of forward k - start in all n images; a wrong forward matches with chance 2^-n), whether all match a
    column-major order, ``source`` (each pixel's first matching forward, -1 none), and per forward t the count
    of pixels before pixel start + t that differ from the final images (``stale``) and of filled ones after it."""
    pattern = torch.rand(PIXELS - start + 1, n, PIXELS, generator=torch.Generator().manual_seed(pattern_seed)) < 0.5
    model = _Recorder(pattern)
    images = sample(model, n, seed) if given is None else sample(model, n, seed, given=given, start=start)
    report = {"type": type(images).__name__, "calls": len(model.inputs), "grad_enabled": any(model.grad_enabled)}
    if not isinstance(images, torch.Tensor):
        return report
    report.update(shape=tuple(images.shape), requires_grad=images.requires_grad, images=images.detach().float().cpu())
    if images.shape != (n, 1, SIDE, SIDE):
        return report
    final = images.detach().float().reshape(n, PIXELS).cpu()  # (n, 784)
    calls = min(len(model.inputs), len(pattern))
    match = (pattern[:calls].float() == final).all(dim=1)  # (calls, 784): forward t explains pixel k in every image
    drawn = torch.arange(start, PIXELS)  # the pixels to draw
    raster = torch.zeros(PIXELS, dtype=torch.bool)  # pixel k explained by forward k - start
    raster[drawn] = match[(drawn - start).clamp(max=calls - 1), drawn] if calls else False
    columns = column_major_source(start)[drawn]  # the forward of each pixel when drawn down the columns
    column_major = calls > 0 and bool(((columns < calls) & match[columns.clamp(0, max(calls - 1, 0)), drawn]).all())
    source = torch.where(match.any(dim=0), match.float().argmax(dim=0), -1) if calls else torch.full((PIXELS,), -1)
    stale, ahead = [], []
    for t, seen in enumerate(model.inputs[: PIXELS - start]):
        k = start + t
        stale.append(int((seen[:, :k] != final[:, :k]).sum()))
        ahead.append(int((seen[:, k + 1:] > 0).sum()))
    report.update(raster=raster, column_major=column_major, source=source, stale=torch.tensor(stale), ahead=torch.tensor(ahead))
    return report


class _Constant(nn.Module):
    """Every pixel's logit is ``logit``, whatever the input."""

    def __init__(self, logit: float):
        super().__init__()
        self.logit = nn.Parameter(torch.tensor(float(logit)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logit.expand(x.shape).clone()


class _CopyPrevious(nn.Module):
    """Pixel k's logit is +-``strength`` as pixel k - 1 is on or off (raster order); pixel 0's is 0. A raster
    sampler therefore draws all-black or all-white images, half and half."""

    def __init__(self, strength: float = 30.0):
        super().__init__()
        self.strength = nn.Parameter(torch.tensor(strength))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        flat = x.reshape(n, h * w)  # (N, h * w)
        logits = (flat * 2 - 1) * self.strength  # (N, h * w): what pixel k says about pixel k + 1
        logits = torch.cat([torch.zeros(n, 1), logits[:, :-1]], dim=1)  # (N, h * w): shifted one pixel on
        return logits.view(n, 1, h, w)


def sample_draws(sample: Callable, model: str, n: int, seeds: tuple, logit: float = 0.0) -> dict:
    """``sample`` on a model with a known distribution ("constant": every pixel Bernoulli(sigmoid(logit));
    "copy_previous": see ``_CopyPrevious``), once per seed: ``images (len(seeds), n, 1, 28, 28)``."""
    net = _Constant(logit) if model == "constant" else _CopyPrevious()
    draws = []
    for seed in seeds:
        images = sample(net, n, seed)
        if not isinstance(images, torch.Tensor) or images.shape != (n, 1, SIDE, SIDE):
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            return {"images": None, "shape": shape}
        draws.append(images.detach().float().cpu())
    return {"images": torch.stack(draws), "shape": (n, 1, SIDE, SIDE)}


def nll_candidates(logits: torch.Tensor, x: torch.Tensor) -> dict[str, float]:
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


PROBES: dict[str, Callable] = {
    "masked_layer": masked_layer,
    "causality": causality,
    "pixelcnn_summary": pixelcnn_summary,
    "record_sampling": record_sampling,
    "sample_draws": sample_draws,
}

SUPPORT = Support(probes=PROBES, models={"fvsbn": FVSBN})


# Judging the probes' reports (grader side); the engine imports this module before vizgen.author.expect.


def _fail(message: str):
    from vizgen.author.expect import fail

    fail(message)


def expect_masked_layer(report: dict, mask_type: str, in_channels: int, out_channels: int, k: int) -> None:
    """A ``masked_layer`` report: an nn.Conv2d subclass with the right mask as a buffer, applied in forward."""
    name = f'MaskedConv2d("{mask_type}", {in_channels}, {out_channels}, {k}, padding={k // 2})'
    if not report["is_conv2d"]:
        _fail(f"{name} is a {report['type']}, not an nn.Conv2d: subclass nn.Conv2d (class MaskedConv2d(nn.Conv2d)) "
              "and call super().__init__(in_channels, out_channels, kernel_size, **conv_kwargs).")
    if "mask" in report["parameters"]:
        _fail(f"{name} holds its mask as a parameter, which the optimizer would change: register it with "
              "self.register_buffer('mask', mask).")
    if report["mask"] is None:
        _fail(f"{name} has no buffer named 'mask' (buffers: {report['buffers'] or 'none'}): build the mask in "
              "__init__ and register it with self.register_buffer('mask', mask).")
    want = expected_mask(mask_type, out_channels, in_channels, k)
    try:
        mask = report["mask"].float().expand_as(want)
    except RuntimeError:
        _fail(f"{name}'s mask has shape {tuple(report['mask'].shape)}; expected the weight's shape {tuple(want.shape)}.")
    if not torch.equal(mask, want):
        other = expected_mask("B" if mask_type == "A" else "A", out_channels, in_channels, k)
        c = k // 2
        if torch.equal(mask, other) and mask_type == "A":
            hint = ("it keeps the centre, as mask B does: mask A must hide the centre pixel too (likely bug: the mask "
                    "includes the centre, or A and B are swapped)")
        elif torch.equal(mask, other):
            hint = "it hides the centre, as mask A does: mask B keeps the centre pixel (likely bug: A and B are swapped)"
        elif bool((mask[:, :, c, c] != want[:, :, c, c]).any()):
            hint = ("the centre is wrong: mask A hides the centre pixel (the mask includes the centre here), "
                    "mask B keeps it")
        elif bool((mask[:, :, c + 1:] != 0).any()):
            hint = "rows below the centre must be hidden (they come later in raster order)"
        elif bool((mask[:, :, :c] != 1).any()):
            hint = "rows above the centre must be kept entirely (they come earlier in raster order)"
        else:
            hint = "in the centre row keep the pixels left of the centre and hide those right of it"
        rows = "\n".join(" ".join(str(int(v)) for v in row) for row in mask[0, 0])
        _fail(f"{name}'s mask (first output and input channel):\n{rows}\nis wrong: {hint}.")
    expected = F.conv2d(report["x"], report["weight"] * want, report["bias"], padding=k // 2)
    if report["output"].shape != expected.shape:
        _fail(f"{name} maps a (2, {in_channels}, 9, 9) input to {tuple(report['output'].shape)}; expected "
              f"{tuple(expected.shape)}: pass **conv_kwargs (padding) on to nn.Conv2d.")
    if not torch.allclose(report["output"], expected, atol=1e-4, rtol=1e-4):
        plain = F.conv2d(report["x"], report["weight"], report["bias"], padding=k // 2)
        if torch.allclose(report["output"], plain, atol=1e-4, rtol=1e-4):
            _fail(f"{name}'s forward used the unmasked weights once they changed (as after an optimizer step): the "
                  "mask was built (or applied once in __init__) but not applied in forward; convolve with "
                  "self.weight * self.mask in forward.")
        _fail(f"{name}'s forward differs from a convolution with weight * mask (largest difference "
              f"{(report['output'] - expected).abs().max():.3g}): return "
              "F.conv2d(x, self.weight * self.mask, self.bias, self.stride, self.padding, ...).")


def expect_causal(report: dict, pixels: list, name: str) -> None:
    """A ``causality`` report: output (i, j) has zero gradient at and after (i, j) in raster order, and
    a non-zero one for the pixel to its left and the one above it (when they exist)."""
    if report["grads"] is None:
        _fail(f"{name} returned {report['shape']} for a (1, 1, 28, 28) input; expected (1, 1, 28, 28) logits, "
              "one per pixel (end with a 1x1 masked convolution to 1 channel, no sigmoid).")
    order = torch.arange(PIXELS).view(SIDE, SIDE)
    for (i, j), grad in zip(pixels, report["grads"]):
        k = i * SIDE + j
        if grad[i, j].abs() > 1e-9:
            _fail(f"{name}'s logit for pixel ({i}, {j}) depends on the input pixel ({i}, {j}) itself: the first "
                  "layer must use mask A (it hides the centre) and the later ones mask B; likely bug: A and B "
                  "swapped, or mask A includes the centre.")
        later = (grad.abs() > 1e-9) & (order > k)
        if later.any():
            r, c = (int(v) for v in torch.nonzero(later)[0])
            _fail(f"{name}'s logit for pixel ({i}, {j}) depends on the later pixel ({r}, {c}): every convolution "
                  "must be a MaskedConv2d whose mask is applied in forward (a plain nn.Conv2d, or a mask built but "
                  "not applied, lets the future in).")
        for r, c, where in ((i, j - 1, "to its left"), (i - 1, j, "above it")):
            if r >= 0 and c >= 0 and grad[r, c].abs() <= 1e-9:
                _fail(f"{name}'s logit for pixel ({i}, {j}) ignores the pixel {where}, ({r}, {c}): the masks hide "
                      "too much (mask A keeps the rows above and the pixels left of the centre).")


def column_major_source(start: int = 0) -> torch.Tensor:
    """``(784,)``: the forward each pixel would come from if pixels were drawn down the columns."""
    order = torch.arange(PIXELS).view(SIDE, SIDE).T.reshape(-1)  # raster indices in column-major order
    source = torch.empty(PIXELS, dtype=torch.long)
    source[order] = torch.arange(PIXELS)
    return source - start


def expect_raster_sampling(report: dict, n: int, start: int = 0) -> None:
    """A ``record_sampling`` report: binary (n, 1, 28, 28) images, one forward per pixel to draw, under
    no_grad, pixel k drawn from forward k - start in raster order, with the pixels before it filled in."""
    if report["type"] != "Tensor":
        _fail(f"sample returned a {report['type']}; expected a tensor (n, 1, 28, 28).")
    if report["shape"] != (n, 1, SIDE, SIDE):
        _fail(f"sample(model, {n}, ...) returned shape {report['shape']}; expected ({n}, 1, 28, 28).")
    todo = PIXELS - start
    if report["calls"] == 1:
        _fail(f"sample called the model once for all {todo} pixels: each pixel depends on the ones before it, so "
              "draw them one at a time, one forward per pixel, writing each into the image before the next forward.")
    if report["calls"] != todo:
        _fail(f"sample called the model {report['calls']} times to draw {todo} pixels; expected {todo}: one forward "
              "per pixel, in raster order (no extra forward before or after the loop).")
    if report["grad_enabled"]:
        _fail("sample ran the model with gradients enabled: wrap the loop in torch.no_grad() (sampling needs no "
              "gradients, and 784 graphs cost memory and time).")
    if report["requires_grad"]:
        _fail("sample returned a tensor that requires grad: build the images under torch.no_grad().")
    images = report["images"]
    if not bool(((images == 0) | (images == 1)).all()):
        _fail(f"sample returned values other than 0 and 1 (e.g. {images[(images != 0) & (images != 1)][0]:.3g}): "
              "draw each pixel with torch.bernoulli(torch.sigmoid(logit)), not the probability itself.")
    if bool(report["raster"][start:].all()):
        if int(report["stale"].sum()):
            t = int(torch.nonzero(report["stale"])[0])
            _fail(f"when pixel {start + t} was drawn, the model's input did not hold the pixels already drawn: write "
                  "each drawn pixel into the image (x[:, 0, i, j] = ...) before the next forward.")
        if int(report["ahead"].sum()):
            t = int(torch.nonzero(report["ahead"])[0])
            _fail(f"when pixel {start + t} was drawn, the model's input already held values after it: start from "
                  "an all-zero image, so that no pixel is drawn from (or next to) values not drawn yet.")
        return
    if report["column_major"]:
        _fail("sample drew the pixels down the columns (column-major): PixelCNN's masks follow raster order, row by "
              "row, left to right (for i in range(28): for j in range(28)).")
    k = start + int(torch.nonzero(~report["raster"][start:])[0])
    got = int(report["source"][k])
    said = ("matches none of the forwards' logits (draw it from the logit at (i, j) with torch.bernoulli)" if got == -1
            else f"came from forward {got}")
    _fail(f"pixel {k} (row {k // SIDE}, column {k % SIDE}) {said}; expected forward {k - start}: in raster order, "
          f"draw pixel (i, j) from the logit at (i, j) of the forward made after pixels 0..k-1 were written.")


def expect_seeded_draws(out: dict, n: int, p: float) -> None:
    """A ``sample_draws`` report on the constant model, seeds (a, a, b): the share of pixels on is p
    (within five standard errors), seed a repeats its images and seed b differs."""
    if out["images"] is None:
        _fail(f"sample(model, {n}, seed) returned {out['shape']}; expected ({n}, 1, 28, 28).")
    images = out["images"]  # (3, n, 1, 28, 28)
    share = images[[0, 2]].mean().item()
    error = 5 * (p * (1 - p) / (2 * n * PIXELS)) ** 0.5
    if share < 0.02 or share > 0.98:
        _fail(f"{share:.1%} of the pixels are on where sigmoid(logit) = {p:.0%} should be: draw with "
              "torch.bernoulli(torch.sigmoid(logit)); rounding the probability (p > 0.5), or passing the logit "
              "itself, is wrong.")
    if abs(share - p) > error:
        _fail(f"{share:.1%} of the pixels are on; expected {p:.1%} (+-{error:.1%}): draw each pixel with "
              "torch.bernoulli(torch.sigmoid(logit)), not the logit as a probability.")
    if not torch.equal(images[0], images[1]):
        _fail("two calls with the same seed gave different images: draw with torch.Generator().manual_seed(seed) "
              "passed to torch.bernoulli (generator=...), not the global random state.")
    if torch.equal(images[0], images[2]):
        _fail("two different seeds gave the same images: seed the generator with the seed argument.")


def expect_completion(report: dict, given: torch.Tensor, start: int) -> None:
    """A ``record_sampling`` report with ``given`` and ``start``: raster sampling from ``start`` on, one
    forward per pixel drawn, and the pixels before ``start`` copied from ``given``."""
    n = len(given)
    expect_raster_sampling(report, n, start=start)
    if not torch.equal(report["images"].reshape(n, -1)[:, :start], given.reshape(n, -1)[:, :start]):
        _fail("sample changed the given pixels before start: copy given's first `start` pixels (raster order) into "
              "the image and draw only pixels start, ..., 783.")


def expect_layers(summary: dict, channels: int, blocks: int) -> None:
    """A ``pixelcnn_summary`` of ``PixelCNN(channels, blocks)``: exactly the specified layers, in order."""
    from vizgen.author.expect import expect_module

    name, c = f"PixelCNN({channels}, {blocks})", channels
    if not summary["is_module"]:
        _fail(f"{name} is a {summary['type']}; expected an nn.Module.")
    block = ["ReLU()", f"MaskedConv2d(B, {c}->{c}, 3x3, padding=1)", "ReLU()", f"MaskedConv2d(B, {c}->{c}, 1x1, padding=0)"]
    want = [f"MaskedConv2d(A, 1->{c}, 7x7, padding=3)", *block * blocks, "ReLU()",
            f"MaskedConv2d(B, {c}->{c}, 1x1, padding=0)", "ReLU()", f"MaskedConv2d(B, {c}->1, 1x1, padding=0)"]
    expect_module(summary, name, layers=want, layers_hint=(
        "a 7x7 mask-A layer, then each block ReLU, 3x3 B, ReLU, 1x1 B, then ReLU, 1x1 B, ReLU, 1x1 B to one channel "
        "(every convolution a MaskedConv2d, the 1x1 ones too)"))
