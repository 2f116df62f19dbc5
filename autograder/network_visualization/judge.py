"""The network visualization grader's side (never shipped, never loaded beside student code).

The correct saliency maps, occlusion maps, guided gradients and class visualization steps on general
inputs, with the usual mistakes' values on the same inputs (stored with the public cases through
``mistakes=``, computed live for the hidden ones, whose CUDA store keeps no mistakes); the objective the
class visualization step must raise; and the batching verdict of ``occlusion_map``: the forward count the
student's process reports, checked against the CPU time of the call that the worker reads from the kernel's
clock (``Call.cpu_seconds``) and against what one forward costs here, and a map that only a function that
scored the occluded copies can return.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vizgen.author import Call, ModelSpec, effects_of, fail, reproduces
from vizgen.author.support import support_module

nv = support_module(Path(__file__).resolve().with_name("probes.py"))  # the same models the worker builds

PLAIN_GRADIENT = ("returned the plain gradient of s_y: at every ReLU / ReLU6 also zero the gradient where the "
                  "gradient arriving from above is negative (a hook that clamps it at 0)")


def build(spec: ModelSpec) -> nn.Module:
    """The grader's own copy of the model a spec names (seeded, eval mode, frozen)."""
    return nv.SUPPORT.build_model(spec)


def _input_gradient(objective, X: torch.Tensor) -> torch.Tensor:
    """d objective(x) / d x at x = X, float32 (N, 3, H, W)."""
    x = X.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(objective(x), x)
    return grad.detach()


# compute_saliency_maps (Simonyan et al. 2014, Sec. 3.1)


def saliency_mistakes(X: torch.Tensor, y: torch.Tensor, spec: ModelSpec) -> dict[str, torch.Tensor]:
    """The correct saliency (N, H, W), then the usual mistakes on the same inputs."""
    model = build(spec)

    def score(x):
        return model(x).gather(1, y.view(-1, 1)).sum()

    def probability(x):
        return model(x).softmax(dim=1).gather(1, y.view(-1, 1)).sum()

    g = _input_gradient(score, X)  # (N, 3, H, W)
    p = _input_gradient(probability, X)
    loss = _input_gradient(lambda x: F.cross_entropy(model(x), y), X)
    loss_sum = _input_gradient(lambda x: F.cross_entropy(model(x), y, reduction="sum"), X)
    return {
        "correct": g.abs().amax(dim=1),
        "take |gradient| before the max over the colour channel (this is the max of the signed gradient)":
            g.amax(dim=1),
        "take the max of |gradient| over the colour channel, not the sum": g.abs().sum(dim=1),
        "take the max of |gradient| over the colour channel, not the mean": g.abs().mean(dim=1),
        "differentiate the raw score s_y, not the softmax probability": p.abs().amax(dim=1),
        "differentiate the raw score s_y, not the cross-entropy loss": loss.abs().amax(dim=1),
        "differentiate the raw score s_y, not the cross-entropy loss (summed over the batch)":
            loss_sum.abs().amax(dim=1),
    }


# occlusion_map (Zeiler & Fergus 2014, Sec. 4.2)


def _occluded_scores(model: nn.Module, X: torch.Tensor, patch_size: int, stride: int, fill: float, batch_size: int,
                     swap: bool = False) -> torch.Tensor:
    """Scores (N, H', W', C) of every occluded copy, batch_size copies per forward; ``swap``: the patch of
    entry (i, j) covers rows j*stride and columns i*stride (a square map only)."""
    N, _, H, W = X.shape
    rows, cols = (H - patch_size) // stride + 1, (W - patch_size) // stride + 1
    jobs = [(n, i, j) for n in range(N) for i in range(rows) for j in range(cols)]
    scores = []
    with torch.no_grad():
        for start in range(0, len(jobs), batch_size):
            chunk = jobs[start:start + batch_size]
            batch = X[[n for n, _, _ in chunk]].clone()  # (B, 3, H, W)
            for b, (_, i, j) in enumerate(chunk):
                r, c = (j, i) if swap else (i, j)
                batch[b, :, r * stride:r * stride + patch_size, c * stride:c * stride + patch_size] = fill
            scores.append(model(batch))  # (B, C)
    return torch.cat(scores).view(N, rows, cols, -1)


