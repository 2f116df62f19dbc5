"""The style transfer grader's side (never shipped, never loaded beside student code).

The correct Gram matrix, the usual mistakes of the content, Gram, style and total variation losses
(L1 instead of squared, mean instead of sum, a square root, the Gram matrix not normalised or summed
over the batch, layer weights mixed up), stored with the public cases (``PUBLIC_CASES``, ``mistakes=``)
and the hidden ones; the tiny seeded network that stands in for VGG19; and the descent the hidden
checks judge: a few gradient steps on the pixels, run here, with the student's loss and its gradient
asked from the student's process at every step (``student.differentiate``; on the first step also checked
against how the loss's values change, so that a process that reports other gradients gains nothing), then the true
objective before and after, computed here in float64.
"""

from __future__ import annotations

import torch
from torch import nn

from vizgen.author import expect_gradients, fail


# "No Python loop over pixels": at most this many torch calls on the counted image (slices need about a
# dozen, a loop thousands), and at most this much CPU time, measured by the worker from the kernel's clock
# of the function's process, for one call on the timed image, (1, 3, 96, 96) or (1, 3, 80, 128) (below
# torch's 32768-element grain, so no thread pool inflates a kernel's process time). Measured on the grading
# machine: the slices take 1-2 ms; a loop over the pixels 0.2 s even with the call counter switched off
# (0.45 s counted), a loop over NumPy pixels 45 ms.
MAX_TORCH_CALLS = 100
MAX_CPU_SECONDS = 0.02


