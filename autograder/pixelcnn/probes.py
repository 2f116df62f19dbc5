"""The PixelCNN assignment's probes, small models and input builders: what runs beside the student's code.

Probes (registered by ``SUPPORT`` below) call the student's code on inputs the grader chose and record
what came out; they judge nothing. ``judge.py`` (grader only) and the public checks judge the records:

* ``masked_layer``: a student ``MaskedConv2d``'s type, buffers and mask, and its forward on the grader's
  input once the grader's weight and bias are copied in (after construction, as after training steps);
* ``causality``: a student ``PixelCNN``'s logits on grader-chosen images (one image and copies of it with
  chosen pixels flipped) and the gradient of chosen logits with respect to their image;
* ``pixelcnn_summary``: its layers (a masked convolution described by its mask), parameter count and
  output shape, and its logits once the grader's parameters are copied into its convolutions, in order;
* ``record_sampling``: the student's ``sample`` run on a grader-registered model; the images, and per
  forward whether gradients were on, as the model recorded them.

Models (``ModelSpec`` names): ``fvsbn``, a fully visible sigmoid belief net (causal by construction,
cheap for 784 forwards); ``raster_oracle``, whose confident logits depend on the forward's index, on
pixels before and after each pixel and on whether gradients are on, so the images a sampler returns
show in which order, from which inputs and under which mode it drew; ``constant_logit_*`` and
``copy_previous``, whose distributions are known.

Masks (van den Oord et al. 2016, "Pixel Recurrent Neural Networks", ICML, Sec. 3.4 and Fig. 4): in a
k x k kernel with centre (c, c), c = k // 2, mask "A" keeps the rows above the centre and the pixels
left of it in the centre row; mask "B" keeps the centre too. The NLL is the binary cross-entropy with
logits summed over the 784 pixels, averaged over the images (their eq. 1-2).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vizgen.author.probes import module_summary
from vizgen.author.support import Support

SIDE = 28  # images are (N, 1, 28, 28)
PIXELS = SIDE * SIDE
CONFIDENT = 60.0  # |logit| of the oracle's answers: a Bernoulli draw at sigmoid(+-60) is 1 or 0
NLL_FORMULA = ("the binary cross-entropy between the Bernoulli logits and the pixels, summed over every pixel of an "
               "image and averaged over the images: nats per image (van den Oord et al. 2016, eq. 1 and 2)")


# Input builders (grader side: the checks build inputs with them and keep their own copies).


def impulses(in_channels: int, out_channels: int, k: int, bias: float = 0.0) -> tuple:
    """Weight all ones ``(out, in, k, k)``, bias ``(out,)`` all ``bias`` and ``x (in, in, k, k)``: image c is 1 at
    the centre of channel c, 0 elsewhere. With padding k // 2, output[c, o] is the masked kernel (o, c) turned
    by 180 degrees, plus the bias: a unit impulse through a convolution returns its kernel."""
    x = torch.zeros(in_channels, in_channels, k, k)
    x[torch.arange(in_channels), torch.arange(in_channels), k // 2, k // 2] = 1.0
    return torch.ones(out_channels, in_channels, k, k), torch.full((out_channels,), float(bias)), x


def random_layer(in_channels: int, out_channels: int, k: int, seed: int) -> tuple:
    """Seeded weight ``(out, in, k, k)``, bias ``(out,)`` and input ``x (2, in, 9, 9)``."""
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(out_channels, in_channels, k, k, generator=generator)
    bias = torch.randn(out_channels, generator=generator)
    return weight, bias, torch.randn(2, in_channels, 9, 9, generator=generator)


VARIANTS = ("base", "itself", "rest of the row", "rows below", "left", "above")


def causality_inputs(pixels: list, seed: int) -> tuple[torch.Tensor, list]:
    """For each pixel (i, j): a random binary image and five copies of it with pixels flipped: (i, j) itself,
    (i, j + 1..27), the rows below i, (i, j - 1) and (i - 1, j) (those that exist), in ``VARIANTS`` order.
    Returns ``images (6P, 1, 28, 28)`` and ``watch``: for each pixel, (index of its base image, i, j)."""
    base = torch.bernoulli(torch.full((SIDE, SIDE), 0.5), generator=torch.Generator().manual_seed(seed))
    images, watch = [], []
    for i, j in pixels:
        regions = [(slice(i, i + 1), slice(j, j + 1)), (slice(i, i + 1), slice(j + 1, SIDE)),
                   (slice(i + 1, SIDE), slice(0, SIDE)), (slice(i, i + 1), slice(max(j - 1, 0), j)),
                   (slice(max(i - 1, 0), i), slice(j, j + 1))]
        watch.append((len(images), i, j))
        images.append(base.clone())
        for rows, cols in regions:
            flipped = base.clone()
            flipped[rows, cols] = 1 - flipped[rows, cols]
            images.append(flipped)
    return torch.stack(images).unsqueeze(1), watch


def unit_parameters(channels: int, blocks: int, biases: tuple | None = None) -> list:
    """(weight, bias) for each convolution of ``PixelCNN(channels, blocks)`` in the notebook's order: every
    spatial weight 0, the input layer's bias ``biases[0]``, block n's last bias ``biases[1 + n]`` (all 1 by
    default), the head's 1x1 layers the identity and a sum over channels. Each body then outputs its last
    bias whatever its input, so the first layer gives biases[0], each residual block adds its bias and the
    head sums the channels after a ReLU: by default the logits are channels * (1 + blocks) at every pixel."""
    c = channels
    biases = biases or (1.0,) * (1 + blocks)
    params = [(torch.zeros(c, 1, 7, 7), torch.full((c,), float(biases[0])))]
    for n in range(blocks):
        params += [(torch.zeros(c, c, 3, 3), torch.zeros(c)),
                   (torch.zeros(c, c, 1, 1), torch.full((c,), float(biases[1 + n])))]
    return params + [(torch.eye(c).view(c, c, 1, 1), torch.zeros(c)), (torch.ones(1, c, 1, 1), torch.zeros(1))]


# Probes: each calls the student's code and records; none judges.


def masked_layer(cls: Callable, mask_type: str, in_channels: int, out_channels: int, k: int,
                 weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> dict:
    """Build ``cls(mask_type, in_channels, out_channels, k, padding=k // 2)``; record its type, buffers,
    parameters and mask, copy ``weight`` and ``bias`` into it and record its output on ``x``."""
    layer = cls(mask_type, in_channels, out_channels, k, padding=k // 2)
    report = {"is_conv2d": isinstance(layer, nn.Conv2d), "type": type(layer).__name__,
              "buffers": sorted(name for name, _ in layer.named_buffers()),
              "parameters": sorted(name for name, _ in layer.named_parameters())}
    if not report["is_conv2d"]:
        return report
    mask = dict(layer.named_buffers()).get("mask")
    report.update(mask=None if mask is None else mask.detach().clone(), weight_shape=tuple(layer.weight.shape),
                  has_bias=layer.bias is not None)
    if report["weight_shape"] != tuple(weight.shape):
        return report
    with torch.no_grad():
        layer.weight.copy_(weight.cpu())
        if layer.bias is not None:
            layer.bias.copy_(bias.cpu())
        report["output"] = layer(x.cpu()).detach().clone()
    return report


def causality(cls: Callable, channels: int, blocks: int, images: torch.Tensor, watch: list, seed: int = 0) -> dict:
    """Build ``cls(channels=channels, blocks=blocks)`` (seeded, default initialisation); record its logits on
    ``images`` and, for each (b, i, j) in ``watch``, the gradient of logit (b, i, j) with respect to image b."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(channels=channels, blocks=blocks)
    x = images.detach().cpu().clone().requires_grad_()  # (B, 1, 28, 28)
    out = model(x)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        return {"shape": tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__, "outputs": None}
    b, i, j = (torch.tensor([w[n] for w in watch]) for n in range(3))
    (grad,) = torch.autograd.grad(out[b, 0, i, j].sum(), x, allow_unused=True)
    grads = torch.zeros(len(watch), SIDE, SIDE) if grad is None else grad[b, 0]  # (P, 28, 28)
    return {"shape": tuple(out.shape), "outputs": out.detach().clone(), "grads": grads.detach().clone()}


def describe(module: nn.Module) -> str:
    """A layer as text; a masked convolution by its mask's centre: "MaskedConv2d(A, 1->8, 7x7, padding=3)"."""
    mask = dict(module.named_buffers(recurse=False)).get("mask")
    if isinstance(module, nn.Conv2d) and mask is not None:
        k = module.kernel_size[0]
        centre = mask.expand_as(module.weight)[:, :, k // 2, k // 2]
        kind = "B" if bool((centre != 0).all()) else "A" if bool((centre == 0).all()) else "?"
        return (f"MaskedConv2d({kind}, {module.in_channels}->{module.out_channels}, {k}x{k}, "
                f"padding={module.padding[0]})")
    if isinstance(module, nn.Conv2d):
        return (f"{type(module).__name__}({module.in_channels}->{module.out_channels}, "
                f"{module.kernel_size[0]}x{module.kernel_size[1]}, no mask)")
    return f"{type(module).__name__}()"


def pixelcnn_summary(cls: Callable, *args, params: list | None = None, batch: int = 2, **kwargs) -> dict:
    """``module_summary`` of ``cls(*args, **kwargs)`` (layers as ``describe`` writes them, output shape on
    ``(batch, 1, 28, 28)`` zeros); given ``params``, a (weight, bias) per convolution, copied into its
    convolutions in module order when the shapes agree, and its logits on zeros then."""
    summary = module_summary(cls, *args, input_shape=(batch, 1, SIDE, SIDE), describe=describe, **kwargs)
    if params is None or not summary["is_module"] or summary["output_error"]:
        return summary
    model = cls(*args, **kwargs)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    summary["conv_shapes"] = [(tuple(m.weight.shape), None if m.bias is None else tuple(m.bias.shape)) for m in convs]
    wanted = [(tuple(w.shape), tuple(b.shape)) for w, b in params]
    if summary["conv_shapes"] != wanted:
        return summary
    with torch.no_grad():
        for conv, (w, b) in zip(convs, params):
            conv.weight.copy_(w.cpu())
            conv.bias.copy_(b.cpu())
        summary["logits"] = model(torch.zeros(batch, 1, SIDE, SIDE)).detach().clone()
    return summary


def record_sampling(sample: Callable, model: nn.Module, n: int, seed: int, **kwargs) -> dict:
    """Run ``sample(model, n, seed, **kwargs)`` on a ``raster_oracle``; record the images and, per forward,
    whether gradients were on."""
    images = sample(model, n, seed, **kwargs)
    report = {"type": type(images).__name__, "calls": model.calls, "grad_enabled": list(model.grad_enabled)}
    if isinstance(images, torch.Tensor):
        report.update(shape=tuple(images.shape), requires_grad=images.requires_grad,
                      images=images.detach().float().cpu().clone())
    return report


# Models the checks name by ModelSpec.


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
        logits = x.reshape(n, m) @ self.weight[:m, :m].T + self.bias[:m]  # (N, h * 28)
        return logits.view(n, 1, h, w)


class RasterOracle(nn.Module):
    """Forward t answers pixel k with +-CONFIDENT, its sign the parity of: a bit of its own for (t, image,
    k), ``PARENTS`` chosen pixels before k, ``PARENTS`` chosen pixels after k (absent rows count as 0) and
    whether gradients are on. Drawing pixel k from forward k - start, on the image holding every pixel drawn
    before it and zeros after it, under no_grad, gives one image only; any other order, input or mode gives
    others. Records its forwards (``calls``) and whether gradients were on at each (``grad_enabled``)."""

    PARENTS = 3

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))  # so next(model.parameters()) finds the device
        self.key = int(torch.randint(0, 2**30, ()))
        k = torch.arange(PIXELS).unsqueeze(1)  # (784, 1)
        before = torch.where(k > 0, (torch.rand(PIXELS, self.PARENTS) * k).long(), PIXELS)  # PIXELS: always 0
        after = torch.where(k < PIXELS - 1, k + 1 + (torch.rand(PIXELS, self.PARENTS) * (PIXELS - 1 - k)).long(),
                            PIXELS)
        self.register_buffer("parents", torch.cat([before, after], dim=1).flatten())  # (784 * 2P,)
        self.calls, self.grad_enabled = 0, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        m = h * w
        flat = torch.zeros(n, PIXELS + 1, device=x.device)
        flat[:, :m] = x.detach().reshape(n, m).float()
        grad = torch.is_grad_enabled()
        own = torch.rand(n, PIXELS, generator=torch.Generator().manual_seed(self.key + self.calls)) < 0.5
        seen = flat.index_select(1, self.parents).view(n, PIXELS, -1).sum(dim=2).round().long()  # (n, 784)
        bits = own.to(x.device).long() + int(grad) + seen  # (n, 784)
        self.calls += 1
        self.grad_enabled.append(grad)
        logits = ((bits % 2) * 2 - 1).float() * CONFIDENT  # (n, 784)
        return logits[:, :m].view(n, 1, h, w) + self.anchor * 0