def occlusion_mistakes(X: torch.Tensor, y: torch.Tensor, spec: ModelSpec, patch_size: int = 32, stride: int = 16,
                       fill: float = 0.0, batch_size: int = 64) -> dict[str, torch.Tensor]:
    """The correct occlusion map (N, H', W'), then the usual mistakes on the same inputs."""
    model = build(spec)
    pick = y.view(-1, 1, 1, 1)

    def at(values: torch.Tensor, classes: torch.Tensor = pick) -> torch.Tensor:  # (N, H', W', C) -> (N, H', W')
        return values.gather(3, classes.expand(*values.shape[:3], 1)).squeeze(3)

    scores = _occluded_scores(model, X, patch_size, stride, fill, batch_size)  # (N, H', W', C)
    probs = scores.softmax(dim=3)
    with torch.no_grad():
        clean = model(X).softmax(dim=1)  # (N, C) the unoccluded images
    correct = at(probs)
    found = {
        "correct": correct,
        "report softmax(scores)[y[n]], the probability, not the raw score s_y": at(scores),
        "report the probability itself, not its drop from the unoccluded image's": clean.gather(
            1, y.view(-1, 1)).view(-1, 1, 1) - correct,
        "record the probability of class y[n], not of the class the model predicts": at(
            probs, clean.argmax(dim=1).view(-1, 1, 1, 1)),
    }
    if fill != 0:
        found["write `fill` into the patch, not 0"] = at(
            _occluded_scores(model, X, patch_size, stride, 0.0, batch_size).softmax(dim=3))
    if correct.shape[1] == correct.shape[2]:
        found["patch (i, j) covers rows i*stride : i*stride+patch_size and columns j*stride : j*stride+patch_size "
              "(rows and columns swapped)"] = at(
            _occluded_scores(model, X, patch_size, stride, fill, batch_size, swap=True).softmax(dim=3))
    return found


# "In batches, not one forward per patch": the student's process reports how often the model ran (a
# CountingModel's count, which code in that process could reset), so the verdict also reads the call's CPU
# time, measured outside that process. The model (``deep_linear``) costs a fixed ~8 ms per forward: one
# forward per copy costs at least ``copies`` forwards, batches a handful. A call may take at most a third of
# ``copies`` forwards, as this process measures one forward. Measured with the worker's single thread on a
# loaded 2-core machine, 98 copies: one forward per patch 0.9-1.1 s against a bound of 0.3 s; the solution's
# 2 batches 30-40 ms. In a notebook's kernel (nbgrader, the self-check), idle OpenMP threads spinning after
# small parallel ops (softmax, indexing) add to the honest call's time: 45-55 ms with 2 threads.
CPU_SHARE_OF_ONE_FORWARD_PER_COPY = 1 / 3


def batching_verdict(call: Call, spec: ModelSpec, image: torch.Tensor, copies: int, max_forwards: int,
                     batch_size: int, accepted: dict[str, torch.Tensor], atol: float, rtol: float) -> None:
    """Fail unless ``call`` (occlusion_map on ``copies`` occluded copies, ``spec`` a counting ``deep_linear``)
    ran the model at most ``max_forwards`` times, took at most a third of the CPU time of one forward per
    copy, and returned a map that scoring the copies gives (``accepted``: the correct map and the usual
    mistakes' maps on the same inputs)."""
    forwards = effects_of(call, "model")["forward_calls"]
    if forwards == 0:  # batching only counts for a function that scores the occluded copies at all
        fail(f"occlusion_map never called the model: score the {copies} occluded copies with it, batch_size at a "
             "time.")
    if forwards > max_forwards:
        fail(f"occlusion_map called the model {forwards} times for {copies} occluded copies with "
             f"batch_size={batch_size}: stack the occluded copies into one tensor and run the model on batch_size "
             "of them at a time.")
    one = nv.forward_cpu_seconds(build(ModelSpec(spec.name, seed=spec.seed, num_classes=spec.num_classes)), image)
    allowed = CPU_SHARE_OF_ONE_FORWARD_PER_COPY * copies * one
    if call.cpu_seconds > allowed:
        fail(f"occlusion_map took {call.cpu_seconds:.3g} s of CPU time for {copies} occluded copies, about "
             f"{math.floor(call.cpu_seconds / one)} forwards of this model ({one * 1e3:.2g} ms each here), although "
             f"{math.ceil(copies / batch_size)} batches of batch_size={batch_size} need about "
             f"{math.ceil(copies / batch_size)}: stack the occluded copies into one tensor and run the model on "
             "batch_size of them at a time (one forward per patch is what costs this time).")
    if not any(reproduces(call.value, value, atol, rtol) for value in accepted.values()):
        fail("batching only counts for a function that scores the occluded copies, and this map is none that "
             "scoring them gives: make the checks that compare the map with the expected one pass first.")


# guided_backprop (Springenberg et al. 2015, Fig. 1)


