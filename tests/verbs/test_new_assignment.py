"""README's "Adding an assignment", followed step by step: a throwaway assignment is picked up and graded.

The course is a scratch folder with one assignment, `scaling`: one function (`scale`), one public
and one hidden check, a probes module with a check input and a recording probe, a judge with the
usual mistakes, a table of mistakes, and a public and a hidden reference case. Nothing outside its
folders names it.
"""

import csv
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest

from helpers import solution_cell, write_notebook
from vizgen import references
from vizgen.cli import main
from vizgen.course.config import CoursePaths
from vizgen.course import contract, manifest
from vizgen.course.assignment import available, demo_notebooks, load_assignment

ROOT = Path(__file__).resolve().parents[2]
NAME = "scaling"

FILES = {
    "assignment.toml": """
        title = "Scaling"
        notebook = "Scaling.ipynb"
        probes = "probes.py"
    """,
    "probes.py": '''
        """What runs beside the student's code: a check input and a probe that records two calls."""

        import torch

        from vizgen.author import Support


        def ramp(n):
            """(n,) float32: 0, 1, ..., n - 1."""
            return torch.arange(n, dtype=torch.float32)


        def twice(fn, *args):
            """Call the student's function twice on the same arguments; both results, as they came."""
            return {"first": fn(*args), "second": fn(*args)}


        SUPPORT = Support(probes={"twice": twice})
    ''',
    "judge.py": '''
        """The grader's side: the usual mistakes of scale."""


        def scale_mistakes(x, factor):
            return {"correct": x * factor, "the factor's sign was dropped: multiply by factor itself": x * abs(factor),
                    "factor was added, not multiplied": x + factor}
    ''',
    "mistakes.py": '''
        from vizgen.author import Alternative, Mistake

        MISTAKES = [Mistake("adds", "scale", "def scale(x, factor):\\n    return x + factor\\n",
                            "factor was added, not multiplied")]
        ALTERNATIVES = [Alternative("mul", "scale",
                                    "import torch\\n\\ndef scale(x, factor):\\n    return torch.mul(x, factor)\\n")]
    ''',
    "public/test_scale.py": '''
        from vizgen.author import ReferenceCase, assignment_probes, check, expect_case, expect_input_unchanged

        probes = assignment_probes(__file__)

        PUBLIC_CASES = [
            ReferenceCase("by_hand", "scale", lambda: ([probes.ramp(4), 3.0], {}), atol=0, rtol=0,
                          why="small integers times 3: exact", mistakes="scale_mistakes"),
        ]


        @check(points=1, function="scale")
        def test_scale_by_hand(student, reference):
            """multiplies every element by factor and leaves x as it was"""
            case = reference.case("by_hand")
            call = student.scale(*case.args)
            expect_case(call.value, case, "scale(x, 3)", "x * factor")
            expect_input_unchanged(call, "x")
    ''',
    "hidden/test_scale_hidden.py": '''
        import torch

        from vizgen.author import ReferenceCase, assignment_judge, assignment_probes, check, expect_case, fail

        probes = assignment_probes(__file__)
        judge = assignment_judge(__file__)

        REFERENCE_CASES = [
            ReferenceCase("negative_factor", "scale", lambda: ([probes.ramp(6), -0.5], {}), atol=0, rtol=0,
                          why="one float32 multiplication by a power of two: exact on every device"),
        ]


        @check(points=1, function="scale")
        def test_scale_reference(student, reference):
            """matches the reference for a negative factor, the same on every call"""
            case = reference.case("negative_factor")
            twice = student.probe("twice", "scale", *case.args).value
            expect_case(twice["first"], case, "scale(x, -0.5)", "x * factor", mistakes=judge.scale_mistakes(*case.args))
            if not torch.equal(twice["first"], twice["second"]):  # judged here, from what the probe recorded
                fail("two calls of scale gave different results: compute from the arguments only.")
    ''',
}

STARTER = '''def scale(x, factor):
    """x * factor.

    Inputs:
    - x: float32 tensor of any shape; not modified.
    - factor: float.

    Returns a float32 tensor of x's shape.
    """
    ### BEGIN SOLUTION
    return x * factor
    ### END SOLUTION'''

TEST_CELL = f'''from vizgen.check import run_cell
run_cell("{NAME}", "scale", globals())
### BEGIN HIDDEN TESTS
run_cell("{NAME}", "scale", globals(), hidden=True)
### END HIDDEN TESTS'''


GRADED = """## How this notebook is graded

| function | public | hidden | total | why |
|---|---|---|---|---|
| `scale` | 1 | 1 | 2 | the only function: its value, then the same on every call. |
"""


