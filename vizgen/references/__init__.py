"""`vizgen references build | verify | parity`: reference outputs made from the solution notebooks.

``build`` runs each hidden ``REFERENCE_CASES`` entry and each public ``PUBLIC_CASES`` entry through
the solution notebook's function, in the same isolated runner that grades students, and stores
inputs, output, tolerance, the usual mistakes' values when the case names a ``judge.py`` function
for them, and digests (of the inputs, of the solution code the function reaches:
``function_digest``, and of ``judge.py``). Hidden cases go to ``references/<device>.pt``, public ones
to ``public/references.pt`` (shipped, CPU only); the solution's definitions of the callees a function is
given (``[given]``) to ``references/given.json``. ``verify`` says which references are stale.
``parity`` compares the CUDA references with the CPU ones within each case's tolerance.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib.util
import json
from pathlib import Path

import torch

from vizgen.course.config import GradingConfig
from vizgen.errors import CourseLayoutError
from vizgen.course.assignment import Assignment
from vizgen.author.cases import ReferenceCase
from vizgen.engine.stores import PUBLIC_FILE, ReferenceStore, inputs_digest, save_store, to_device_free
from vizgen.course.notebook import Submission, extract_submission, needed_nodes
from vizgen.sandbox.runners import SandboxRunner
from vizgen.author.support import load_judge, load_support


def _declared(folder: Path, attribute: str) -> list[ReferenceCase]:
    cases: list[ReferenceCase] = []
    for module_path in sorted(folder.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_vizgen_cases_{folder.name}_{module_path.stem}", module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases += getattr(module, attribute, [])
    return cases


def reference_cases(assignment: Assignment, public: bool = False) -> list[ReferenceCase]:
    """The REFERENCE_CASES of the hidden check modules (or, ``public``, the PUBLIC_CASES of the public
    ones), in file order; names must be unique across both."""
    hidden, shipped = _declared(assignment.hidden, "REFERENCE_CASES"), _declared(assignment.public, "PUBLIC_CASES")
    names = [c.name for c in hidden + shipped]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise CourseLayoutError(f"reference case names must be unique across public and hidden; repeated: "
                                f"{sorted(duplicates)}.")
    return shipped if public else hidden


def _judge_digest(assignment: Assignment) -> str:
    """What stored mistakes depend on: judge.py's code, its docstrings, comments and layout left out."""
    file = assignment.judge_file
    if not file.is_file():
        return ""
    tree = ast.parse(file.read_text())
    for node in ast.walk(tree):  # every docstring out: rewording one leaves the stored mistakes current
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body and isinstance(
                body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


def _mistakes(assignment: Assignment, case: ReferenceCase, args: list, kwargs: dict) -> dict:
    """The usual mistakes' values on the case's inputs, from the judge function the case names."""
    if not case.mistakes:
        return {}
    judge = load_judge(assignment.judge_file)
    found = getattr(judge, case.mistakes, None)
    if found is None:
        raise CourseLayoutError(f"case {case.name!r} names mistakes={case.mistakes!r}, which {assignment.judge_file} "
                                "does not define: define it there, or fix the name.")
    return {k: to_device_free(v) for k, v in found(*args, **kwargs).items() if k != "correct"}


def _without_docstring(node: ast.stmt) -> ast.stmt:
    body = getattr(node, "body", None)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and body and isinstance(
            body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        node = copy.copy(node)
        node.body = body[1:]
    return node


def function_digest(solution: Submission, function: str) -> str:
    """What a reference of ``function`` depends on: its code and the code of every top-level name it
    reaches (helpers, constants, imports), transitively; docstrings and comments left out, so a
    reworded docstring or an unrelated function's change leaves the reference current."""
    dumps = sorted(ast.dump(_without_docstring(node)) for _, node in needed_nodes(solution, function))
    return hashlib.sha256("\n".join(dumps).encode()).hexdigest()


def _store_files(assignment: Assignment, device: str) -> list[tuple[Path, bool]]:
    """(file, public) for each store ``build`` writes on ``device``: public cases are CPU only."""
    hidden = [(ReferenceStore.hidden(assignment.references, device).file, False)]
    return hidden + ([(assignment.public / PUBLIC_FILE, True)] if device == "cpu" else [])


def build(assignment: Assignment, device: str = "cpu", log=print) -> list[Path]:
    """Run the solution on every case and write references/<device>.pt (and, on the CPU, the public
    public/references.pt when public checks declare cases); returns the files."""
    if device == "cuda" and not torch.cuda.is_available():
        raise CourseLayoutError("no CUDA device here: build the cpu references, or run this on a GPU machine.")
    solution = extract_submission(assignment.solution_notebook)
    config = GradingConfig(call_timeout_s=120, cuda=device == "cuda")
    runner = SandboxRunner(solution, {}, assignment.paths, denied=[], config=config,
                           warm_imports=assignment.warm_imports, support=load_support(assignment.probes_file))
    written = []
    try:
        for file, public in _store_files(assignment, device):
            cases = reference_cases(assignment, public)
            if public and not cases:
                file.unlink(missing_ok=True)
                continue
            stored = {}
            for case in cases:
                args, kwargs = case.make_inputs()
                call = runner.call(case.function, *args, device=device, **kwargs)
                output = call.value if case.capture == "value" else call.args_after[case.capture]
                stored[case.name] = {
                    "function": case.function, "args": args, "kwargs": kwargs, "output": to_device_free(output),
                    "atol": case.atol, "rtol": case.rtol, "why": case.why,
                    "mistakes": _mistakes(assignment, case, args, kwargs) if device == "cpu" else {},
                    "inputs_sha": inputs_digest(args, kwargs),
                    "solution_sha": function_digest(solution, case.function),
                    "judge_sha": _judge_digest(assignment) if case.mistakes and device == "cpu" else "",
                }
                log(f"{assignment.name}/{case.name}: {case.function} -> {device}{' (public)' if public else ''}")
            save_store(file, stored)
            written.append(file)
    finally:
        runner.close()
    if device == "cpu":
        written += _write_given(assignment)
    return written


def _given(assignment: Assignment) -> dict[str, list[tuple[str, str]]]:
    return {function: assignment.solution_given_cells(function) for function, _ in assignment.config.given}


def _write_given(assignment: Assignment) -> list[Path]:
    """``references/given.json``: the solution's definitions of each function's given callees (``[given]``)."""
    given = _given(assignment)
    if not given:
        assignment.given_file.unlink(missing_ok=True)
        return []
    assignment.given_file.parent.mkdir(parents=True, exist_ok=True)
    assignment.given_file.write_text(json.dumps(given, indent=1) + "\n")
    return [assignment.given_file]


def verify(assignment: Assignment, device: str = "cpu") -> list[str]:
    """Why the stored references are stale (empty when they are current)."""
    problems = []
    for file, public in _store_files(assignment, device):
        cases = reference_cases(assignment, public)
        if public and not cases:
            if file.is_file():
                problems.append(f"{file.name}: stored, but no public check declares PUBLIC_CASES")
            continue
        problems += _verify_store(assignment, ReferenceStore(file), cases, mistakes=device == "cpu")
    if device == "cpu":
        stored = json.loads(assignment.given_file.read_text()) if assignment.given_file.is_file() else {}
        if stored != {f: [list(c) for c in cells] for f, cells in _given(assignment).items()}:
            problems.append(f"{assignment.given_file.name}: the [given] callees or their solutions changed")
    return problems


def _verify_store(assignment: Assignment, store: ReferenceStore, cases: list[ReferenceCase],
                  mistakes: bool) -> list[str]:
    if not store.file.is_file():
        return [f"{store.file} is missing"]
    stored = store.load()
    solution = extract_submission(assignment.solution_notebook)
    problems = []
    for case in cases:
        entry = stored.get(case.name)
        if entry is None:
            problems.append(f"{case.name}: no stored reference")
            continue
        args, kwargs = case.make_inputs()
        if entry["inputs_sha"] != inputs_digest(args, kwargs):
            problems.append(f"{case.name}: its inputs changed since the reference was built")
        if entry["solution_sha"] != function_digest(solution, case.function):
            problems.append(f"{case.name}: the solution of {case.function} changed since the reference was built")
        if (entry["atol"], entry["rtol"], entry["why"]) != (case.atol, case.rtol, case.why):
            problems.append(f"{case.name}: its tolerance changed since the reference was built")
        if mistakes and case.mistakes and entry.get("judge_sha") != _judge_digest(assignment):
            problems.append(f"{case.name}: judge.py changed since its mistakes were stored")
    extra = set(stored) - {c.name for c in cases}
    problems += [f"{name}: stored but no longer declared" for name in sorted(extra)]
    return problems


def parity(assignment: Assignment) -> list[str]:
    """Cases whose CUDA reference differs from the CPU one by more than the case's tolerance."""
    cpu, cuda = (ReferenceStore.hidden(assignment.references, "cpu"),
                 ReferenceStore.hidden(assignment.references, "cuda"))
    if not cuda.file.is_file():
        return [f"{cuda.file} is missing: build it on a GPU machine with `vizgen references build --device cuda`"]
    problems = []
    for name, entry in cpu.load().items():
        other = cuda.load().get(name)
        if other is None:
            problems.append(f"{name}: no CUDA reference: rebuild with `vizgen references build --device cuda` "
                            "on a GPU machine")
            continue
        a, b = torch.as_tensor(entry["output"]).double(), torch.as_tensor(other["output"]).double()
        if a.shape != b.shape:
            problems.append(
                f"{name}: CUDA output has shape {tuple(b.shape)}, CPU output {tuple(a.shape)}: rebuild both "
                "(`vizgen references build` and, on a GPU machine, `--device cuda`) from the same solution"
            )
        elif not torch.allclose(a, b, atol=entry["atol"], rtol=entry["rtol"]):
            worst = (a - b).abs().max().item()
            problems.append(
                f"{name}: CUDA and CPU outputs differ by up to {worst:.3g}, beyond atol={entry['atol']}, "
                f"rtol={entry['rtol']}: widen this case's tolerance if the difference is floating point"
            )
    return problems
