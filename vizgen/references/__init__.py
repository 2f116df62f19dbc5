"""`vizgen references build | verify | parity`: reference outputs made from the solution notebooks.

``build`` runs each hidden ``REFERENCE_CASES`` entry through the solution notebook's function,
in the same isolated runner that grades students, and stores inputs, output, tolerance and two
digests (of the inputs, and of the solution code the function reaches: ``function_digest``). ``verify`` says which references are stale.
``parity`` compares the CUDA references with the CPU ones within each case's tolerance.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib.util
from pathlib import Path

import torch

from vizgen.course.config import GradingConfig
from vizgen.errors import CourseLayoutError
from vizgen.course.assignment import Assignment
from vizgen.author.cases import ReferenceCase, ReferenceStore, inputs_digest, save_store, to_device_free
from vizgen.course.notebook import Submission, extract_submission, needed_nodes
from vizgen.sandbox.runners import SandboxRunner
from vizgen.author.support import load_support


def reference_cases(assignment: Assignment) -> list[ReferenceCase]:
    """The REFERENCE_CASES declared by the hidden check modules, in file order."""
    cases: list[ReferenceCase] = []
    for module_path in sorted(assignment.hidden.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_vizgen_cases_{module_path.stem}", module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases += getattr(module, "REFERENCE_CASES", [])
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise CourseLayoutError(f"reference case names must be unique; repeated: {sorted(duplicates)}.")
    return cases


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


def build(assignment: Assignment, device: str = "cpu", log=print) -> Path:
    """Run the solution on every case and write references/<device>.pt; returns the file."""
    if device == "cuda" and not torch.cuda.is_available():
        raise CourseLayoutError("no CUDA device here: build the cpu references, or run this on a GPU machine.")
    solution = extract_submission(assignment.solution_notebook)
    config = GradingConfig(call_timeout_s=120, cuda=device == "cuda")
    runner = SandboxRunner(solution, {}, assignment.paths, denied=[], config=config, warm_imports=assignment.warm_imports,
                         support=load_support(assignment.probes_file))
    stored = {}
    try:
        for case in reference_cases(assignment):
            args, kwargs = case.make_inputs()
            call = runner.call(case.function, *args, device=device, **kwargs)
            output = call.value if case.capture == "value" else call.args_after[case.capture]
            stored[case.name] = {
                "function": case.function, "args": args, "kwargs": kwargs, "output": to_device_free(output),
                "atol": case.atol, "rtol": case.rtol, "why": case.why,
                "inputs_sha": inputs_digest(args, kwargs),
                "solution_sha": function_digest(solution, case.function),
            }
            log(f"{assignment.name}/{case.name}: {case.function} -> {device}")
    finally:
        runner.close()
    file = ReferenceStore(assignment.references, device).file
    save_store(file, stored)
    return file


def verify(assignment: Assignment, device: str = "cpu") -> list[str]:
    """Why the stored references are stale (empty when they are current)."""
    store = ReferenceStore(assignment.references, device)
    if not store.file.is_file():
        return [f"{store.file} is missing"]
    stored = store.load()
    solution = extract_submission(assignment.solution_notebook)
    problems = []
    cases = reference_cases(assignment)
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
    extra = set(stored) - {c.name for c in cases}
    problems += [f"{name}: stored but no longer declared" for name in sorted(extra)]
    return problems


def parity(assignment: Assignment) -> list[str]:
    """Cases whose CUDA reference differs from the CPU one by more than the case's tolerance."""
    cpu, cuda = ReferenceStore(assignment.references, "cpu"), ReferenceStore(assignment.references, "cuda")
    if not cuda.file.is_file():
        return [f"{cuda.file} is missing: build it on a GPU machine with `vizgen references build --device cuda`"]
    problems = []
    for name, entry in cpu.load().items():
        other = cuda.load().get(name)
        if other is None:
            problems.append(f"{name}: no CUDA reference: rebuild with `vizgen references build --device cuda` on a GPU machine")
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
