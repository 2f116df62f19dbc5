"""The release audit's dynamic half: no shipped callable reproduces a solution function.

The static audit (``release.audit``) finds solution lines copied into shipped files; a correct answer
written another way passes it. This one runs the shipped code instead: every function defined in a
shipped module (the assignments' ``probes.py`` and public checks, and vizgen's students' library,
topic modules and check authors' API) is called on each hidden reference case's inputs (general
inputs, not the hand-made tiny cases of the public checks) whenever its signature accepts them, on
private copies, with a time limit per call. A function whose result, or a tensor inside a returned
tuple, list or dict, equals the solution's stored output within the case's tolerance ships a correct
answer, and the release is refused.

It runs in a subprocess (``python -m vizgen.release.reproduction ROOT NAME...``), in a scratch folder,
so that what the called code does stays out of the course and out of the releasing process.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

_PACKAGES = ("vizgen.library", "vizgen.topics", "vizgen.author")  # the shipped code that runs beside students
_CALL_LIMIT_S = 2


def scan(root: Path, names: list[str], timeout_s: float = 600) -> list[str]:
    """Leaks found for the assignments ``names`` of the course at ``root`` (empty when there are none)."""
    with tempfile.TemporaryDirectory(prefix="vizgen-audit-") as scratch:
        done = subprocess.run([sys.executable, "-m", "vizgen.release.reproduction", str(root), *names], cwd=scratch,
                              capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        return [f"the reproduction audit did not finish (exit code {done.returncode}): {tail}"]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _modules(task) -> Iterator[Any]:
    for package in _PACKAGES:
        parent = importlib.import_module(package)
        yield parent
        for info in pkgutil.walk_packages(parent.__path__, f"{package}."):
            yield importlib.import_module(info.name)
    files = ([task.probes_file] if task.probes_file else []) + sorted(task.public.glob("test_*.py"))
    for file in files:
        spec = importlib.util.spec_from_file_location(f"_audited_{task.name}_{file.stem}", file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        yield module


def _functions(module, root: Path) -> Iterator[tuple[str, Any]]:
    where = Path(module.__file__).resolve()
    where = where.relative_to(root) if root in where.parents else Path(module.__name__)
    for name, value in list(vars(module).items()):
        if inspect.isfunction(value) and value.__module__ == module.__name__:
            yield f"{where.as_posix()}: {name}", value


def _tensors(value: Any) -> Iterator[Any]:
    import numpy as np
    import torch

    if isinstance(value, (torch.Tensor, np.ndarray, int, float)) and not isinstance(value, bool):
        yield torch.as_tensor(value).detach().cpu().double()
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _reproduces(result: Any, output: Any, atol: float, rtol: float) -> bool:
    import torch

    wanted = [t for t in _tensors(output) if t.numel() > 1 or t.abs().sum() > 0]
    if not wanted:
        return False
    found = list(_tensors(result))
    for want in wanted:  # every informative part of the output, each found among the result's tensors
        if want.numel() > 1 and torch.unique(want).numel() == 1:
            continue  # a constant tensor (all zeros, say) says nothing
        if not any(got.shape == want.shape and torch.allclose(got, want, atol=atol, rtol=rtol) for got in found):
            return False
    return True


class _Late(Exception):
    pass


def _on_alarm(*_):
    raise _Late()


def audit_assignment(task) -> list[str]:
    """The leaks of one assignment (run inside the audit's subprocess)."""
    from vizgen.author.support import load_support
    from vizgen.engine.stores import ReferenceStore
    from vizgen.sandbox.invoke import materialize

    store = ReferenceStore.hidden(task.references)
    if not store.file.is_file():
        return []
    cases = [store.case(name) for name in store.load()]
    support = load_support(task.probes_file)
    leaks = []
    signal.signal(signal.SIGALRM, _on_alarm)
    for module in _modules(task):
        for qualified, function in _functions(module, Path(task.paths.root).resolve()):
            try:
                signature = inspect.signature(function)
            except (TypeError, ValueError):
                continue
            for case in cases:
                try:
                    signature.bind(*case.args, **case.kwargs)
                except TypeError:
                    continue
                try:
                    signal.alarm(_CALL_LIMIT_S)
                    args = materialize(case.args, {}, "cpu", task.paths, support)
                    kwargs = materialize(case.kwargs, {}, "cpu", task.paths, support)
                    result = function(*args, **kwargs)
                except BaseException:  # noqa: BLE001 - wrong arguments for this function: it reproduces nothing
                    continue
                finally:
                    signal.alarm(0)
                if _reproduces(result, case.output, case.atol, case.rtol):
                    leaks.append(f"{qualified} reproduces the solution's {case.function} on the hidden case "
                                 f"{case.name!r}: a correct answer would ship; move it to judge.py")
    return leaks


def main() -> None:
    from vizgen.course.assignment import load_assignment
    from vizgen.course.config import CoursePaths

    root, names = Path(sys.argv[1]), sys.argv[2:]
    os.environ["MPLBACKEND"] = "Agg"
    paths = CoursePaths(root)
    leaks = [leak for name in names for leak in audit_assignment(load_assignment(paths, name))]
    print(json.dumps(leaks))


if __name__ == "__main__":
    main()
