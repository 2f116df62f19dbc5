"""Runners call a student's functions for the checks and hand back a ``Call``.

``ChildRunner`` runs the submission's definition cells in a separate, sandboxed process
(``worker``); only plain data crosses back, and a hang, crash or ``sys.exit`` costs only the
calls of that function. ``InProcessRunner`` calls functions from a live notebook namespace (the
nbgrader test cells), through the same ``invoke`` so that both grade alike.
"""

from __future__ import annotations

import inspect
import subprocess
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vizgen.course.config import CoursePaths, GradingConfig
from vizgen.sandbox import confine, wire
from vizgen.author import messages
from vizgen.course.notebook import Submission
from vizgen.author.call import Call
from vizgen.sandbox.invoke import run_request
from vizgen.sandbox.spawn import Worker, spawn_worker
from vizgen.author.support import Support, engine_support, load_support


class Runner(Protocol):
    def call(self, function: str, *args: Any, device: str = "cpu", **kwargs: Any) -> Call: ...

    def probe(self, probe: str, function: str, *args: Any, **kwargs: Any) -> Call: ...

    def close(self) -> None: ...


def _by_name(report: dict, params: list[str]) -> dict:
    """Key a per-argument report by parameter name: positions ("0") become the parameter's name."""
    return {params[int(k)] if k.isdigit() and int(k) < len(params) else k: v for k, v in report.items()}


def _to_call(function: str, cell: str, outcome: dict, params: list[str]) -> Call:
    """``params``: the function's parameter names (none for a probe, whose arguments are the probe's)."""
    effects = _by_name(outcome.get("effects", {}), params)
    if outcome.get("error"):
        raise messages.student_error(function, cell, outcome["error"], effects)
    return Call(
        function,
        outcome["result"],
        _by_name(outcome.get("args_after", {}), params),
        effects,
        outcome.get("output", ""),
        outcome.get("seconds", 0.0),
        params,
    )


class _Requests:
    """``call`` and ``probe`` for both runners; each runner implements ``_request``."""

    def call(self, function: str, *args: Any, device: str = "cpu", **kwargs: Any) -> Call:
        return self._request(function, None, list(args), kwargs, device)

    def probe(self, probe: str, function: str, *args: Any, **kwargs: Any) -> Call:
        """Run grader probe ``probe`` (the engine's or the assignment's, see ``support``) around ``function``."""
        if probe not in self.support.probes:
            raise ValueError(f"unknown probe {probe!r}: use one of {', '.join(self.support.probes)} "
                             "(or register it in the assignment's support module).")
        return self._request(function, probe, list(args), kwargs, "cpu")

    def _request(self, function: str, probe: str | None, args: list, kwargs: dict, device: str) -> Call:
        raise NotImplementedError


def _check_signature(function: str, params: list[str], expected: dict[str, list[str]]) -> None:
    want = expected.get(function)
    if want is not None and params[: len(want)] != want:
        raise messages.wrong_signature(function, params, want)


