"""The course stays consistent: points, counts, references and released notebooks all agree."""

import shutil
from pathlib import Path

import pytest

from vizgen import references
from vizgen.course.config import CoursePaths
from vizgen.course import contract, manifest
from vizgen.course.assignment import available, load_assignment
from vizgen.course.manifest import declared_checks
from vizgen.release.nbgrader_course import run_nbgrader

ASSIGNMENTS = available(CoursePaths(Path(__file__).resolve().parents[2]))  # a new folder is picked up as is


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


def test_the_notebook_contract_holds(task):
    """Checks named and covering every function, failing one way; test cells check_<fn> worth their checks'
    points with both run_cell calls; the notebook's vizgen metadata (see vizgen.course.contract)."""
    assert contract.problems(task) == []


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
