"""Name the likely bug behind a wrong style-transfer loss, and descend on the student's losses.

The style transfer checks' counterpart of ``diagnose`` (the GAN losses): the grader recomputes
what the usual wrong implementations of the content, Gram, style and total variation losses
return on the same inputs (L1 instead of squared, mean instead of sum, a square root, the Gram
matrix not normalised or summed over the batch, layer weights mixed up) and says which one the
student's value matches. ``descend`` is the probe "a few optimisation steps on the student's
loss lower the true objective": it runs next to the student's function, on a tiny seeded
convolutional network instead of VGG19 (the check is about the loss, not the features).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from vizgen.author.expect import fail, likely_bug
from vizgen.author.support import Support
from vizgen.author.messages import CheckFailure

CONTENT_FORMULA = "content_weight * ((content_current - content_original) ** 2).sum()"
GRAM_FORMULA = "F @ F.transpose(1, 2) with F = features.reshape(N, C, H * W), divided by C * H * W when normalize"
STYLE_FORMULA = ("the sum over l of style_weights[l] * ((gram_matrix(feats[style_layers[l]]) - style_targets[l]) ** 2)"
                 ".sum()")
TV_FORMULA = ("tv_weight * (((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2).sum() + "
              "((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2).sum())")


def gram(features: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """The true Gram matrix (Gatys et al. 2015, eq. 2), in float64: ``(N, C, H, W)`` -> ``(N, C, C)``."""
    flat = features.double().flatten(2)  # (N, C, HW)
    products = flat @ flat.transpose(1, 2)  # (N, C, C)
    return products / flat[0].numel() if normalize else products  # flat[0].numel() = C * H * W


def content_candidates(weight: float, current: torch.Tensor, original: torch.Tensor) -> dict[str, float]:
    """Gatys et al. 2016, eq. 1 (times the weight): the correct value, then common mistakes."""
    diff = current.double() - original.double()
    return {
        "correct": (weight * diff.pow(2).sum()).item(),
        "absolute values (L1) instead of squares": (weight * diff.abs().sum()).item(),
        "mean instead of sum over the entries": (weight * diff.pow(2).mean()).item(),
        "square root taken (a norm, not the squared norm)": (weight * diff.pow(2).sum().sqrt()).item(),
        "content_weight not applied": diff.pow(2).sum().item(),
        "a factor 1/2 (Gatys et al.'s eq. 1): this assignment's loss has none": (0.5 * weight * diff.pow(2).sum()).item(),
    }


def gram_candidates(features: torch.Tensor, normalize: bool) -> dict[str, torch.Tensor]:
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


def style_candidates(feats: list, layers: list, targets: list, weights: list) -> dict[str, float]:
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


def tv_candidates(img: torch.Tensor, weight: float) -> dict[str, float]:
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


def expect_tensor_match(value, candidates: dict[str, torch.Tensor], name: str, formula: str,
                        atol: float = 1e-6, rtol: float = 1e-4) -> None:
    """``value`` equals ``candidates["correct"]`` (shape and values); else name the mistake it matches."""
    from vizgen.author.expect import expect_tensor  # deferred: expect imports the runner, which imports the probes

    got = expect_tensor(value, name).detach().double()
    right = candidates["correct"]
    if got.shape == right.shape and torch.allclose(got, right, atol=atol, rtol=rtol):
        return
    for mistake, wrong in candidates.items():
        if mistake != "correct" and got.shape == wrong.shape and torch.allclose(got, wrong, atol=atol, rtol=rtol):
            raise CheckFailure(f"{name} is wrong: likely bug: {mistake}.")
    if got.shape != right.shape:
        raise CheckFailure(f"{name} has shape {tuple(got.shape)}; expected {tuple(right.shape)}: compute {formula}.")
    worst = (got - right).abs().max().item()
    raise CheckFailure(f"{name} differs from the expected values by up to {worst:.3g}: compute {formula}.")


def expect_scalar(value, candidates: dict[str, float], name: str, formula: str, rtol: float = 1e-4,
                  atol: float = 1e-6) -> None:
    """A scalar tensor equal to the correct candidate; else the matching mistake, or the formula."""
    from vizgen.author.expect import expect_tensor

    loss = expect_tensor(value, name)
    if loss.numel() != 1:
        raise CheckFailure(f"{name} has shape {tuple(loss.shape)}; expected a scalar tensor: sum over every entry.")
    got, want = float(loss.detach().double()), candidates["correct"]
    if abs(got - want) <= atol + rtol * abs(want):
        return
    hint = likely_bug(got, candidates)
    hint = hint if hint.startswith("likely bug") else f"compute {formula}"
    raise CheckFailure(f"{name} is {got:.6g}; expected {want:.6g}: {hint}.")


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
    """What ``descend`` should lower, computed by the grader in float64."""
    if kind == "tv":
        return tv_candidates(img, 1.0)["correct"]
    feats, goal = tiny_features(img), tiny_features(target)
    if kind == "content":
        layer = settings["layer"]
        return content_candidates(1.0, feats[layer], goal[layer])["correct"]
    layers = settings["layers"]
    return style_candidates(feats, layers, [gram(goal[i]) for i in layers], settings["weights"])["correct"]


def descend(loss: Callable, kind: str, start: torch.Tensor, target: torch.Tensor, settings: dict,
            steps: int = 20, lr: float = 0.05) -> dict:
    """Gradient steps on the pixels of ``start`` (1, 3, H, W), minimising the student's ``loss``.

    ``kind`` says which loss it is: "content" (``loss(1.0, feats[layer], target_feats[layer])``),
    "style" (``loss(feats, layers, true Gram targets, weights)``) or "tv" (``loss(img, 1.0)``).
    Each step moves the pixels by ``lr`` times the gradient divided by its largest entry (plain
    autograd: a torch optimizer would import torch._dynamo, a second of grading time).
    Returns the image after the steps; the grader compares the true objective before and after.
    """
    goal = [f.detach() for f in tiny_features(target)]
    targets = [gram(goal[i]).float() for i in settings.get("layers", [])]
    img = start.detach().clone().requires_grad_(True)  # (1, 3, H, W) leaf
    for _ in range(steps):
        if kind == "tv":
            value = loss(img, 1.0)
        elif kind == "content":
            value = loss(1.0, tiny_features(img)[settings["layer"]], goal[settings["layer"]])
        else:
            value = loss(tiny_features(img), settings["layers"], targets, settings["weights"])
        (grad,) = torch.autograd.grad(value, img)  # (1, 3, H, W)
        with torch.no_grad():
            img -= lr * grad / grad.abs().max().clamp_min(1e-12)
    return {"image": img.detach()}


def expect_no_pixel_loop(calls: int, img: torch.Tensor) -> None:
    """``tv_loss`` made ``calls`` torch calls on ``img``: slices need about a dozen, a loop thousands."""
    if calls > 100:
        fail(f"tv_loss made {calls} torch operations on a {img.shape[2]} x {img.shape[3]} image: that is a Python "
             "loop over pixels; replace it by differences of shifted slices, img[:, :, 1:, :] - img[:, :, :-1, :].")


SUPPORT = Support(probes={"descend": descend})
