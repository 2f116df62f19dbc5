"""Runners call a student's functions for the checks and hand back a ``Call``; all of them are here.

``SandboxRunner`` runs the submission's functions in a confined worker (``worker``): only plain data
crosses back, and a hang, crash or ``sys.exit`` costs only the calls of that function.
``KernelRunner`` is the nbgrader check server's: the confined kernel answers each call.
``InProcessRunner`` calls functions from a live notebook namespace (a student's self-check). All three
call through the same ``invoke``, so that they grade alike.
"""

from __future__ import annotations

import inspect
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import InitVar, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from vizgen.course.config import CoursePaths, GradingConfig
from vizgen.sandbox import confine, wire
from vizgen.author import messages
from vizgen.course.notebook import Submission
from vizgen.author.call import Call
from vizgen.sandbox.invoke import given_bindings, run_request
from vizgen.sandbox.spawn import WorkerHandle, spawn_worker
from vizgen.author.support import Support, engine_support, load_support


class Runner(Protocol):
    def call(self, function: str, *args: Any, device: str = "cpu", **kwargs: Any) -> Call: ...

    def probe(self, probe: str, function: str, *args: Any, **kwargs: Any) -> Call: ...

    def differentiate(self, function: str, *args: Any, wrt: tuple = (), **kwargs: Any) -> Call: ...

    def close(self) -> None: ...


def _by_name(report: dict, params: list[str]) -> dict:
    """Key a per-argument report by parameter name: positions ("0") become the parameter's name."""
    return {params[int(k)] if k.isdigit() and int(k) < len(params) else k: v for k, v in report.items()}


def _same(sent: Any, after: Any) -> bool:
    if isinstance(sent, torch.Tensor) and isinstance(after, torch.Tensor):
        return sent.shape == after.shape and torch.equal(sent.detach().cpu(), after.detach().cpu())
    if isinstance(sent, np.ndarray) and isinstance(after, np.ndarray):
        return sent.shape == after.shape and np.array_equal(sent, after)
    return False


def _to_call(function: str, cell: str, outcome: dict, params: list[str], sent: dict, cpu_seconds: float) -> Call:
    """``params``: the function's parameter names (none for a probe, whose arguments are the probe's);
    ``sent``: the tensor and array arguments as the grader sent them, by position or keyword. Whether an
    argument was modified is decided here, from its value after the call, not by the student's process."""
    effects = outcome.get("effects", {})
    after = outcome.get("args_after", {})
    for key, value in sent.items():
        if key in effects and "mutated" in effects[key]:
            effects[key]["mutated"] = not _same(value, after.get(key))
    effects = _by_name(effects, params)
    if outcome.get("error"):
        raise messages.student_error(function, cell, outcome["error"], effects)
    return Call(function, outcome["result"], _by_name(after, params), effects, outcome.get("output", ""),
                outcome.get("seconds", 0.0), params, _by_name(outcome.get("gradients", {}), params), cpu_seconds)


def _sent_arrays(args: list, kwargs: dict) -> dict:
    named = list(enumerate(args)) + list(kwargs.items())
    return {str(k): v for k, v in named if isinstance(v, (torch.Tensor, np.ndarray))}


