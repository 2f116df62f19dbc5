"""Which library names a graded function's code uses: where the task is to implement an operation, its
library version earns nothing (``[forbidden]`` in an assignment's ``assignment.toml``).

The grader reads the code, it never runs it: the statements the function reaches (its cell, its helpers,
their imports) are compiled, and every attribute their code objects read, every name they import, every
string constant that is an identifier (``getattr(F, "instance_norm")``) and every global they load but
the student's own definitions is collected. ``F.instance_norm``,
``from torch.nn.functional import instance_norm as norm``, ``nn.InstanceNorm2d`` and
``torch.ops.aten.instance_norm`` are all seen; a name assembled at run time from pieces is not (a
deliberate evasion, left to the course's academic-integrity rules).
"""

from __future__ import annotations

import ast
import dis
from collections.abc import Callable, Collection
from types import CodeType

from vizgen.course.notebook import Submission, bound_names, needed_nodes


_ATTRIBUTE = {"LOAD_ATTR", "LOAD_METHOD", "LOAD_SUPER_ATTR", "IMPORT_NAME", "IMPORT_FROM"}
_GLOBAL = {"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS"}


def names_in_code(code: CodeType) -> tuple[set[str], set[str]]:
    """(library names, global names) a code object and those nested in it use: attributes it reads, modules and
    names it imports and identifier strings it holds (``getattr(F, "instance_norm")``); the globals it loads
    (which may be the notebook's own definitions)."""
    library: set[str] = set()
    loaded: set[str] = set()
    for instruction in dis.get_instructions(code):
        if instruction.opname in _ATTRIBUTE and isinstance(instruction.argval, str):
            library.update(instruction.argval.split("."))
        elif instruction.opname in _GLOBAL and isinstance(instruction.argval, str):
            loaded.add(instruction.argval)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            inner_library, inner_loaded = names_in_code(const)
            library |= inner_library
            loaded |= inner_loaded
        elif isinstance(const, str) and const.isidentifier():
            library.add(const)
    return library, loaded


def library_uses(submission: Submission, function: str, forbidden: Collection[str]) -> list[str]:
    """The ``forbidden`` names the code ``function`` reaches uses, sorted; [] when none (or none forbidden)."""
    if not forbidden or function not in submission.functions:
        return []
    library: set[str] = set()
    loaded: set[str] = set()
    own: set[str] = set()
    for filename, node in needed_nodes(submission, function):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            own.update(bound_names(node))
        try:
            names, globals_ = names_in_code(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec"))
        except (SyntaxError, ValueError, RecursionError):  # reported by extraction; nothing to add here
            continue
        library |= names
        loaded |= globals_
    return sorted((library | (loaded - own)) & set(forbidden))


def live_uses(namespace: dict, function: str, forbidden: Collection[str]) -> list[str]:
    """``library_uses`` for a live notebook (a student's self-check): the function's code objects, and those of
    the notebook's own functions and classes it names, transitively."""
    if not forbidden or function not in namespace:
        return []
    module = namespace.get("__name__")
    library: set[str] = set()
    loaded: set[str] = set()
    own: set[str] = set()
    pending = [function]
    while pending:
        name = pending.pop()
        if name in own:
            continue
        value = namespace.get(name)
        if getattr(value, "__module__", None) != module or not callable(value):
            continue
        own.add(name)
        for code in _codes(value):
            names, globals_ = names_in_code(code)
            library |= names
            loaded |= globals_
            for used in globals_ & namespace.keys():
                bound = namespace[used]
                if getattr(bound, "__module__", None) == module:
                    pending.append(used)  # the notebook's own: read its code too
                else:  # a library object under another name (``import ... as norm``): its own name
                    library.update(str(getattr(bound, "__name__", "")).split("."))
    return sorted((library | (loaded - own)) & set(forbidden))


def _codes(value: Callable) -> list[CodeType]:
    if isinstance(value, type):  # a class: its methods, properties and static/class methods
        members = [getattr(m, "__func__", m) for m in vars(value).values()]
        members += [f for m in vars(value).values() if isinstance(m, property) for f in (m.fget, m.fset) if f]
        return [m.__code__ for m in members if hasattr(m, "__code__")]
    return [value.__code__] if hasattr(value, "__code__") else []
