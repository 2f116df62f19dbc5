"""The course stays consistent: points, counts, references and released notebooks all agree."""

import ast
import shutil
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

from vizgen import references
from vizgen.config import CoursePaths
from vizgen.grading import manifest
from vizgen.grading.assignment import available, load_assignment
from vizgen.grading.manifest import declared_checks
from vizgen.grading.nbgrader_course import run_nbgrader

ASSIGNMENTS = available(CoursePaths(Path(__file__).resolve().parents[1]))  # a new folder is picked up as is


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def task(request, paths):
    return load_assignment(paths, request.param)


def test_every_solution_folder_is_an_assignment(paths):
    assert ASSIGNMENTS == sorted(p.name for p in paths.solutions.iterdir() if p.is_dir()), (
        "each solutions/<name>/ needs autograder/<name>/assignment.toml (see README, Adding an assignment)")


def test_hidden_checks_shown_to_students_are_current(task):
    """`vizgen check` reads public/hidden_checks.json: it must list exactly the hidden checks."""
    assert manifest.is_current(task), "run `vizgen manifest`"
    assert [(c["function"], c["points"]) for c in manifest.hidden_checks(task)] == [
        (c["function"], c["points"]) for c in declared_checks(task.hidden)]


def test_checks_have_names_and_cover_every_function(task):
    public, hidden = declared_checks(task.public), declared_checks(task.hidden)
    for c in public + hidden:
        assert c["title"] != c["id"].split("::")[1], f"{c['id']} needs a docstring: it is the check's name for students"
    functions = set(task.starter_signatures())
    assert {c["function"] for c in public} == functions
    assert {c["function"] for c in hidden} == functions


def test_checks_fail_one_way(task):
    """Checks fail through the expect_* helpers or fail(message): no bare assert, no AssertionError."""
    for module in sorted([*task.public.glob("test_*.py"), *task.hidden.glob("test_*.py")]):
        for node in ast.walk(ast.parse(module.read_text())):
            assert not isinstance(node, ast.Assert), f"{module.name}:{node.lineno}: use an expect_* helper or fail()"
            assert getattr(node, "id", "") != "AssertionError", f"{module.name}:{node.lineno}: use fail(message)"


def test_test_cell_points_equal_check_points(task):
    """nbgrader's partial credit is the checks' score, so each test cell is worth its checks' points."""
    points = defaultdict(float)
    for c in declared_checks(task.public) + declared_checks(task.hidden):
        points[c["function"]] += c["points"]
    notebook = nbformat.read(task.solution_notebook, as_version=4)
    assert notebook.metadata.get("vizgen", {}).get("assignment") == task.name, "set the notebook's vizgen metadata"
    cells = {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in notebook.cells
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
