"""The hidden checks' manifest: what grading will judge, told to students who lack hidden/.

``autograder/<assignment>/public/hidden_checks.json`` lists each hidden check's function, title
(the first line of its docstring) and points, never its inputs. It is derived from the hidden
check modules' source (read, not run) by `vizgen manifest` and `vizgen release`, and shipped;
`vizgen check` prints it, and a test fails when it is stale.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

from vizgen.errors import CourseLayoutError
from vizgen.course.assignment import Assignment

FILE_NAME = "hidden_checks.json"


def check_title(doc: str | None, fallback: str) -> str:
    """A check's name for students: the first line of its docstring."""
    lines = (doc or "").strip().splitlines()
    return lines[0].rstrip(".") if lines else fallback


def declared_checks(folder: Path) -> list[dict]:
    """Every check in a folder's ``test_*.py``, in file order: function, points, title and id."""
    found = []
    for module in sorted(folder.glob("test_*.py")):
        for node in ast.parse(module.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            marks = [d for d in node.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "check"]
            if not marks:
                raise CourseLayoutError(f"{module}::{node.name} has no @check(points, function) marker: add one "
                                        "(from vizgen.author import check).")
            mark = {k.arg: ast.literal_eval(k.value) for k in marks[0].keywords}
            found.append({"function": mark["function"], "points": mark["points"],
                          "title": check_title(ast.get_docstring(node), node.name),
                          "id": f"{module.name}::{node.name}"})
    return found


def manifest_file(assignment: Assignment) -> Path:
    return assignment.public / FILE_NAME


def _render(assignment: Assignment) -> str:
    checks = [{k: c[k] for k in ("function", "title", "points")} for c in declared_checks(assignment.hidden)]
    return json.dumps({"assignment": assignment.name, "hidden_checks": checks}, indent=1) + "\n"


def write_manifest(assignment: Assignment) -> Path:
    """Derive the manifest from hidden/ and write it into public/; returns the file."""
    file = manifest_file(assignment)
    file.write_text(_render(assignment))
    return file


def is_current(assignment: Assignment) -> bool:
    file = manifest_file(assignment)
    return file.is_file() and file.read_text() == _render(assignment)


def hidden_checks(assignment: Assignment) -> list[dict]:
    """The shipped manifest's checks: [{"function", "title", "points"}, ...]."""
    file = manifest_file(assignment)
    if not file.is_file():
        raise CourseLayoutError(f"{file} is missing: run `vizgen manifest` (course staff) or restore the file.")
    return json.loads(file.read_text())["hidden_checks"]
