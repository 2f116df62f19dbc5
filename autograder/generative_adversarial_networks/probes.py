"""What runs beside the student's code in the GAN assignment: probes that only record, and builders.

Everything here ships (the public checks import it) and runs in the student's process, so nothing
here computes a correct answer, a usual mistake's value or a verdict: those are the grader's
(``judge.py`` for the hidden checks, stored public references and hand-computed literals for the
public ones).

Probes (``SUPPORT``):

- ``module_layers``: builds the student's network, fills its parameters with values drawn from the
  grader's seed and runs it on the grader's input; returns each leaf layer's type and settings and
  the output. The checks rebuild that chain in the grader (``rebuild_chain``, same seed) and require
  the rebuilt network to reproduce the output, so a report of the right layers for a wrong network
  fails; the layer list, parameter count and output shape the checks judge are the rebuilt chain's.
- ``optimizer_steps``: calls the student's ``get_optimizer`` on a small linear model with the grader's
  weights, feeds it the grader's gradients for a few steps and returns the weights after each, with
  the optimizer's class name and settings. The checks replay the reported optimizer in the grader.
- ``discriminator_step`` / ``generator_step``: build tiny players from the grader's parameters, run
  the student's step (with a stand-in loss, below) and return the parameters after, the gradients
  that reached the other player and the losses the step returned. The grader rebuilds the same
  players and computes the correct change itself.

The steps are called with the critic losses of a Wasserstein GAN (Arjovsky et al. 2017), which the
notebook does not grade: ``critic_loss(real, fake) = mean(fake) - mean(real)`` and
``critic_generator_loss(fake) = -mean(fake)``; a step must use whatever loss it is given.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from vizgen.author import Support

# What each loss computes, told to a student whose value reproduces none of the usual mistakes.
DISCRIMINATOR_FORMULA = ("the binary cross-entropy of the real logits against label 1, averaged over the real batch, "
                         "plus that of the fake logits against label 0, averaged over the fake batch (Goodfellow et "
                         "al. 2014, eq. 1, negated), computed on the logits")
GENERATOR_FORMULA = ("the binary cross-entropy of the fake logits against label 1, averaged over the batch (the "
                     "non-saturating loss of Goodfellow et al. 2014, Sec. 3), computed on the logits")
LS_DISCRIMINATOR_FORMULA = ("one half the mean squared distance of the real scores from 1 plus one half the mean "
                            "squared fake score (Mao et al. 2017, eq. 9 with a = 0, b = c = 1)")
LS_GENERATOR_FORMULA = "one half the mean squared distance of the fake scores from 1 (Mao et al. 2017, eq. 9)"


# ----- networks: the leaf layers as data, and the chain rebuilt from them -----

# Constructor arguments recorded per layer type: enough to rebuild the layer exactly.
LAYER_SETTINGS = {
    "Linear": ("in_features", "out_features", "bias"),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
               "padding_mode"),
    "ConvTranspose2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
                        "bias", "dilation", "padding_mode"),
    "LeakyReLU": ("negative_slope",),
    "ReLU": (),
    "Tanh": (),
    "Sigmoid": (),
    "Identity": (),
    "Dropout": ("p",),
    "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "BatchNorm2d": ("num_features", "eps", "momentum", "affine", "track_running_stats"),
    "Flatten": ("start_dim", "end_dim"),
    "Unflatten": ("dim", "unflattened_size"),
}


def _setting(layer: nn.Module, name: str):
    if name == "bias" and isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        return layer.bias is not None
    value = getattr(layer, name, None)
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def leaf_layers(module: nn.Module) -> list[tuple[nn.Module, int]]:
    """The leaf modules in the order they were registered, repeats kept: (layer, index of its first use)."""
    leaves, first = [], {}
    for _, layer in module.named_modules(remove_duplicate=False):
        if not list(layer.children()):
            first.setdefault(id(layer), len(leaves))
            leaves.append((layer, first[id(layer)]))
    return leaves


def fill_parameters(layers: Sequence[nn.Module], seed: int) -> None:
    """Overwrite the parameters of ``layers`` (in order; a repeated layer once) with values drawn from ``seed``:
    weights uniform in +-1/sqrt(fan in), the rest uniform in +-0.5. The grader draws the same values."""
    generator = torch.Generator().manual_seed(seed)
    done = set()
    with torch.no_grad():
        for layer in layers:
            if id(layer) in done:
                continue
            done.add(id(layer))
            for _, p in layer.named_parameters(recurse=False):
                scale = 1 / max(1, p[0].numel()) ** 0.5 if p.dim() >= 2 else 0.5
                p.copy_((torch.rand(p.shape, generator=generator, dtype=torch.float32) * 2 - 1) * scale)


def module_layers(build: Callable, *args, seed: int = 0, x: torch.Tensor | None = None, **kwargs) -> dict:
    """Build the student's network; return its leaf layers (type, settings, training flag, first use), how
    many parameter values lie outside them, and, given ``x``, its output on ``x`` after ``fill_parameters``
    with ``seed`` (no grad, the mode it was built in), or the error that forward raised."""
    module = build(*args, **kwargs)
    if not isinstance(module, nn.Module):
        return {"is_module": False, "type": type(module).__name__}
    leaves = leaf_layers(module)
    inside = {id(p) for layer, _ in leaves for p in layer.parameters(recurse=False)}
    record = {
        "is_module": True,
        "type": type(module).__name__,
        "layers": [{"type": type(layer).__name__, "module": type(layer).__module__, "same_as": first,
                    "training": layer.training,
                    "settings": {n: _setting(layer, n) for n in LAYER_SETTINGS.get(type(layer).__name__, ())}}
                   for layer, first in leaves],
        "outside": sum(p.numel() for p in module.parameters() if id(p) not in inside),
        "output": None,
        "output_error": "",
    }
    fill_parameters([layer for layer, _ in leaves], seed)
    if x is not None:
        try:
            with torch.no_grad():
                record["output"] = module(x)
        except Exception as error:  # noqa: BLE001 - a wrong architecture fails here; report why
            record["output_error"] = f"{type(error).__name__}: {error}"[:300]
    return record


def rebuild_chain(record: dict, seed: int) -> nn.Sequential | str:
    """The chain of standard layers ``record`` (a ``module_layers`` report) describes, each layer in its
    recorded mode, parameters drawn from ``seed`` as the probe drew them; or why it cannot be rebuilt."""
    built: list[nn.Module] = []
    for k, layer in enumerate(record["layers"]):
        kind = layer["type"]
        if layer["same_as"] != k:
            built.append(built[layer["same_as"]])
            continue
        if kind not in LAYER_SETTINGS or not str(layer["module"]).startswith("torch.nn"):
            return f"layer {k + 1} is a {kind}, which is not one of the torch.nn layers these checks rebuild"
        try:
            made = getattr(nn, kind)(**layer["settings"])
        except Exception as error:  # noqa: BLE001 - settings no constructor accepts: a forged report
            return f"layer {k + 1} ({kind}) has settings its constructor refuses ({type(error).__name__})"
        built.append(made.train(bool(layer["training"])))
    chain = nn.Sequential(*built)
    fill_parameters(built, seed)
    return chain


# ----- optimizers: a few steps on the grader's weights and gradients -----

def linear_model(weights: Sequence[torch.Tensor]) -> nn.Module:
    """nn.Linear layers from (weight, bias) pairs, in a Sequential when there are several."""
    layers = []
    for w, b in zip(weights[0::2], weights[1::2]):
        layer = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            layer.weight.copy_(w)
            layer.bias.copy_(b)
        layers.append(layer)
    return layers[0] if len(layers) == 1 else nn.Sequential(*layers)


def _plain_setting(value) -> bool:
    if isinstance(value, (tuple, list)):
        return all(_plain_setting(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, torch.Tensor))


def optimizer_steps(get_optimizer: Callable, weights: Sequence[torch.Tensor],
                    grads: Sequence[Sequence[torch.Tensor]]) -> dict:
    """``get_optimizer(model)`` for the linear model ``weights`` make; then, for each entry of ``grads`` (one
    gradient per parameter), set the gradients and call ``step()``. Returns the optimizer's class, each
    parameter group's settings and parameter indices, and the flattened parameters after each step."""
    model = linear_model(weights)
    optimizer = get_optimizer(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"is_optimizer": False, "type": type(optimizer).__name__}
    params = list(model.parameters())
    index = {id(p): i for i, p in enumerate(params)}
    groups = [{"params": [index.get(id(p), -1) for p in group["params"]],
               "settings": {k: v for k, v in group.items() if k != "params" and _plain_setting(v)}}
              for group in optimizer.param_groups]
    trajectory = []
    for step in grads:
        for p, g in zip(params, step):
            p.grad = g.clone()
        optimizer.step()
        trajectory.append(torch.cat([p.detach().flatten() for p in params]).clone())
    return {"is_optimizer": True, "type": type(optimizer).__name__, "module": type(optimizer).__module__,
            "groups": groups, "total": len(params), "trajectory": trajectory}


