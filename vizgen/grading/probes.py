"""Probes: trusted grader code that runs next to the student's functions, in the same process.

Some results cannot cross the process boundary as plain data: an ``nn.Module`` a student builds,
an optimizer, a training run. A probe calls the student's function there and returns a plain
summary (layer list, parameter count, output shape, optimizer settings, logits before and after
training); the checks then judge the summary in the grader. Probes are named in ``PROBES``; a
request can only name one of these.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

# Constructor settings worth comparing, per layer type (anything else is compared by type only).
_SETTINGS = {
    nn.Linear: ("in_features", "out_features"),
    nn.Conv2d: ("in_channels", "out_channels", "kernel_size", "stride", "padding"),
    nn.ConvTranspose2d: ("in_channels", "out_channels", "kernel_size", "stride", "padding"),
    nn.LeakyReLU: ("negative_slope",),
    nn.MaxPool2d: ("kernel_size", "stride"),
    nn.BatchNorm1d: ("num_features",),
    nn.BatchNorm2d: ("num_features",),
    nn.Unflatten: ("dim", "unflattened_size"),
    nn.Flatten: ("start_dim", "end_dim"),
}


def describe_layer(module: nn.Module) -> str:
    """``"Linear(in_features=784, out_features=256)"``: type and the settings that define it."""
    names = next((v for k, v in _SETTINGS.items() if type(module) is k), ())
    settings = ", ".join(f"{n}={tuple(getattr(module, n)) if isinstance(getattr(module, n), list) else getattr(module, n)}" for n in names)
    return f"{type(module).__name__}({settings})"


def module_summary(build: Callable, *args, input_shape: tuple = (), **kwargs) -> dict:
    """Build a module with the student's function; return its leaf layers, parameter count and,
    given ``input_shape``, the output shape on a zero batch of that shape (train mode, no grad)."""
    module = build(*args, **kwargs)
    if not isinstance(module, nn.Module):
        return {"is_module": False, "type": type(module).__name__}
    leaves = [m for m in module.modules() if not list(m.children())]
    summary = {
        "is_module": True,
        "type": type(module).__name__,
        "layers": [describe_layer(m) for m in leaves],
        "parameters": sum(p.numel() for p in module.parameters()),
        "output_shape": (),
        "output_error": "",
    }
    if input_shape:
        try:
            with torch.no_grad():
                summary["output_shape"] = tuple(module(torch.zeros(*input_shape)).shape)
        except Exception as error:  # noqa: BLE001 - a wrong architecture fails here; report why
            summary["output_error"] = f"{type(error).__name__}: {error}"[:300]
    return summary


def optimizer_summary(get_optimizer: Callable, layer_sizes: tuple = (4, 3)) -> dict:
    """Call the student's ``get_optimizer`` on a small linear model; return the optimizer's type,
    hyperparameters of its first group and how many of the model's parameters it updates."""
    model = nn.Linear(*layer_sizes)
    optimizer = get_optimizer(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        return {"is_optimizer": False, "type": type(optimizer).__name__}
    group = optimizer.param_groups[0]
    covered = {id(p) for g in optimizer.param_groups for p in g["params"]}
    return {
        "is_optimizer": True,
        "type": type(optimizer).__name__,
        "lr": float(group.get("lr", float("nan"))),
        "betas": tuple(float(b) for b in group.get("betas", ())),
        "covered": sum(id(p) in covered for p in model.parameters()),
        "total": len(list(model.parameters())),
    }


def _tiny_gan(seed: int) -> tuple[nn.Module, nn.Module]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        disc = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.01), nn.Linear(16, 1))
        gen = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh())
    return disc, gen


def train_discriminator(loss: Callable, real: torch.Tensor, noise: torch.Tensor, steps: int = 30, seed: int = 0) -> dict:
    """Train a tiny discriminator with the student's D loss against a fixed tiny generator.

    Returns the discriminator's logits on the real batch and the fake batch before and after, so
    the grader can compute the true objective itself.
    """
    disc, gen = _tiny_gan(seed)
    optimizer = torch.optim.SGD(disc.parameters(), lr=0.05)
    with torch.no_grad():
        fake = gen(noise)  # (N, 8)
        before = (disc(real), disc(fake))
    for _ in range(steps):
        optimizer.zero_grad()
        loss(disc(real), disc(fake)).backward()
        optimizer.step()
    with torch.no_grad():
        after = (disc(real), disc(fake))
    return {"real_before": before[0], "fake_before": before[1], "real_after": after[0], "fake_after": after[1]}


def train_generator(loss: Callable, noise: torch.Tensor, steps: int = 30, seed: int = 0) -> dict:
    """Train a tiny generator with the student's G loss against a fixed tiny discriminator.

    Returns the discriminator's logits on the generated batch before and after.
    """
    disc, gen = _tiny_gan(seed)
    disc.requires_grad_(False)
    optimizer = torch.optim.SGD(gen.parameters(), lr=0.05)
    with torch.no_grad():
        before = disc(gen(noise))
    for _ in range(steps):
        optimizer.zero_grad()
        loss(disc(gen(noise))).backward()
        optimizer.step()
    with torch.no_grad():
        after = disc(gen(noise))
    return {"fake_before": before, "fake_after": after}


from vizgen.grading.gan_probes import discriminator_step_probe, generator_step_probe  # noqa: E402

PROBES: dict[str, Callable] = {
    "module_summary": module_summary,
    "optimizer_summary": optimizer_summary,
    "train_discriminator": train_discriminator,
    "train_generator": train_generator,
    "discriminator_step": discriminator_step_probe,
    "generator_step": generator_step_probe,
}
