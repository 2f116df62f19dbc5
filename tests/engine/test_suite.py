"""An assignment's checks read once (``engine.suite``) grade as checks read afresh for every submission."""

import re
from pathlib import Path

import pytest

from helpers import replace_solution
from vizgen.course.assignment import Assignment, AssignmentConfig, available, load_assignment
from vizgen.course.config import CoursePaths
from vizgen.engine.suite import CheckSuite, collect
from vizgen.errors import CourseLayoutError

ROOT = Path(__file__).resolve().parents[2]

NO_ABS = ("def compute_saliency_maps(X, y, model):\n"
          "    X = X.clone().requires_grad_()\n"
          "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
          "    return X.grad.amax(dim=1)\n")


def _toy(tmp_path: Path, source: str) -> Assignment:
    public = tmp_path / "autograder" / "toy" / "public"
    public.mkdir(parents=True)
    (public / "test_toy.py").write_text(source)
    return Assignment("toy", CoursePaths(tmp_path), AssignmentConfig(notebook="Toy.ipynb"))


def _seen(report) -> list[tuple]:
    """Each check's name, score, message (its numbers left out: a random function's draws are not seeded, by
    its contract) and whether it drew a figure."""
    return [(c.name, c.score, re.sub(r"-?[\d.]+", "#", c.message), bool(c.figure)) for c in report.checks]


@pytest.mark.parametrize("name", available(CoursePaths(ROOT)))
def test_checks_read_once_grade_as_checks_read_afresh(name, paths, grade, tmp_path):
    """The partial sample, then the solution, then the sample again through one suite: the same results as
    through a fresh suite each (no check module keeps what it saw of an earlier submission)."""
    task = load_assignment(paths, name)
    shared = CheckSuite(task, hidden=True)
    handins = [task.dir / "samples" / "partial.ipynb", task.solution_notebook, task.dir / "samples" / "partial.ipynb"]
    once = [_seen(grade(nb, task, hidden=True, suite=shared)) for nb in handins]
    afresh = [_seen(grade(nb, task, hidden=True, suite=CheckSuite(task, hidden=True))) for nb in handins]
    assert once == afresh
    assert once[0] == once[2] and sum(s for _, s, _, _ in once[1]) > sum(s for _, s, _, _ in once[0])


def test_a_suite_runs_only_the_functions_asked_for_in_notebook_order(assignment, grade, tmp_path):
    notebook = replace_solution(assignment.solution_notebook, tmp_path / "no_abs.ipynb", "compute_saliency_maps",
                                NO_ABS)
    suite = CheckSuite(assignment, hidden=False)
    report = grade(notebook, assignment, hidden=False, suite=suite, functions=("compute_saliency_maps",))
    assert {c.function for c in report.checks} == {"compute_saliency_maps"}
    assert not any(c.hidden for c in report.checks) and any(not c.passed for c in report.checks)
    whole = grade(notebook, assignment, hidden=False, suite=suite)
    order = list(dict.fromkeys(c.function for c in whole.checks))
    assert order == list(assignment.starter_signatures())


def test_a_suite_of_other_checks_is_refused(assignment, paths):
    from vizgen.engine.submission import run_checks

    with pytest.raises(ValueError, match="pass the suite of the assignment"):
        run_checks(assignment, None, hidden=True, suite=CheckSuite(assignment, hidden=False))


def test_a_check_module_that_fails_to_import_is_named(tmp_path):
    toy = _toy(tmp_path, "import not_a_module_anywhere\n")
    with pytest.raises(CourseLayoutError, match="test_toy.py: ModuleNotFoundError"):
        collect(toy, hidden=False)


def test_a_check_may_ask_for_the_student_and_the_references_only(tmp_path):
    toy = _toy(tmp_path, "from vizgen.author import check\n\n\n@check(points=1, function='f')\n"
                         "def test_f(student, tmp_path):\n    pass\n")
    with pytest.raises(CourseLayoutError, match=r"asks for \['tmp_path'\]"):
        collect(toy, hidden=False)


def test_only_marked_checks_defined_in_the_module_are_collected(tmp_path):
    toy = _toy(tmp_path, "from vizgen.author import check\n\n\ndef test_helper(student):\n    pass\n\n\n"
                         "@check(points=2, function='f')\ndef test_f(student, reference):\n"
                         "    '''does the thing'''\n")
    (checks,) = collect(toy, hidden=False)
    assert (checks.name, checks.points, checks.wants, checks.check_id) == ("f: does the thing", 2.0,
                                                                            ("student", "reference"), "f")


def test_a_check_that_breaks_fails_alone_whatever_it_raises(tmp_path, monkeypatch):
    """pytest.fail (a BaseException) or sys.exit in a check fails that check, as an internal error to report;
    the next check still runs."""
    toy = _toy(tmp_path, "import sys\n\nimport pytest\n\nfrom vizgen.author import check, fail\n\n\n"
                         "@check(points=1, function='f')\ndef test_a(student):\n    pytest.fail('oops')\n\n\n"
                         "@check(points=1, function='f')\ndef test_b(student):\n    sys.exit(3)\n\n\n"
                         "@check(points=2, function='f')\ndef test_c(student):\n    fail('wrong: do this')\n\n\n"
                         "@check(points=1, function='f')\ndef test_d(student):\n    pass\n")
    monkeypatch.setattr(Assignment, "starter_signatures", lambda self: {"f": []})
    results = CheckSuite(toy, hidden=False).run(runner=None)
    assert [(r.check_id, r.score) for r in results] == [("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 1.0)]
    assert all("internal error in this check" in r.message for r in results[:2])
    assert results[2].message == "wrong: do this"