class _Requests:
    """``call``, ``probe`` and ``differentiate`` for every runner; each runner implements ``_request``."""

    support: Support

    def call(self, function: str, *args: Any, device: str = "cpu", **kwargs: Any) -> Call:
        return self._request(function, None, list(args), kwargs, device, None)

    def probe(self, probe: str, function: str, *args: Any, **kwargs: Any) -> Call:
        """Run probe ``probe`` (the engine's or the assignment's, see ``support``) around ``function``."""
        if probe not in self.support.probes:
            raise ValueError(f"unknown probe {probe!r}: use one of {', '.join(self.support.probes)} "
                             "(or register it in the assignment's probes module).")
        return self._request(function, probe, list(args), kwargs, "cpu", None)

    def differentiate(self, function: str, *args: Any, wrt: tuple = (), verify: bool = False, **kwargs: Any) -> Call:
        """Call ``function`` and return, in ``Call.gradients``, the gradient of its scalar result with respect
        to the arguments ``wrt`` names (positions or keywords; send those tensors with requires_grad).

        The gradients are computed in the student's process, which could report others than its function
        has. ``verify`` checks them against the function's values: two more calls, with the same random
        seed, at the arguments moved by +-eps along a random direction, give the directional derivative
        by central differences; ``Call.gradient_check`` holds it beside the one the reported gradients
        give (``expect_gradients`` judges them)."""
        if not verify:
            return self._request(function, None, list(args), kwargs, "cpu", list(wrt))
        seed = secrets.randbelow(2**31)
        call = self._request(function, None, list(args), kwargs, "cpu", list(wrt), seed)
        generator = torch.Generator().manual_seed(seed)
        moved = {key: _differentiable(args, kwargs, key) for key in wrt}  # key -> [tensor or None, ...]
        reported_grads = {}
        for key in wrt:
            name = call.params[key] if isinstance(key, int) and key < len(call.params) else str(key)
            grads = call.gradients.get(name)
            grads = [grads] if isinstance(grads, torch.Tensor) else list(grads or [])
            reported_grads[key] = [g if isinstance(g, torch.Tensor) else None for g in grads] + [None] * len(moved[key])
        random_direction = {k: [torch.randn(t.shape, generator=generator, dtype=t.dtype) if t is not None else None
                                for t in ts] for k, ts in moved.items()}
        along_gradient = {k: [g.to(t.dtype) if t is not None and g is not None and g.shape == t.shape else None
                              for t, g in zip(ts, reported_grads[k])] for k, ts in moved.items()}
        eps = 1e-3 * max(1.0, *(float(t.detach().abs().max()) for ts in moved.values() for t in ts if t is not None))
        checks = []
        for direction in (random_direction, along_gradient):  # a random one, and the reported gradient's own
            norm = sum(float(d.double().pow(2).sum()) for ds in direction.values() for d in ds if d is not None) ** 0.5
            if norm == 0:
                continue
            direction = {k: [d / norm if d is not None else None for d in ds] for k, ds in direction.items()}
            values = [self._shifted_value(function, args, kwargs, moved, direction, sign * eps, seed)
                      for sign in (1, -1)]
            reported = sum(float((g.double() * d.double()).sum()) for k in wrt
                           for g, d in zip(reported_grads[k], direction[k]) if g is not None and d is not None)
            checks.append({"reported": reported, "measured": (values[0] - values[1]) / (2 * eps),
                           "noise": 1e-6 * (abs(values[0]) + abs(values[1])) / eps})
        call.gradient_check = {"directions": checks}
        return call

    def _shifted_value(self, function: str, args: list, kwargs: dict, moved: dict, direction: dict, step: float,
                       seed: int) -> float:
        """The function's value with the ``moved`` tensors shifted by ``step`` along ``direction`` (same seed)."""
        shifted_args, shifted_kwargs = list(args), dict(kwargs)
        for key, tensors in moved.items():
            shifted = [t if t is None or d is None else (t.detach() + step * d).requires_grad_(t.requires_grad)
                       for t, d in zip(tensors, direction[key])]
            original = args[key] if isinstance(key, int) else kwargs[key]
            shifted = shifted[0] if isinstance(original, torch.Tensor) else type(original)(
                s if s is not None else o for s, o in zip(shifted, original))
            if isinstance(key, int):
                shifted_args[key] = shifted
            else:
                shifted_kwargs[key] = shifted
        value = self._request(function, None, shifted_args, shifted_kwargs, "cpu", None, seed).value
        return float(torch.as_tensor(value).detach().double())

    def _request(self, function: str, probe: str | None, args: list, kwargs: dict, device: str,
                 gradients: list | None, seed: int | None = None) -> Call:
        raise NotImplementedError


