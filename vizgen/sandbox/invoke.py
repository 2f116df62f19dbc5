"""Call one student function and record what it did besides returning: the side-effect report.

Shared by the child process and the in-notebook runner, so both grade alike. The report is
plain data (ints and bools) so it can cross back to the grader.
"""

from __future__ import annotations

import contextlib
import functools
import time
import traceback
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from torch.nn.modules import module as module_globals

from vizgen.course.notebook import STUDENT_PREFIX
from vizgen.author.support import Support
from vizgen.sandbox.wire import NotPlainData, plain
from vizgen.course.config import CoursePaths
from vizgen.author.models import CountingModel, ModelSpec



def count_hooks(model: nn.Module) -> int:
    """Hooks registered on a model's modules (forward, pre-forward, backward) plus global module hooks."""
    per_module = sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) + len(m._backward_pre_hooks)
        for m in model.modules()
    )
    global_hooks = (
        len(module_globals._global_forward_hooks)
        + len(module_globals._global_forward_pre_hooks)
        + len(module_globals._global_backward_hooks)
        + len(module_globals._global_backward_pre_hooks)
    )
    return per_module + global_hooks


def _model_state(model: nn.Module) -> dict:
    return {
        "hooks": count_hooks(model),
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
    }


def _model_effects(before: dict, model: nn.Module) -> dict:
    after = _model_state(model)
    return {
        "hooks_added": after["hooks"] - before["hooks"],
        "mode_changed": before["training"] != after["training"],
        "now_training": model.training,
        "requires_grad_changed": sum(a != b for a, b in zip(before["requires_grad"], after["requires_grad"])),
        "param_grads_left": sum(p.grad is not None for p in model.parameters()),
        "forward_calls": model.calls if isinstance(model, CountingModel) else -1,
    }


def _snapshot(value: torch.Tensor | np.ndarray) -> tuple:
    if isinstance(value, np.ndarray):
        return value.copy(), False
    return value.detach().clone(), value.requires_grad


def _array_effects(before: tuple, value: torch.Tensor | np.ndarray) -> dict:
    copy, flag = before
    if isinstance(value, np.ndarray):
        return {"mutated": not np.array_equal(copy, value), "requires_grad_changed": False}
    same = copy.shape == value.shape and torch.equal(copy, value.detach())
    return {"mutated": not same, "requires_grad_changed": flag != value.requires_grad}