def _test_cell(grade_id: str, source: str, points: float) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
                                 "schema_version": 3, "solution": False, "task": False}
    return cell


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> CoursePaths:
    """Steps 1-5 of the recipe in a scratch course: settings, source notebook, probes and judge, checks, mistakes."""
    root = tmp_path_factory.mktemp("course")
    shutil.copyfile(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    for relative, text in FILES.items():
        file = root / "autograder" / NAME / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text).lstrip())
    (root / "solutions" / NAME).mkdir(parents=True)
    write_notebook(root / "solutions" / NAME / "Scaling.ipynb",
                   [nbformat.v4.new_markdown_cell("# Scaling"), nbformat.v4.new_markdown_cell(GRADED),
                    solution_cell("scale", STARTER),
                    _test_cell("check_scale", TEST_CELL, 2)],
                   {"vizgen": {"assignment": NAME}})
    return CoursePaths(root)


@pytest.mark.slow
def test_the_recipe_adds_a_graded_assignment(course, monkeypatch, capsys):
    monkeypatch.chdir(course.root)
    assert available(course) == [NAME]  # picked up from its folder, listed nowhere else
    # Step 5: release (nbgrader + manifest), references, check, grade.
    assert main(["release", "--assignment", NAME]) == 0
    assert main(["references", "build", "--assignment", NAME]) == 0
    task = load_assignment(course, NAME)
    assert (task.public / "references.pt").is_file() and (task.references / "cpu.pt").is_file()
    assert contract.problems(task) == [] and references.verify(task) == [] and manifest.is_current(task)
    assert "raise NotImplementedError()" in task.release_notebook.read_text()
    assert demo_notebooks(course) == [task.solution_notebook, task.release_notebook]
    capsys.readouterr()

    assert main(["check", str(task.solution_notebook)]) == 0
    out = capsys.readouterr().out
    assert "1/1 public checks passed" in out
    assert "1 hidden checks (1 points) run at grading:\n  scale: matches the reference for a negative factor" in out

    assert main(["grade", "--hidden", "--csv", "grades.csv", str(task.solution_notebook),
                 str(task.release_notebook)]) == 0
    rows = list(csv.DictReader((course.root / "grades.csv").open()))
    assert [(float(r["score"]), float(r["max_score"])) for r in rows] == [(2, 2), (0, 2)], rows
    assert "scale is not implemented yet" in capsys.readouterr().out


def test_release_refuses_a_broken_notebook_contract(course, monkeypatch, capsys):
    notebook = course.root / "solutions" / NAME / "Scaling.ipynb"
    original = notebook.read_text()
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[-1].metadata["nbgrader"]["points"] = 3
    nbformat.write(nb, notebook)
    monkeypatch.chdir(course.root)
    try:
        assert main(["release", "--assignment", NAME]) == 2
    finally:
        notebook.write_text(original)
    assert ("test cell check_scale is worth 3 points; its checks are worth 2: set its points to 2"
            in capsys.readouterr().err)


@pytest.mark.slow
def test_a_stale_manifest_is_detected(course):
    task = load_assignment(course, NAME)
    manifest.write_manifest(task)
    hidden = task.hidden / "test_scale_hidden.py"
    original = hidden.read_text()
    hidden.write_text(original.replace("for a negative factor", "for a factor below zero"))
    try:
        assert not manifest.is_current(task)
    finally:
        hidden.write_text(original)
    assert manifest.is_current(task)


@pytest.mark.slow
def test_the_recipes_table_of_mistakes_is_caught(course, monkeypatch, tmp_path):
    import importlib.util

    from helpers import replace_solution
    from vizgen.engine.submission import grade_submission

    monkeypatch.chdir(course.root)
    assert main(["release", "--assignment", NAME]) == 0
    assert main(["references", "build", "--assignment", NAME]) == 0
    task = load_assignment(course, NAME)
    spec = importlib.util.spec_from_file_location("_scaling_mistakes", task.mistakes_file)
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    for mistake in table.MISTAKES:
        notebook = replace_solution(task.solution_notebook, tmp_path / f"{mistake.name}.ipynb", mistake.function,
                                    mistake.source)
        failed = [c for c in grade_submission(notebook, task, hidden=True).checks if not c.passed]
        assert {c.hidden for c in failed} == {False, True} and any(mistake.words in c.message for c in failed)
    for alternative in table.ALTERNATIVES:
        notebook = replace_solution(task.solution_notebook, tmp_path / f"{alternative.name}.ipynb",
                                    alternative.function, alternative.source)
        assert all(c.passed for c in grade_submission(notebook, task, hidden=True).checks)
