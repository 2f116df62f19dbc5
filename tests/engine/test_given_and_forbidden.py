"""``[given]`` and ``[forbidden]``, graded end to end in a scratch course of two functions, ``square`` and
``sum_of_squares`` (which calls ``square``): a mistake in ``square`` costs ``square`` only where the grader
has the references (``references/given.json``, built from the solution), and ``square`` written with the
library's ``torch.square`` earns nothing."""

import shutil
import textwrap
from pathlib import Path

import pytest

from helpers import solution_cell, write_notebook
from vizgen import references
from vizgen.course.assignment import load_assignment
from vizgen.course.config import CoursePaths
from vizgen.engine.submission import grade_submission
from vizgen.sandbox.invoke import given_bindings

NAME = "pairs"
TOML = '''
    notebook = "Pairs.ipynb"

    [forbidden]
    square = ["square", "pow"]  # the operation taught: torch.square and torch.pow earn nothing

    [given]
    sum_of_squares = ["square"]
'''
CHECKS = '''
    import torch

    from vizgen.author import check, expect_match


    @check(points=1, function="square")
    def test_square(student, reference):
        """squares each element"""
        expect_match(student.square(torch.tensor([1.0, 2.0, 3.0])).value, torch.tensor([1.0, 4.0, 9.0]), {},
                     "square(x)", "x * x")


    @check(points=1, function="sum_of_squares")
    def test_sum_of_squares(student, reference):
        """sums the squares"""
        expect_match(student.sum_of_squares(torch.tensor([1.0, 2.0, 3.0])).value, torch.tensor(14.0), {},
                     "sum_of_squares(x)", "the sum of square(x)", scalar=True)
'''
SQUARE = "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION\n"
SUM = "def sum_of_squares(x):\n    ### BEGIN SOLUTION\n    return square(x).sum()\n    ### END SOLUTION\n"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> CoursePaths:
    root = tmp_path_factory.mktemp("course")
    folder = root / "autograder" / NAME
    (folder / "public").mkdir(parents=True)
    (folder / "hidden").mkdir()
    (folder / "assignment.toml").write_text(textwrap.dedent(TOML).lstrip())
    (folder / "public" / "test_pairs.py").write_text(textwrap.dedent(CHECKS).lstrip())
    (root / "solutions" / NAME).mkdir(parents=True)
    write_notebook(root / "solutions" / NAME / "Pairs.ipynb",
                   [solution_cell("square", "import torch\n\n" + SQUARE), solution_cell("sum_of_squares", SUM)])
    paths = CoursePaths(root)
    task = load_assignment(paths, NAME)
    assert "given.json" in [p.name for p in references.build(task)] and references.verify(task) == []
    return paths


def _graded(course: CoursePaths, folder: Path, square: str) -> dict[str, float]:
    notebook = write_notebook(folder / "Pairs.ipynb", [solution_cell("square", "import torch\n\n" + square),
                                                       solution_cell("sum_of_squares", SUM)])
    report = grade_submission(notebook, load_assignment(course, NAME), hidden=False)
    return {c.function: (c.score, c.message) for c in report.checks}


def test_a_callee_mistake_costs_the_callee_only(course, tmp_path):
    scores = _graded(course, tmp_path, "def square(x):\n    return 2 * x\n")
    assert scores["square"][0] == 0 and scores["sum_of_squares"] == (1.0, "")


def test_a_caller_mistake_is_still_the_callers(course, tmp_path):
    notebook = write_notebook(tmp_path / "Pairs.ipynb", [
        solution_cell("square", "import torch\n\n" + SQUARE),
        solution_cell("sum_of_squares", "def sum_of_squares(x):\n    return square(x).mean()\n")])
    report = grade_submission(notebook, load_assignment(course, NAME), hidden=False)
    assert {c.function: c.score for c in report.checks} == {"square": 1.0, "sum_of_squares": 0.0}


def test_without_the_references_the_students_own_callee_is_used(course, tmp_path):
    student_course = tmp_path / "student"
    shutil.copytree(course.root / "autograder", student_course / "autograder",  # a student's bundle: no references
                    ignore=shutil.ignore_patterns("references"))
    shutil.copytree(course.root / "solutions", student_course / "assignments")  # the released notebook stands in
    scores = _graded(CoursePaths(student_course), tmp_path, "def square(x):\n    return 2 * x\n")
    assert scores["square"][0] == 0 and scores["sum_of_squares"][0] == 0


@pytest.mark.parametrize("square", [
    "def square(x):\n    return torch.square(x)\n",
    "def square(x):\n    return x.pow(2)\n",
    "from torch import square as sq\n\ndef square(x):\n    return sq(x)\n",
])
def test_the_library_version_earns_nothing(course, tmp_path, square):
    scores = _graded(course, tmp_path, square)
    assert scores["square"][0] == 0 and "library's" in scores["square"][1] and "earns nothing" in scores["square"][1]
    assert scores["sum_of_squares"] == (1.0, "")  # given the solution's square: not the student's


def test_given_bindings_are_restored_after_the_call():
    namespace = {"__name__": "__main__"}
    exec("def square(x):\n    return 2 * x\n\ndef total(x):\n    return square(x)\n", namespace)
    own = namespace["square"]
    with given_bindings(namespace, [("<reference square>", "def square(x):\n    return x * x\n")]):
        assert namespace["total"](3) == 9
    assert namespace["square"] is own and namespace["total"](3) == 6


def test_a_changed_given_callee_makes_the_references_stale(course):
    task = load_assignment(course, NAME)
    saved = task.given_file.read_text()
    try:
        task.given_file.write_text("{}")
        assert references.verify(load_assignment(course, NAME)) == [
            "given.json: the [given] callees or their solutions changed"]
    finally:
        task.given_file.write_text(saved)