class ConstantLogit(nn.Module):
    """Every pixel's logit is ``logit``, whatever the input."""

    def __init__(self, logit: float):
        super().__init__()
        self.logit = nn.Parameter(torch.tensor(float(logit)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logit.expand(x.shape).clone()


class CopyPrevious(nn.Module):
    """Pixel k's logit is +-``strength`` as pixel k - 1 is on or off (raster order); pixel 0's is 0. A raster
    sampler therefore draws all-black or all-white images, half and half."""

    def __init__(self, num_classes: int = 10, strength: float = 30.0):
        super().__init__()
        self.strength = nn.Parameter(torch.tensor(strength))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        logits = (x.reshape(n, h * w) * 2 - 1) * self.strength  # (N, h * w): what pixel k says about pixel k + 1
        logits = torch.cat([x.new_zeros(n, 1), logits[:, :-1]], dim=1)  # (N, h * w): shifted one pixel on
        return logits.view(n, 1, h, w)


class ContextLogits(nn.Module):
    """Known conditionals: the logit of pixel (i, j) is ``a[j % 2] + up_right * x(i - 1, j + 1) + left * x(i, j - 1)``
    (pixels outside the image count as 0), so p(x_k | x_<k) depends on the column's parity and on two pixels
    before k in raster order, one of them (up and to the right) drawn after k in column-major order. Accepts the
    first h rows ``(N, 1, h, 28)`` too. ``conditional_draws`` turns images into the draws and the
    probabilities a goodness-of-fit test compares."""

    def __init__(self, a: tuple[float, float], up_right: float, left: float):
        super().__init__()
        self.register_buffer("a", torch.tensor(a))  # (2,): the logit's offset in even and odd columns
        self.up_right, self.left = nn.Parameter(torch.tensor(up_right)), nn.Parameter(torch.tensor(left))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        x = x.float()
        up_right = F.pad(x, (0, 1, 1, 0))[:, :, :h, 1:]  # (N, 1, h, w): x(i - 1, j + 1)
        left = F.pad(x, (1, 0))[:, :, :, :w]  # (N, 1, h, w): x(i, j - 1)
        offset = self.a[torch.arange(w, device=x.device) % 2]  # (w,)
        return offset + self.up_right * up_right + self.left * left  # (N, 1, h, w)


def conditional_draws(model: ContextLogits, images: torch.Tensor, start: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """For binary ``images (n, 1, 28, 28)``: each pixel k >= start as a draw, 1 when it took the value its
    conditional under ``model`` makes likelier and 0 otherwise, and that draw's law (1 - q, q), q = max(p, 1 - p)
    with p = sigmoid(logit) given the image's own pixels before k (a causal model: one forward gives every
    conditional). Relabelling each pixel by its own conditional keeps the law exact and lines up the usual
    wrong laws (the argmax, a temperature) in one direction. Returns draws (m,) and probs (m, 2),
    m = n * (784 - start)."""
    x = images.detach().float().cpu()
    with torch.no_grad():
        p = torch.sigmoid(model(x)).reshape(len(x), PIXELS)[:, start:].flatten().double()  # (m,)
    likelier = p > 0.5
    q = torch.where(likelier, p, 1 - p)  # (m,)
    drawn = x.reshape(len(x), PIXELS)[:, start:].flatten().bool()
    return (drawn == likelier).long(), torch.stack([1 - q, q], dim=1)


PROBES: dict[str, Callable] = {
    "masked_layer": masked_layer,
    "causality": causality,
    "pixelcnn_summary": pixelcnn_summary,
    "record_sampling": record_sampling,
}

MODELS: dict[str, Callable[[int], nn.Module]] = {
    "fvsbn": FVSBN,
    "raster_oracle": RasterOracle,
    "copy_previous": CopyPrevious,
    "constant_logit_-0.4": lambda num_classes=10: ConstantLogit(-0.4),
    "constant_logit_0.85": lambda num_classes=10: ConstantLogit(0.85),
    "context_logits": lambda num_classes=10: ContextLogits((-1.0, 0.5), 2.0, -1.5),
    "context_logits_other": lambda num_classes=10: ContextLogits((0.7, -0.6), -1.8, 2.2),
}

SUPPORT = Support(probes=PROBES, models=MODELS)