def _differentiable(args: list, kwargs: dict, key: int | str) -> list:
    """The tensors of argument ``key`` (a tensor, or a list or tuple of them) that the gradient is taken for;
    None in place of a list's items that require no grad."""
    value = args[key] if isinstance(key, int) else kwargs[key]
    items = [value] if isinstance(value, torch.Tensor) else list(value) if isinstance(value, (list, tuple)) else []
    found = [t if isinstance(t, torch.Tensor) and t.requires_grad else None for t in items]
    if not any(t is not None for t in found):
        raise TypeError(f"differentiate(wrt=...) names {key!r}: send a tensor (or a list of tensors) "
                        "with requires_grad")
    return found


def _check_signature(function: str, params: list[str], expected: dict[str, list[str]]) -> None:
    want = expected.get(function)
    if want is not None and params[: len(want)] != want:
        raise messages.wrong_signature(function, params, want)


@dataclass
class SandboxRunner(_Requests):
    """Runs a submission's functions in a confined worker (``worker``), started at construction or
    handed in already started (its imports then overlap the grader's). Restarted after it dies."""

    submission: Submission
    expected: dict[str, list[str]]  # function -> parameter names of the starter code
    paths: CoursePaths | None
    denied: list[str]
    config: GradingConfig = field(default_factory=GradingConfig)
    broken: dict[str, str] = field(default_factory=dict)  # function -> why later calls are skipped
    warm_imports: tuple[str, ...] = ()  # the assignment's (see spawn); also for workers restarted here
    worker: InitVar[WorkerHandle | None] = None  # a worker started early (see spawn); else one is started here
    protection: confine.Protection | None = None  # the kernel confinement (default: confine.plan(config.isolation))
    readable: tuple[Path, ...] = ()  # besides Python, vizgen and the assets: what student code may read
    support: Support = field(default_factory=engine_support)  # probes and models; the worker imports the same
    given: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # function -> reference cells, run last

    def __post_init__(self, worker: WorkerHandle | None = None) -> None:
        if self.protection is None:
            self.protection = confine.plan(self.config.isolation)
        self._worker: WorkerHandle | None = None
        self._ready: dict | None = None
        self._exit: int | None = None
        self._scratch: list[str] = []  # each worker's folder: made here, removed when grading ends
        self._start(worker)

    def _readable(self) -> list[Path]:
        assets = [self.paths.cache, self.paths.styles] if self.paths else []
        return [p for p in [*assets, *self.readable] if p.exists()]

    @property
    def isolation_note(self) -> str:
        """Set when the worker could not apply the planned confinement (then it graded with less)."""
        error = (self._ready or {}).get("isolation_error", "")
        if not error:
            return ""
        if self.config.require_isolation:
            return f"grading refused: {error}; --require-isolation needs kernel confinement."
        return f"isolation degraded to audit hooks: {error}."

    def _start(self, worker: WorkerHandle | None = None) -> None:
        settings = {
            "denied": self.denied,
            "root": str(self.paths.root) if self.paths else None,
            "readable": [str(p) for p in self._readable()],
            "threads": self.config.torch_threads,
            "max_output_chars": self.config.max_output_chars,
            "cuda": self.config.cuda,
            "isolation": self.protection.level,
            "contain": True,
            "require_kernel": self.config.require_isolation,
            "call_timeout_s": self.config.call_timeout_s,
            "max_reply_bytes": self.config.max_reply_mb * 2**20,
            "limits": self.config.limits(),
            "support": str(self.support.file) if self.support.file else None,
            "scratch": tempfile.mkdtemp(prefix="vizgen-student-"),
        }
        self._scratch.append(settings["scratch"])
        functions = {name: self.submission.cells_for(name) + self.given.get(name, [])
                     for name in self.submission.functions}
        self._worker = worker or spawn_worker(self.warm_imports)
        self._worker.send.send_bytes(wire.encode({"settings": settings, "functions": functions}))
        self._ready = None

    _GRACE_S = 10.0  # the worker enforces call_timeout_s itself; this only catches a worker that hangs

    def _receive(self, timeout: float, raw: bool = False) -> Any:
        """The worker's next message (decoded, or as bytes), or None if it hung or died (``_exit`` says which)."""
        try:
            if self._worker.recv.poll(timeout):
                data = self._worker.recv.recv_bytes()
                return data if raw else wire.decode(data)
        except (EOFError, OSError):
            pass
        try:
            self._exit = self._worker.process.wait(0.5)
        except subprocess.TimeoutExpired:
            self._exit = None  # still running, so it hung
        self._stop()
        return None

    def _stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        self._worker = None

    def ready(self) -> dict:
        """The worker's report once it is confined: {"isolation_error": ...} (starting it if needed)."""
        if self._worker is None:
            self._start()
        if self._ready is None:
            report = self._receive(self.config.startup_timeout_s)
            self._ready = report or {"isolation_error": "", "failed": (
                f"the grading worker did not start within {self.config.startup_timeout_s:.0f} s (or crashed)")}
        return self._ready

    def _request(self, function: str, probe: str | None, args: list, kwargs: dict, device: str,
                 gradients: list | None, seed: int | None = None) -> Call:
        info = self.submission.functions.get(function)
        if function in self.broken:
            raise messages.FunctionUnavailable(self.broken[function])
        if info is None:
            raise messages.missing_function(function, list(self.submission.functions), self.submission.problems)
        _check_signature(function, info.params, self.expected)
        ready = self.ready()
        if ready.get("isolation_error") and self.config.require_isolation:
            raise messages.FunctionUnavailable(
                f"grading stopped before running {function}: {ready['isolation_error']}; the course staff must "
                "grade on a machine with kernel confinement (Landlock, or a root grader that can drop privileges)"
            )
        if ready.get("failed"):
            raise messages.FunctionUnavailable(f"{function} could not be run: {ready['failed']}; grade again")
        request = {"function": function, "probe": probe, "args": args, "kwargs": kwargs, "device": device,
                   "gradients": gradients, "seed": seed}
        self._worker.send.send_bytes(wire.encode(request))
        header = self._receive(self.config.call_timeout_s + self._GRACE_S)
        if header is None:  # the worker itself hung or died: it is restarted for the next call
            return self._lost(function, "timeout" if self._exit is None else "died", self._exit)
        if header["lost"]:
            return self._lost(function, header["lost"], header.get("exit_code"))
        outcome = wire.decode(self._receive(self._GRACE_S, raw=True) or wire.encode({"lost": "died"}))
        if outcome.get("load_error"):
            self.broken[function] = outcome["load_error"]
            raise messages.FunctionUnavailable(outcome["load_error"])
        return _to_call(function, info.cell, outcome, [] if probe else info.params, _sent_arrays(args, kwargs),
                        header["cpu_seconds"])

    def _lost(self, function: str, how: str, code: int | None) -> Call:
        if how == "timeout":
            why = (f"{function} did not return within {self.config.call_timeout_s:.0f} s: look for a loop "
                   "that never ends (e.g. a while loop whose condition never changes)")
            self.broken[function] = f"skipped: an earlier call of {why}"
            raise messages.StudentTimeout(why + ".")
        if how == "too-large":
            why = (f"{function} returned more than {self.config.max_reply_mb} MB: return only the result the "
                   "docstring asks for")
            self.broken[function] = f"skipped: an earlier call of {why}"
            raise messages.StudentCrash(why + ".")
        why = f"the process running {function} died (exit code {code}): look for os._exit or native crashes"
        if code is not None and code < 0:
            why += f" (killed by signal {-code}: a resource limit, e.g. CPU time, or a native crash)"
        self.broken[function] = f"skipped: an earlier call crashed: {why}"
        raise messages.StudentCrash(why + ".")

    def close(self) -> None:
        self._stop()
        for folder in self._scratch:  # what student code wrote goes with it
            shutil.rmtree(folder, ignore_errors=True)
        self._scratch.clear()


