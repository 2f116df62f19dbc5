"""The notebook contract: what an assignment's source notebook and checks must agree on.

nbgrader and `vizgen grade` score alike only when each graded function ``fn`` has public and
hidden checks with names (docstrings), a locked test cell ``check_fn`` worth exactly its checks'
points that calls ``run_cell`` on the public checks and, in a hidden region, on the hidden ones,
and the notebook says which assignment it belongs to. ``problems`` lists what breaks this, each
with its fix; `vizgen release` refuses to release a broken assignment and a test runs it on all.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from vizgen.course.assignment import Assignment
from vizgen.course.notebook import extract_submission, read_notebook
from vizgen.course.manifest import declared_checks


def _check_problems(assignment: Assignment) -> list[str]:
    problems = []
    solution = extract_submission(assignment.solution_notebook)  # the source: a release may predate a new function
    functions = [name for name, info in solution.functions.items() if info.graded]
    for kind, folder in (("public", assignment.public), ("hidden", assignment.hidden)):
        checks = declared_checks(folder)
        problems += [f"{c['id']} has no docstring: its first line is the check's name for students"
                     for c in checks if c["title"] == c["id"].split("::")[1]]
        covered = {c["function"] for c in checks}
        problems += [f"{fn} has no {kind} check: add one to {folder.name}/" for fn in functions if fn not in covered]
        problems += [f"{kind} checks name {fn!r}, which no solution cell defines: fix the check's function="
                     for fn in sorted(covered - set(functions))]
    return problems


def _one_way_problems(assignment: Assignment) -> list[str]:
    """Checks fail through the expect_* helpers or fail(message): no bare assert, no AssertionError."""
    problems = []
    for module in sorted([*assignment.public.glob("test_*.py"), *assignment.hidden.glob("test_*.py")]):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Assert) or getattr(node, "id", "") == "AssertionError":
                problems.append(f"{module.name}:{node.lineno}: fail through an expect_* helper or fail(message)")
    return problems


def _points(assignment: Assignment) -> dict[str, dict[str, float]]:
    """Each function's points, public and hidden: ``{"public": {fn: points}, "hidden": {fn: points}}``."""
    points: dict[str, dict[str, float]] = {"public": defaultdict(float), "hidden": defaultdict(float)}
    for kind, folder in (("public", assignment.public), ("hidden", assignment.hidden)):
        for c in declared_checks(folder):
            points[kind][c["function"]] += c["points"]
    return points


def _cell_problems(assignment: Assignment, points: dict[str, dict[str, float]]) -> list[str]:
    totals = {fn: points["public"][fn] + points["hidden"][fn] for fn in points["public"].keys() | points["hidden"]}
    notebook = read_notebook(assignment.solution_notebook)
    problems = []
    if notebook.metadata.get("vizgen", {}).get("assignment") != assignment.name:
        problems.append(f"{assignment.solution_notebook.name}: set the notebook metadata "
                        f'{{"vizgen": {{"assignment": "{assignment.name}"}}}}')
    cells = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
             if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")}
    for fn, total in sorted(totals.items()):
        cell, name = cells.get(f"check_{fn}"), f"check_{fn}"
        if cell is None:
            problems.append(f"no test cell {name}: add a locked autograder-tests cell with grade_id {name}")
            continue
        if cell.metadata["nbgrader"].get("points") != total:
            problems.append(f"test cell {name} is worth {cell.metadata['nbgrader'].get('points')} points; its checks "
                            f"are worth {total:g}: set its points to {total:g}")
        for call in (f'run_cell("{assignment.name}", "{fn}", globals())',
                     f'run_cell("{assignment.name}", "{fn}", globals(), hidden=True)'):
            if call not in cell.source:
                problems.append(f"test cell {name} lacks `{call}` (the hidden one between ### BEGIN/END HIDDEN TESTS)")
    return problems


GRADING_TITLE = "How this notebook is graded"
GRADING_TABLE = f"## {GRADING_TITLE}"


def _numbers(row: str) -> list[float]:
    """The cells of a markdown table row that are numbers, in order."""
    found = []
    for cell in row.strip().strip("|").split("|"):
        try:
            found.append(float(cell.strip()))
        except ValueError:
            continue
    return found


def _grading_table_problems(assignment: Assignment, points: dict[str, dict[str, float]]) -> list[str]:
    """The notebook says what each function is worth, and why, in a table under ``GRADING_TABLE``: a row
    ``| `fn` | public | hidden | [total |] why |`` (or ``| `fn` | total | why |``) per graded function,
    agreeing with its checks."""
    notebook = read_notebook(assignment.solution_notebook)
    text = next((c.source for c in notebook.cells if c.cell_type == "markdown" and GRADING_TABLE in c.source), None)
    if text is None:
        return [f"{assignment.solution_notebook.name}: add a markdown cell '{GRADING_TABLE}' with each graded "
                "function's points (public, hidden) and a sentence on why"]
    problems = []
    for fn in sorted(points["public"].keys() | points["hidden"].keys()):
        public, hidden = points["public"][fn], points["hidden"][fn]
        row = next((line for line in text.splitlines() if line.strip().startswith(f"| `{fn}` ")), None)
        said = _numbers(row) if row else []
        right = (said == [public + hidden] if len(said) == 1 else
                 len(said) >= 2 and said[:2] == [public, hidden] and said[2:3] in ([], [public + hidden]))
        if not right:
            problems.append(f"{GRADING_TITLE}: the row of `{fn}` must say {public:g} public and {hidden:g} hidden "
                            f"points ({public + hidden:g} in all); it says {row.strip() if row else 'nothing'}")
    return problems


def problems(assignment: Assignment) -> list[str]:
    """What breaks the contract, each with its fix (empty when the assignment keeps it)."""
    points = _points(assignment)
    return (_check_problems(assignment) + _one_way_problems(assignment) + _cell_problems(assignment, points)
            + _grading_table_problems(assignment, points))