@dataclass
class ChildRunner(_Requests):
    """Runs a submission's cells in a child process, started at construction or handed in already
    started (its imports then overlap the parent's). Restarted after a timeout or crash."""

    submission: Submission
    expected: dict[str, list[str]]  # function -> parameter names of the starter code
    paths: CoursePaths | None
    denied: list[str]
    config: GradingConfig = field(default_factory=GradingConfig)
    broken: dict[str, str] = field(default_factory=dict)  # function -> why later calls are skipped
    warm_imports: tuple[str, ...] = ()  # the assignment's (see spawn); also for workers restarted here
    worker: InitVar[Worker | None] = None  # a worker started early (see spawn); else one is started here
    protection: confine.Protection | None = None  # the kernel confinement (default: confine.plan(config.isolation))
    readable: tuple[Path, ...] = ()  # besides Python, vizgen and the assets: what student code may read
    support: Support = field(default_factory=engine_support)  # probes and models; the worker imports the same

    def __post_init__(self, worker: Worker | None = None) -> None:
        if self.protection is None:
            self.protection = confine.plan(self.config.isolation)
        self._worker: Worker | None = None
        self._loaded: dict | None = None
        self._exit: int | None = None
        self._start(worker)

    def _readable(self) -> list[Path]:
        assets = [self.paths.cache, self.paths.styles] if self.paths else []
        return [p for p in [*assets, *self.readable] if p.exists()]

    @property
    def isolation_note(self) -> str:
        """Set when the worker could not apply the planned confinement (then it graded with less)."""
        error = (self._loaded or {}).get("isolation_error", "")
        if not error:
            return ""
        if self.config.require_isolation:
            return f"grading refused: {error}; --require-isolation needs kernel confinement."
        return f"isolation degraded to audit hooks: {error}."

    def _start(self, worker: Worker | None = None) -> None:
        settings = {
            "denied": self.denied,
            "root": str(self.paths.root) if self.paths else None,
            "readable": [str(p) for p in self._readable()],
            "threads": self.config.torch_threads,
            "max_output_chars": self.config.max_output_chars,
            "cuda": self.config.cuda,
            "isolation": self.protection.level,
            "require_kernel": self.config.require_isolation,
            "call_timeout_s": self.config.call_timeout_s,
            "max_reply_bytes": self.config.max_reply_mb * 2**20,
            "limits": self.config.limits(),
            "support": str(self.support.file) if self.support.file else None,
        }
        self._worker = worker or spawn_worker(self.warm_imports)
        self._worker.send.send_bytes(wire.encode({"settings": settings, "cells": self.submission.cells}))
        self._loaded = None

    _GRACE_S = 10.0  # the worker enforces call_timeout_s itself; this only catches a worker that hangs

    def _receive(self, timeout: float) -> dict | None:
        """The child's next message, or None if it hung or died (then ``_exit`` says which)."""
        try:
            if self._worker.recv.poll(timeout):
                return wire.decode(self._worker.recv.recv_bytes())
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

    def loaded(self) -> dict:
        """The child's load report: {"errors": [...], "functions": [...]} (starting it if needed)."""
        if self._worker is None:
            self._start()
        if self._loaded is None:
            report = self._receive(self.config.startup_timeout_s)
            self._loaded = report or {
                "errors": [f"loading your cells did not finish within {self.config.startup_timeout_s:.0f} s "
                           "(or crashed): remove top-level code that does work; grading runs only imports "
                           "and definitions"],
                "functions": [],
            }
        return self._loaded

    def _request(self, function: str, probe: str | None, args: list, kwargs: dict, device: str) -> Call:
        info = self.submission.functions.get(function)
        if function in self.broken:
            raise messages.FunctionUnavailable(self.broken[function])
        if info is None:
            raise messages.missing_function(function, list(self.submission.functions), self.submission.problems)
        _check_signature(function, info.params, self.expected)
        loaded = self.loaded()
        if loaded.get("isolation_error") and self.config.require_isolation:
            raise messages.FunctionUnavailable(
                f"grading stopped before running {function}: {loaded['isolation_error']}; the course staff must "
                "grade on a machine with kernel confinement (Landlock, or a root grader that can drop privileges)"
            )
        if function not in loaded["functions"]:
            raise messages.FunctionUnavailable(
                f"{function} could not be loaded: {'; '.join(loaded['errors'])}: run that cell in Jupyter and fix "
                "the error (grading runs only the imports and definitions of your solution cells)"
            )
        request = {"function": function, "probe": probe, "args": args, "kwargs": kwargs, "device": device}
        self._worker.send.send_bytes(wire.encode(request))
        outcome = self._receive(self.config.call_timeout_s + self._GRACE_S)
        if outcome is None:  # the worker itself hung or died: it is restarted for the next call
            return self._lost(function, "timeout" if self._exit is None else "died", self._exit)
        if outcome.get("lost"):
            return self._lost(function, outcome["lost"], outcome.get("exit_code"))
        return _to_call(function, info.cell, outcome, [] if probe else info.params)

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


def answer_call(namespace: dict, request: dict, paths: CoursePaths | None, support: Support | None = None) -> dict:
    """Where the student's functions live (a notebook kernel): call one as ``request`` asks, after
    checking that it exists and keeps the starter signature; the reply is plain data. The request
    names the assignment's support module (its probes and models) unless ``support`` is given."""
    fn = namespace.get(request["function"])
    if not callable(fn):
        return {"missing": [k for k, v in namespace.items() if callable(v) and not k.startswith("_")]}
    params = list(inspect.signature(fn).parameters)
    want = request.get("expected")
    if want is not None and params[: len(want)] != want:
        return {"signature": params}
    support = support or load_support(Path(request["support"]) if request.get("support") else None)
    outcome = run_request(fn, request["probe"], request["args"], request["kwargs"], request["device"], paths, support)
    return {"outcome": outcome, "params": [] if request["probe"] else params}


def reply_to_call(function: str, reply: dict, expected: list[str] | None) -> Call:
    """The grader's side of ``answer_call``: a Call, or the student-facing error."""
    if "missing" in reply:
        raise messages.missing_function(function, reply["missing"], [])
    if "signature" in reply:
        raise messages.wrong_signature(function, reply["signature"], expected or [])
    return _to_call(function, function, reply["outcome"], reply["params"])


@dataclass
class InProcessRunner(_Requests):
    """Calls functions from a live namespace (a notebook's ``globals()``), without isolation."""

    namespace: dict
    expected: dict[str, list[str]]
    paths: CoursePaths | None
    support: Support = field(default_factory=engine_support)

    def _request(self, function: str, probe: str | None, args: list, kwargs: dict, device: str) -> Call:
        request = {"function": function, "probe": probe, "args": args, "kwargs": kwargs, "device": device,
                   "expected": self.expected.get(function)}
        reply = answer_call(self.namespace, request, self.paths, self.support)
        return reply_to_call(function, reply, request["expected"])

    def close(self) -> None:
        pass