def _after(value: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    return value if isinstance(value, np.ndarray) else value.detach()


def _error_report(error: BaseException) -> dict:
    """Type, message and the student's own frames of the traceback (the grader's are left out).
    All of it is student text: capped, so a student cannot flood the feedback."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(STUDENT_PREFIX)]
    where = [f"{f.filename[1:-1]}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}"[:200] for f in frames[-3:]]
    return {"type": type(error).__name__[:100], "message": str(error)[:500], "where": where}


def materialize(value: Any, models: dict, device: str, paths: CoursePaths | None, support: Support) -> Any:
    """A private copy of call arguments: model specs built (one model per spec, from the engine's and the
    assignment's models in ``support``), tensors copied to the device."""
    if isinstance(value, ModelSpec):
        if value not in models:
            models[value] = support.build_model(value, paths).to(device)
        return models[value]
    if isinstance(value, torch.Tensor):
        return value.detach().to(device, copy=True).requires_grad_(value.requires_grad)
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(materialize(v, models, device, paths, support) for v in value)
    if isinstance(value, dict):
        return {k: materialize(v, models, device, paths, support) for k, v in value.items()}
    return value


def _leaves(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value] if value.requires_grad else []
    return ([t for t in value if isinstance(t, torch.Tensor) and t.requires_grad]
            if isinstance(value, (list, tuple)) else [])


def _gradients(value: Any, inputs: dict) -> dict:
    """d value / d input for each named input, a tensor or a list of tensors (zeros where none flows; None for a
    list's items that require no grad), or why there are none."""
    if not isinstance(value, torch.Tensor) or value.numel() != 1 or not value.requires_grad:
        return {"why": "the value is not a scalar tensor with a gradient graph"}
    leaves = [leaf for x in inputs.values() for leaf in _leaves(x)]
    found = iter(torch.autograd.grad(value.sum(), leaves, allow_unused=True) if leaves else ())
    out = {}
    for key, x in inputs.items():
        items = [x] if isinstance(x, torch.Tensor) else list(x)
        grads = []
        for item in items:
            if isinstance(item, torch.Tensor) and item.requires_grad:
                g = next(found)
                grads.append((g if g is not None else torch.zeros_like(item)).detach())
            else:
                grads.append(None)
        out[str(key)] = grads[0] if isinstance(x, torch.Tensor) else grads
    return out


def _seed_everything(seed: int) -> None:
    """The process's random streams, seeded: a call repeated with the same seed draws the same noise."""
    import random

    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def invoke(fn: Callable, args: list, kwargs: dict, gradients: list | None = None, seed: int | None = None) -> dict:
    """Run ``fn(*args, **kwargs)``; return {result, args_after, effects, error, seconds} as plain data,
    and, when ``gradients`` names arguments (positions or keywords), "gradients": the gradient of the
    scalar result with respect to each of them: the student's function's own derivative on the
    grader's inputs, for loops that the grader runs itself (a descent on a student's loss).

    Catches every exception, ``SystemExit`` and ``KeyboardInterrupt`` included: a student's
    ``sys.exit()`` costs that call, not the grading.
    """
    named = list(enumerate(args)) + list(kwargs.items())
    models = {k: (v, _model_state(v)) for k, v in named if isinstance(v, nn.Module)}
    arrays = {k: (_snapshot(v), v) for k, v in named if isinstance(v, (torch.Tensor, np.ndarray))}
    wrt = {k: v for k, v in named if k in (gradients or []) and _leaves(v)}
    start = time.perf_counter()
    outcome: dict[str, Any] = {"result": None, "error": None}
    try:
        if seed is not None:
            _seed_everything(seed)
        value = fn(*args, **kwargs)
        if gradients:
            outcome["gradients"] = _gradients(value, wrt)
        outcome["result"] = plain(value, "the return value")
    except NotPlainData as error:
        outcome["error"] = {"type": "NotPlainData", "message": str(error), "where": []}
    except BaseException as error:  # noqa: BLE001 - student code may raise anything, SystemExit too
        outcome["error"] = _error_report(error)
    outcome["seconds"] = time.perf_counter() - start
    outcome["effects"] = {str(k): _model_effects(state, m) for k, (m, state) in models.items()}
    outcome["effects"].update({str(k): _array_effects(before, v) for k, (before, v) in arrays.items()})
    outcome["args_after"] = {str(k): _after(v) for k, (_, v) in arrays.items()}
    return outcome


def run_request(fn: Callable, probe: str | None, args: list, kwargs: dict, device: str, paths: CoursePaths | None,
                support: Support, gradients: list | None = None, seed: int | None = None) -> dict:
    """One call as every runner makes it: private copies of the arguments (models built from their
    specs, on ``device``), the probe ``support.probes[probe]`` wrapped around ``fn`` when one is named
    (code that runs beside the student's and only records), then ``invoke``."""
    models: dict = {}
    target = functools.partial(support.probes[probe], fn) if probe else fn
    return invoke(target, materialize(args, models, device, paths, support),
                  materialize(kwargs, models, device, paths, support), gradients, seed)


@contextlib.contextmanager
def given_bindings(namespace: dict, cells: list):
    """The reference definitions a function is given, bound in the notebook's namespace for one call (its
    functions read their globals there), then the student's own bindings restored."""
    if not cells:
        yield
        return
    scratch = dict(namespace)
    for filename, code in cells:
        exec(compile(code, filename, "exec"), scratch)
    changed = {k: v for k, v in scratch.items() if k not in namespace or namespace[k] is not v}
    saved = {k: namespace[k] for k in changed if k in namespace}
    namespace.update(changed)
    try:
        yield
    finally:
        for key in changed:
            if key in saved:
                namespace[key] = saved[key]
            else:
                namespace.pop(key, None)