def answer_call(namespace: dict, request: dict, paths: CoursePaths | None, support: Support | None = None) -> dict:
    """Where the student's functions live (a notebook kernel): call one as ``request`` asks, after
    checking that it exists and keeps the starter signature; the reply is plain data. The request
    names the assignment's probes module unless ``support`` is given."""
    fn = namespace.get(request["function"])
    if not callable(fn):
        return {"missing": [k for k, v in namespace.items() if callable(v) and not k.startswith("_")]}
    params = list(inspect.signature(fn).parameters)
    want = request.get("expected")
    if want is not None and params[: len(want)] != want:
        return {"signature": params}
    support = support or load_support(Path(request["support"]) if request.get("support") else None)
    start = time.thread_time()  # this thread's: torch's pool threads (and their spinning) are not the call's own work
    with given_bindings(namespace, request.get("given") or []):
        outcome = run_request(fn, request["probe"], request["args"], request["kwargs"], request["device"], paths,
                              support, request.get("gradients"), request.get("seed"))
    return {"outcome": outcome, "params": [] if request["probe"] else params, "cpu_seconds": time.thread_time() - start}


def reply_to_call(function: str, request: dict, reply: dict, cpu_seconds: float | None = None) -> Call:
    """The grader's side of ``answer_call``: a Call, or the student-facing error. ``cpu_seconds``: the call's
    CPU time as the grader measured it, when it can (else the time the answering process reported)."""
    if "missing" in reply:
        raise messages.missing_function(function, reply["missing"], [])
    if "signature" in reply:
        raise messages.wrong_signature(function, reply["signature"], request.get("expected") or [])
    return _to_call(function, function, reply["outcome"], reply["params"],
                    _sent_arrays(request["args"], request["kwargs"]),
                    reply.get("cpu_seconds", 0.0) if cpu_seconds is None else cpu_seconds)


