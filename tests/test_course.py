"""The course stays consistent: points, counts, references and released notebooks all agree."""

import ast
import shutil
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

from vizgen import references
from vizgen.grading.assignment import available, load_assignment
from vizgen.grading.nbgrader_course import run_nbgrader


def _checks(folder: Path) -> list[dict]:
    """Every check in a folder: function, points and docstring, read from the source."""
    found = []
    for module in sorted(folder.glob("test_*.py")):
        for node in ast.parse(module.read_text()).body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            marks = [d for d in node.decorator_list if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "check"]
            assert marks, f"{module.name}::{node.name} has no @check(points, function) marker"
            kwargs = {k.arg: ast.literal_eval(k.value) for k in marks[0].keywords}
            found.append({**kwargs, "doc": ast.get_docstring(node), "id": f"{module.name}::{node.name}"})
    return found


ASSIGNMENTS = ["network_visualization", "generative_adversarial_networks", "style_transfer"]


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def task(request, paths):
    return load_assignment(paths, request.param)


def test_every_assignment_is_listed(paths):
    assert available(paths) == sorted(ASSIGNMENTS)


def test_hidden_counts_shown_to_students_are_true(task):
    hidden = _checks(task.hidden)
    assert task.hidden_checks == len(hidden)
    assert task.hidden_points == sum(c["points"] for c in hidden)


def test_checks_have_names_and_cover_every_function(task):
    public, hidden = _checks(task.public), _checks(task.hidden)
    for c in public + hidden:
        assert c["doc"], f"{c['id']} needs a docstring: it is the check's name for students"
    functions = set(task.starter_signatures())
    assert {c["function"] for c in public} == functions
    assert {c["function"] for c in hidden} == functions


def test_test_cell_points_equal_check_points(task):
    """nbgrader's partial credit is the checks' score, so each test cell is worth its checks' points."""
    points = defaultdict(float)
    for c in _checks(task.public) + _checks(task.hidden):
        points[c["function"]] += c["points"]
    cells = {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in nbformat.read(task.solution_notebook, as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"
    }
    for function, total in points.items():
        cell = cells.get(f"check_{function}")
        assert cell is not None, f"no test cell check_{function} in the solution notebook"
        assert cell.metadata["nbgrader"]["points"] == total, f"check_{function}"
        assert f'run_cell("{task.name}", "{function}", globals())' in cell.source
        assert f'run_cell("{task.name}", "{function}", globals(), hidden=True)' in cell.source


def test_references_are_current(task):
    assert references.verify(task) == [], "run `vizgen references build`"


def test_cuda_references_are_current_and_agree_with_cpu(task):
    """CUDA references are built on a GPU machine (`vizgen references build --device cuda`); once
    committed they must stay current and agree with the CPU ones within each case's tolerance."""
    if not (task.references / "cuda.pt").is_file():
        pytest.skip("no CUDA references committed for this assignment")
    assert references.verify(task, "cuda") == [], "rebuild on a GPU machine: `vizgen references build --device cuda`"
    assert references.parity(task) == []


def test_released_notebook_matches_nbgrader(task, tmp_path):
    """The committed release is exactly what `nbgrader generate_assignment` makes from solutions/."""
    course = tmp_path / "course"
    shutil.copytree(task.solution_notebook.parent, course / "solutions" / task.name)
    shutil.copyfile(task.paths.root / "nbgrader_config.py", course / "nbgrader_config.py")
    run_nbgrader(course, "generate_assignment", task.name, "--force", "--no-db")
    fresh = (course / "assignments" / task.name / task.notebook).read_text()
    assert fresh == task.release_notebook.read_text(), "the release drifted: run `vizgen release`"
    assert "### BEGIN SOLUTION" not in fresh and "BEGIN HIDDEN TESTS" not in fresh