def gram(features: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """The true Gram matrix (Gatys et al. 2015, eq. 2), in float64: ``(N, C, H, W)`` -> ``(N, C, C)``."""
    flat = features.double().flatten(2)  # (N, C, HW)
    products = flat @ flat.transpose(1, 2)  # (N, C, C)
    return products / flat[0].numel() if normalize else products  # flat[0].numel() = C * H * W


def content_mistakes(weight: float, current: torch.Tensor, original: torch.Tensor) -> dict[str, float]:
    """Gatys et al. 2016, eq. 1 (times the weight): the correct value, then common mistakes."""
    diff = current.double() - original.double()
    return {
        "correct": (weight * diff.pow(2).sum()).item(),
        "absolute values (L1) instead of squares": (weight * diff.abs().sum()).item(),
        "mean instead of sum over the entries": (weight * diff.pow(2).mean()).item(),
        "square root taken (a norm, not the squared norm)": (weight * diff.pow(2).sum().sqrt()).item(),
        "content_weight not applied": diff.pow(2).sum().item(),
        "a factor 1/2 (Gatys et al.'s eq. 1): this assignment's loss has none":
            (0.5 * weight * diff.pow(2).sum()).item(),
    }


def gram_mistakes(features: torch.Tensor, normalize: bool = True) -> dict[str, torch.Tensor]:
    """The correct Gram matrices ``(N, C, C)``, then common mistakes (some of other shapes)."""
    _, c, h, w = features.shape
    raw = gram(features, normalize=False)  # (N, C, C)
    right = raw / (c * h * w) if normalize else raw
    found = {
        "correct": right,
        "square root taken": right.clamp_min(0).sqrt(),
        "summed over the batch (one (C, C) matrix instead of one per image)": right.sum(0),
    }
    if normalize:
        found["not normalised: divide by C * H * W when normalize is True"] = raw
        found["divided by H * W only (also divide by C)"] = raw / (h * w)
        found["divided by C only (also divide by H * W)"] = raw / c
    else:
        found["normalised although normalize is False"] = raw / (c * h * w)
    return found


def style_mistakes(feats: list, layers: list, targets: list, weights: list) -> dict[str, float]:
    """Gatys et al. 2016, eq. 5 (normalised Gram matrices): the correct value, then common mistakes."""
    diffs = [gram(feats[layer]) - t.double() for layer, t in zip(layers, targets)]  # (1, C_l, C_l) each
    found = {
        "correct": sum(w * d.pow(2).sum() for w, d in zip(weights, diffs)).item(),
        "absolute values (L1) instead of squares": sum(w * d.abs().sum() for w, d in zip(weights, diffs)).item(),
        "mean instead of sum over the Gram entries": sum(w * d.pow(2).mean() for w, d in zip(weights, diffs)).item(),
        "square root taken per layer": sum(w * d.pow(2).sum().sqrt() for w, d in zip(weights, diffs)).item(),
        "the layer weights not applied": sum(d.pow(2).sum() for d in diffs).item(),
        "the layer weights in reverse order (weights[l] belongs to style_layers[l])": sum(
            w * d.pow(2).sum() for w, d in zip(reversed(weights), diffs)).item(),
        "only the last layer counted (sum over all style layers)": (weights[-1] * diffs[-1].pow(2).sum()).item(),
    }
    unnormalised = [gram(feats[layer], normalize=False) - t.double() for layer, t in zip(layers, targets)]
    found["the Gram matrices not normalised (gram_matrix's default normalize=True)"] = sum(
        w * d.pow(2).sum() for w, d in zip(weights, unnormalised)).item()
    if all(gram(feats[i]).shape == t.shape for i, t in enumerate(targets)):
        found["feats indexed by position 0, 1, ... instead of by style_layers"] = sum(
            w * (gram(feats[i]) - t.double()).pow(2).sum() for i, (w, t) in enumerate(zip(weights, targets))).item()
    return found


def tv_mistakes(img: torch.Tensor, weight: float) -> dict[str, float]:
    """Total variation with squared differences (Mahendran and Vedaldi 2015, eq. 8, beta = 2), then mistakes."""
    x = img.double()
    down, across = x[:, :, 1:, :] - x[:, :, :-1, :], x[:, :, :, 1:] - x[:, :, :, :-1]
    return {
        "correct": (weight * (down.pow(2).sum() + across.pow(2).sum())).item(),
        "absolute values instead of squared differences": (weight * (down.abs().sum() + across.abs().sum())).item(),
        "means instead of sums": (weight * (down.pow(2).mean() + across.pow(2).mean())).item(),
        "only vertical neighbours (add the horizontal ones)": (weight * down.pow(2).sum()).item(),
        "only horizontal neighbours (add the vertical ones)": (weight * across.pow(2).sum()).item(),
        "tv_weight not applied": (down.pow(2).sum() + across.pow(2).sum()).item(),
        "square root taken": (weight * (down.pow(2).sum() + across.pow(2).sum()).sqrt()).item(),
    }


def instance_norm_mistakes(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                           eps: float = 1e-5) -> dict[str, torch.Tensor]:
    """Instance normalisation (Ulyanov et al. 2016, eq. 2) of ``x`` (N, C, H, W) with the affine ``weight`` and
    ``bias`` (C,), in float64: the correct value, then the usual mistakes (each computed, so a message names one
    only when the student's output reproduces it)."""
    x = x.double()
    w, b = weight.double().view(1, -1, 1, 1), bias.double().view(1, -1, 1, 1)  # (1, C, 1, 1)

    def normed(dims: tuple, correction: int = 0, eps_on_std: bool = False, affine: bool = True) -> torch.Tensor:
        mean = x.mean(dim=dims, keepdim=True)
        var = x.var(dim=dims, correction=correction, keepdim=True)
        scale = var.sqrt() + eps if eps_on_std else (var + eps).sqrt()
        y = (x - mean) / scale  # (N, C, H, W)
        return y * w + b if affine else y

    spatial = (2, 3)
    return {
        "correct": normed(spatial),
        "the unbiased variance (x.var() and x.std() divide by H * W - 1 by default): use the biased variance, "
        "dividing by H * W, with x.var(..., unbiased=False) or correction=0": normed(spatial, correction=1),
        "eps added to the standard deviation (std + eps): add eps to the variance, inside the square root, "
        "sqrt(var + eps)": normed(spatial, eps_on_std=True),
        "the statistics taken over the batch too (dims 0, 2, 3, as batch norm does): normalise each (n, c) map over "
        "its own H x W positions": normed((0, 2, 3)),
        "the statistics taken over all channels (dims 1, 2, 3, as layer norm does): normalise each (n, c) map over "
        "its own H x W positions": normed((1, 2, 3)),
        "weight and bias not applied: multiply by weight[c] and add bias[c] after normalising":
            normed(spatial, affine=False),
        "divided by the variance instead of its square root: divide by sqrt(var + eps)":
            (x - x.mean(dim=spatial, keepdim=True)) / (x.var(dim=spatial, correction=0, keepdim=True) + eps) * w + b,
    }


def expect_no_pixel_loop(calls: int, counted: torch.Tensor, cpu_seconds: float, timed: torch.Tensor) -> None:
    """``tv_loss`` made ``calls`` torch calls on ``counted`` (slices need about a dozen, a loop thousands) and
    took ``cpu_seconds`` of CPU time on ``timed`` (slices take a few milliseconds, a loop tenths of a second)."""
    if calls > MAX_TORCH_CALLS:
        fail(f"tv_loss made {calls} torch operations on a {counted.shape[2]} x {counted.shape[3]} image: that is a "
             "Python loop over pixels; replace it by differences of shifted slices, "
             "img[:, :, 1:, :] - img[:, :, :-1, :].")
    if cpu_seconds > MAX_CPU_SECONDS:
        fail(f"tv_loss took {cpu_seconds * 1000:.0f} ms of CPU time on a {timed.shape[2]} x {timed.shape[3]} image "
             f"(slices take a few ms; the limit is {MAX_CPU_SECONDS * 1000:.0f} ms): that is a Python loop over "
             "pixels; replace it by differences of shifted slices, img[:, :, 1:, :] - img[:, :, :-1, :], "
             "summed with torch.")


def tiny_net(seed: int = 0) -> nn.Sequential:
    """A small seeded convolutional network standing in for VGG19 (frozen, eval mode)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1),
                            nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
    return net.eval().requires_grad_(False)


def tiny_features(img: torch.Tensor, seed: int = 0) -> list[torch.Tensor]:
    """Every layer's output of ``tiny_net(seed)`` for ``img`` (N, 3, H, W), CS231n's list convention."""
    feats = []
    for layer in tiny_net(seed):
        img = layer(img)
        feats.append(img)
    return feats


def true_objective(kind: str, img: torch.Tensor, target: torch.Tensor, settings: dict) -> float:
    """What the descent should lower, in float64: the content loss at ``settings["layer"]`` or the style loss
    at ``settings["layers"]`` (weights ``settings["weights"]``) between ``img`` and ``target``'s features."""
    with torch.no_grad():
        feats, goal = tiny_features(img), tiny_features(target)
    if kind == "content":
        layer = settings["layer"]
        return content_mistakes(1.0, feats[layer], goal[layer])["correct"]
    layers = settings["layers"]
    return style_mistakes(feats, layers, [gram(goal[i]) for i in layers], settings["weights"])["correct"]


NOT_DIFFERENTIABLE = ("the loss must be a scalar tensor differentiable in the image (no .detach(), .item(), float() "
                      "or NumPy inside)")


def _gradient_of_content(student, function: str, feats: list, goal: list, settings: dict, verify: bool) -> list:
    """d student loss / d feats (None for the layers it does not use), from the student's process."""
    layer = settings["layer"]
    sent = feats[layer].detach().requires_grad_()  # (1, C, H, W)
    call = student.differentiate(function, 1.0, sent, goal[layer], wrt=(1,), verify=verify)
    grad = call.gradients.get(call.params[1]) if len(call.params) > 1 else None
    if not isinstance(grad, torch.Tensor) or grad.shape != sent.shape:
        fail(f"your {function} gave no gradient with respect to content_current: {NOT_DIFFERENTIABLE}.")
    if verify:
        expect_gradients(call, function, NOT_DIFFERENTIABLE)
    return [grad if i == layer else None for i in range(len(feats))]


def _gradient_of_style(student, function: str, feats: list, targets: list, settings: dict, verify: bool) -> list:
    sent = [f.detach().requires_grad_() for f in feats]  # every layer's (1, C_i, H_i, W_i)
    call = student.differentiate(function, sent, settings["layers"], targets, settings["weights"], wrt=(0,),
                                 verify=verify)
    grads = call.gradients.get(call.params[0]) if call.params else None
    if not isinstance(grads, list) or len(grads) != len(feats) or not all(
            isinstance(g, torch.Tensor) and g.shape == f.shape for g, f in zip(grads, feats)):
        fail(f"your {function} gave no gradient with respect to feats: {NOT_DIFFERENTIABLE}.")
    if verify:
        expect_gradients(call, function, NOT_DIFFERENTIABLE)
    return grads


def descend(student, function: str, kind: str, start: torch.Tensor, target: torch.Tensor, settings: dict,
            steps: int = 20, lr: float = 0.05) -> torch.Tensor:
    """Gradient steps on the pixels of ``start`` (1, 3, H, W), minimising the student's loss, run here.

    Each step computes the tiny network's features of the image here, asks the student's process for the
    loss and its gradient with respect to those features ("content": ``loss(1.0, feats[layer],
    target_feats[layer])``; "style": ``loss(feats, layers, true Gram targets, weights)``), backpropagates
    that gradient through the network here and moves the pixels by ``lr`` times the gradient divided by
    its largest entry. Returns the image after the steps.
    """
    with torch.no_grad():
        goal = tiny_features(target)
    targets = [gram(goal[i]).float() for i in settings.get("layers", [])]
    img = start.detach().clone().requires_grad_(True)  # (1, 3, H, W) leaf
    for step in range(steps):
        feats = tiny_features(img)
        if kind == "content":
            grads = _gradient_of_content(student, function, feats, goal, settings, verify=step == 0)
        else:
            grads = _gradient_of_style(student, function, feats, targets, settings, verify=step == 0)
        used = [(f, g.to(f.dtype)) for f, g in zip(feats, grads) if g is not None]
        torch.autograd.backward([f for f, _ in used], [g for _, g in used])
        with torch.no_grad():
            grad = img.grad if img.grad is not None else torch.zeros_like(img)  # (1, 3, H, W)
            if not torch.isfinite(grad).all():
                fail(f"your {function}'s gradient has NaN or infinite values: {NOT_DIFFERENTIABLE}, and finite.")
            img -= lr * grad / grad.abs().max().clamp_min(1e-12)
            img.grad = None
    return img.detach()


def expect_descent(student, function: str, kind: str, settings: dict, seed: int) -> None:
    """Twenty gradient steps on the student's loss lower the true objective by a third."""
    generator = torch.Generator().manual_seed(seed)
    start = torch.randn(1, 3, 10, 10, generator=generator)  # (1, 3, 10, 10)
    target = torch.randn(1, 3, 10, 10, generator=torch.Generator().manual_seed(seed + 1))
    image = descend(student, function, kind, start, target, settings)
    before = true_objective(kind, start, target, settings)
    after = true_objective(kind, image, target, settings)
    if not after < 0.67 * before:
        fail(
            f"20 gradient steps on the pixels, minimising your {function}, moved the true loss from {before:.4g} to "
            f"{after:.4g} (it should fall by a third or more): {NOT_DIFFERENTIABLE} and minimised where the "
            "features match" + (" (if gram_matrix fails its checks, fix it first)." if kind == "style" else ".")
        )