@dataclass
class InProcessRunner(_Requests):
    """Calls functions from a live namespace (a notebook's ``globals()``), without isolation: a student's
    own self-check in their kernel."""

    namespace: dict
    expected: dict[str, list[str]]
    paths: CoursePaths | None
    support: Support = field(default_factory=engine_support)

    def _request(self, function: str, probe: str | None, args: list, kwargs: dict, device: str,
                 gradients: list | None, seed: int | None = None) -> Call:
        request = {"function": function, "probe": probe, "args": args, "kwargs": kwargs, "device": device,
                   "expected": self.expected.get(function), "gradients": gradients, "seed": seed}
        return reply_to_call(function, request, answer_call(self.namespace, request, self.paths, self.support))

    def close(self) -> None:
        pass


class KernelRunner(_Requests):
    """The check server's runner under nbgrader: each call of a student function is answered by the
    confined kernel over ``conn`` (``answer_call`` there); the CPU time of a call is read here, from the
    kernel process's clock (``kernel_pid``), not from what the kernel says."""

    def __init__(self, conn: Connection, expected: dict[str, list[str]], support: Support, kernel_pid: int | None,
                 given: dict[str, list[tuple[str, str]]] | None = None):
        self.conn, self.expected, self.support, self.kernel_pid = conn, expected, support, kernel_pid
        self.given = given or {}

    def _cpu(self) -> float | None:
        if self.kernel_pid is None:
            return None
        try:
            return time.clock_gettime(((~self.kernel_pid) << 3) | 2)
        except OSError:
            return None

    def _request(self, function: str, probe: str | None, args: list, kwargs: dict, device: str,
                 gradients: list | None, seed: int | None = None) -> Call:
        request = {"function": function, "probe": probe, "args": args, "kwargs": kwargs, "device": device,
                   "expected": self.expected.get(function), "gradients": gradients, "seed": seed,
                   "support": str(self.support.file) if self.support.file else None,  # the kernel can read it
                   "given": self.given.get(function, [])}
        before = self._cpu()
        self.conn.send_bytes(wire.encode({"call": request}))
        reply = wire.decode(self.conn.recv_bytes())
        after = self._cpu()
        return reply_to_call(function, request, reply, None if before is None or after is None else after - before)

    def close(self) -> None:
        pass