def replay_optimizer(report: dict, weights: Sequence[torch.Tensor], grads: Sequence[Sequence[torch.Tensor]]
                     ) -> list[torch.Tensor] | str:
    """The flattened parameters after each step that the optimizer an ``optimizer_steps`` report describes (its
    torch.optim class, groups and settings) takes from ``weights`` with ``grads``; or what it is, when it is not
    a torch.optim optimizer that can be rebuilt from its settings."""
    kind = report["type"]
    cls = getattr(torch.optim, kind, None)
    if not str(report.get("module", "")).startswith("torch.optim") or not (
            isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        return f"a {kind}, which is not a torch.optim optimizer"
    model = linear_model(weights)
    params = list(model.parameters())
    groups = [{**g["settings"], "params": [params[i] for i in g["params"] if 0 <= i < len(params)]}
              for g in report["groups"]]
    groups = [g for g in groups if g["params"]]
    if not groups:
        return [torch.cat([p.detach().flatten() for p in params]).clone() for _ in grads]
    try:
        optimizer = cls(groups)
    except Exception as error:  # noqa: BLE001 - settings its constructor refuses: not what it reports
        return f"a {kind} whose settings its constructor refuses ({type(error).__name__})"
    trajectory = []
    for step in grads:
        for p, g in zip(params, step):
            p.grad = g.clone()
        optimizer.step()
        trajectory.append(torch.cat([p.detach().flatten() for p in params]).clone())
    return trajectory


def optimizer_facts(report: dict) -> dict:
    """What the checks read from an ``optimizer_steps`` report: the first group's lr and betas, and how many of
    the model's parameter tensors some group holds."""
    first = report["groups"][0]["settings"] if report["groups"] else {}
    lr = first.get("lr", float("nan"))
    covered = {i for g in report["groups"] for i in g["params"] if 0 <= i < report["total"]}
    return {"lr": float(lr), "betas": tuple(float(b) for b in first.get("betas", ())), "covered": len(covered)}


# ----- the update steps: tiny players and stand-in losses -----

def critic_loss(scores_real: torch.Tensor, scores_fake: torch.Tensor) -> torch.Tensor:
    """A Wasserstein critic's loss (Arjovsky et al. 2017): the stand-in discriminator loss the steps get."""
    return scores_fake.mean() - scores_real.mean()


def critic_generator_loss(scores_fake: torch.Tensor) -> torch.Tensor:
    """The Wasserstein generator's loss: the stand-in generator loss the steps get."""
    return -scores_fake.mean()


def players(d_params: Sequence[torch.Tensor], g_params: Sequence[torch.Tensor]) -> tuple[nn.Module, nn.Module]:
    """Tiny players from (weight, bias) pairs: D = Linear layers with LeakyReLU(0.01) between them; G = Linear
    layers with ReLU between them, then Tanh."""
    def chain(params, act, last):
        layers = []
        for k, (w, b) in enumerate(zip(params[0::2], params[1::2])):
            layers += [act()] if k else []
            layers.append(nn.Linear(w.shape[1], w.shape[0]))
            with torch.no_grad():
                layers[-1].weight.copy_(w)
                layers[-1].bias.copy_(b)
        return nn.Sequential(*layers, *last)

    return chain(d_params, lambda: nn.LeakyReLU(0.01), []), chain(g_params, nn.ReLU, [nn.Tanh()])


def flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()]).clone()  # (P,)


