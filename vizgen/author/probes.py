"""Probes: trusted grader code that runs next to the student's functions, in the same process.

Some results cannot cross the process boundary as plain data: an ``nn.Module`` a student builds,
an optimizer, a training run. A probe calls the student's function there and returns a plain
summary (layer list, parameter count, output shape, optimizer settings, logits before and after
training); the checks then judge the summary in the grader. ``PROBES`` holds the probes every
assignment may use; an assignment registers its own in its support module (``support.Support``).
A request can only name a registered probe.
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
    settings = ", ".join(
        f"{n}={tuple(getattr(module, n)) if isinstance(getattr(module, n), list) else getattr(module, n)}"
        for n in names)
    return f"{type(module).__name__}({settings})"


def module_summary(build: Callable, *args, input_shape: tuple = (),
                   describe: Callable[[nn.Module], str] = describe_layer, **kwargs) -> dict:
    """Build a module with the student's function; return its leaf layers (as ``describe`` writes them),
    parameter count and, given ``input_shape``, the output shape on a zero batch of that shape (train
    mode, no grad)."""
    module = build(*args, **kwargs)
    if not isinstance(module, nn.Module):
        return {"is_module": False, "type": type(module).__name__}
    leaves = [m for m in module.modules() if not list(m.children())]
    summary = {
        "is_module": True,
        "type": type(module).__name__,
        "layers": [describe(m) for m in leaves],
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


def count_torch_calls(function: Callable, *args, **kwargs) -> dict:
    """Call the student's function; return its value and how many torch functions and tensor methods it
    called (slicing and arithmetic included). A loop over pixels or pairs shows as thousands of calls
    on a small input, on any machine: unlike a time limit, this oracle does not depend on the CPU."""
    from torch.overrides import TorchFunctionMode

    class Counter(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.calls += 1
            return func(*args, **(kwargs or {}))

    with Counter() as counter:
        value = function(*args, **kwargs)
    return {"value": value, "calls": counter.calls}



PROBES: dict[str, Callable] = {
    "module_summary": module_summary,
    "optimizer_summary": optimizer_summary,
    "count_torch_calls": count_torch_calls,
}