class _Rule(torch.autograd.Function):
    """ReLU (upper None) or ReLU6 forward; backward by a rule: plain, guided or deconvnet."""

    @staticmethod
    def forward(ctx, x, upper, rule):
        ctx.save_for_backward(x)
        ctx.upper, ctx.rule = upper, rule
        return x.clamp(0, upper)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        local = (x > 0) if ctx.upper is None else (x > 0) & (x < ctx.upper)  # the activation's own gradient
        if ctx.rule == "plain":
            return grad * local, None, None
        if ctx.rule == "guided":
            return grad.clamp(min=0) * local, None, None
        return grad.clamp(min=0), None, None  # deconvnet: the sign of the incoming gradient only


class _RuleActivation(nn.Module):
    def __init__(self, upper, rule):
        super().__init__()
        self.upper, self.rule = upper, rule

    def forward(self, x):
        return _Rule.apply(x, self.upper, self.rule)


def _with_rules(model: nn.Module, relu: str, relu6: str) -> nn.Module:
    """A copy of ``model`` whose ReLU and ReLU6 modules backpropagate by the given rules."""
    model = copy.deepcopy(model)
    for name, module in list(model.named_modules()):
        if isinstance(module, (nn.ReLU, nn.ReLU6)):
            parent, _, child = name.rpartition(".")
            six = isinstance(module, nn.ReLU6)
            setattr(model.get_submodule(parent) if parent else model, child,
                    _RuleActivation(6.0 if six else None, relu6 if six else relu))
    return model


def guided_mistakes(X: torch.Tensor, y: torch.Tensor, spec: ModelSpec) -> dict[str, torch.Tensor]:
    """The correct guided gradient (N, 3, H, W), then the usual mistakes on the same inputs."""
    base = build(spec)

    def gradient(relu: str, relu6: str, probability: bool = False) -> torch.Tensor:
        model = _with_rules(base, relu, relu6)

        def objective(x):
            scores = model(x)
            return (scores.softmax(dim=1) if probability else scores).gather(1, y.view(-1, 1)).sum()

        return _input_gradient(objective, X)

    return {
        "correct": gradient("guided", "guided"),
        PLAIN_GRADIENT: gradient("plain", "plain"),
        "keep ReLU's own mask too (pass gradient only where the activation was positive): clamping the incoming "
        "gradient alone is the deconvnet rule": gradient("deconvnet", "deconvnet"),
        "guide every nn.ReLU6 as well as every nn.ReLU": gradient("guided", "plain"),
        "backpropagate the raw score s_y, not the softmax probability": gradient("guided", "guided", True),
    }


def guided_by_hand(X: torch.Tensor, y: torch.Tensor, spec: ModelSpec) -> torch.Tensor:
    """On Linear-ReLU-Linear (``mlp``) the guided gradient is W1^T [(h > 0) * max(W2[y], 0)], (N, 3, 8, 8)."""
    net = build(spec).net
    with torch.no_grad():
        h = net[1](X.flatten(1))  # (N, 16) pre-activation
        upstream = (h > 0) * net[3].weight[y].clamp(min=0)  # (N, 16): forward and backward both positive
        return (upstream @ net[1].weight).view(X.shape)


# class_visualization_update_step (Simonyan et al. 2014, Sec. 2, eq. (1))


def classvis_mistakes(img: torch.Tensor, spec: ModelSpec, target_y: int, l2_reg: float,
                      learning_rate: float) -> dict[str, torch.Tensor]:
    """The correct image after one step (1, 3, H, W), then the usual mistakes on the same inputs."""
    model = build(spec)
    score = _input_gradient(lambda x: model(x)[0, target_y], img)  # d s_y / d img
    x = img.detach()

    def step(g: torch.Tensor, sign: float = 1.0) -> torch.Tensor:
        return x + sign * learning_rate * g / g.norm()

    g = score - 2 * l2_reg * x  # d (s_y - l2_reg ||x||^2) / dx
    return {
        "correct": step(g),
        "ascend: img += learning_rate * g / ||g|| (this step descends)": step(g, -1.0),
        "normalise the step: learning_rate * g / ||g||_2, not learning_rate * g": x + learning_rate * g,
        "regularise with the squared norm ||img||^2 (gradient 2 * l2_reg * img), not the norm ||img||":
            step(score - l2_reg * x / x.norm()),
        "subtract the regulariser: the objective is s_y - l2_reg * ||img||^2, not s_y + l2_reg * ||img||^2":
            step(score + 2 * l2_reg * x),
        "the gradient of l2_reg * ||img||^2 is 2 * l2_reg * img (a factor 2 is missing)": step(score - l2_reg * x),
        "include the regulariser: the objective is s_y - l2_reg * ||img||^2": step(score),
    }


def classvis_objective(img: torch.Tensor, spec: ModelSpec, target_y: int, l2_reg: float) -> float:
    """s_y(img) - l2_reg * ||img||^2, the objective one step must raise."""
    with torch.no_grad():
        return (build(spec)(img)[0, target_y] - l2_reg * img.pow(2).sum()).item()