def fill_stale(model: nn.Module, value: float) -> None:
    """Leave ``value`` in every ``.grad`` of ``model``, as the other player's step does in training."""
    for p in model.parameters():
        p.grad = torch.full_like(p, value)


def grad_mass(model: nn.Module) -> float:
    return float(sum(p.grad.abs().sum() for p in model.parameters() if p.grad is not None))


def loss_value(result) -> float:
    """The loss a step returned (the first element of a tuple), as a float; NaN when it is not a scalar tensor."""
    first = result[0] if isinstance(result, (tuple, list)) and result else result
    if isinstance(first, torch.Tensor) and first.numel() == 1:
        return float(first.detach())
    return float("nan")


def discriminator_step_probe(step: Callable, d_params: list, g_params: list, real: torch.Tensor, z: torch.Tensor,
                             lr: float = 0.1, steps: int = 1, stale: float | None = None) -> dict:
    """``steps`` calls of the student's ``discriminator_step`` on the players ``d_params`` and ``g_params`` make
    (D's ``.grad`` first filled with ``stale``), one SGD over D's parameters, the critic loss: D's and G's
    parameters after, the gradient mass left on G and the loss each call returned."""
    disc, gen = players(d_params, g_params)
    if stale is not None:
        fill_stale(disc, stale)
    solver = torch.optim.SGD(disc.parameters(), lr=lr)
    losses = [loss_value(step(disc, gen, solver, critic_loss, real, z)) for _ in range(steps)]
    return {"d_after": flat(disc), "g_after": flat(gen), "g_grad": grad_mass(gen), "losses": losses}


def generator_step_probe(step: Callable, d_params: list, g_params: list, z: torch.Tensor, lr: float = 0.1,
                         steps: int = 1, stale: float | None = None) -> dict:
    """``steps`` calls of the student's ``generator_step`` (G's ``.grad`` first filled with ``stale``), one SGD
    over G's parameters, the critic's generator loss: G's and D's parameters after and the losses returned."""
    disc, gen = players(d_params, g_params)
    if stale is not None:
        fill_stale(gen, stale)
    solver = torch.optim.SGD(gen.parameters(), lr=lr)
    losses = [loss_value(step(disc, gen, solver, critic_generator_loss, z)) for _ in range(steps)]
    return {"g_after": flat(gen), "d_after": flat(disc), "losses": losses}


SUPPORT = Support(probes={
    "module_layers": module_layers,
    "optimizer_steps": optimizer_steps,
    "discriminator_step": discriminator_step_probe,
    "generator_step": generator_step_probe,
})
