"""The grader on submissions named after what students do: each gets a clear message, the rest is graded."""

from collections import defaultdict

import nbformat
import pytest

from helpers import scenario_maker
from engine.scenarios import SCENARIOS
from vizgen.course.config import GradingConfig
from vizgen.engine.submission import grade_submission

FAST = GradingConfig(call_timeout_s=4.0)


def _by_function(report):
    grouped = defaultdict(list)
    for check in report.checks:
        grouped[check.function].append(check)
    return grouped


def _untouched_functions_pass(report, broken: str):
    for function, checks in _by_function(report).items():
        if function != broken:
            assert all(c.passed for c in checks), [(c.name, c.message) for c in checks if not c.passed]


@pytest.fixture(scope="module")
def submitted(assignment, tmp_path_factory):
    return scenario_maker(assignment.solution_notebook, tmp_path_factory.mktemp("submitted"), SCENARIOS)


def test_correct_submission_gets_full_marks(assignment):
    report = grade_submission(assignment.solution_notebook, assignment, hidden=True)
    assert report.score == report.max_score == 27, [(c.name, c.message) for c in report.checks if not c.passed]
    assert report.notes == []


def test_unchanged_starter_scores_zero_saying_not_implemented(assignment):
    report = grade_submission(assignment.release_notebook, assignment, hidden=True)
    assert report.score == 0 and len(report.checks) == 27
    for check in report.checks:
        assert "is not implemented yet: replace `raise NotImplementedError()`" in check.message, check.message


EXPECTED = {
    "wrong-shape": ("saliency has shape (2, 3, 16, 16); expected (2, 16, 16): take the max of |gradient| over "
                    "the colour channel"),
    "raises": "occlusion_map raised IndexError",
    "infinite-loop": "occlusion_map did not return within 4 s: look for a loop that never ends",
    "calls-sys-exit": "make_fooling_image called sys.exit(0)",
    "leaves-hooks-registered": "left 3 hook(s) registered on the model",
    "missing-function": "guided_backprop is not defined in any solution cell",
    "renamed-function": "Found 'compute_saliency_map': did you rename it?",
    "wrong-signature": ("compute_saliency_maps takes (X, model) but the checks call it as "
                        "compute_saliency_maps(X, y, model)"),
    "nan-output": "saliency has",
    "wrong-dtype": "saliency has dtype torch.float64; expected torch.float32",
    "wrong-device": "saliency is on device meta; expected cpu",
    "cheat-attempt": "grading does not allow student code to open",
    "crashes-process": "the process running saliency_to_mask died (exit code 1)",
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_broken_function_costs_only_its_checks(assignment, submitted, scenario):
    notebook, function = submitted(scenario)
    report = grade_submission(notebook, assignment, hidden=True, config=FAST)
    failed = [c for c in _by_function(report)[function] if not c.passed]
    assert failed, f"{scenario}: no check of {function} failed"
    messages = " | ".join(c.message for c in failed)
    assert EXPECTED[scenario] in messages, messages
    _untouched_functions_pass(report, function)


def test_nan_output_message_names_the_cause(assignment, submitted):
    notebook, _ = submitted("nan-output")
    report = grade_submission(notebook, assignment, hidden=False, config=FAST)
    messages = " | ".join(c.message for c in report.checks if not c.passed)
    assert "NaN" in messages and "division by zero" in messages


def test_warning_on_stderr_costs_nothing(assignment, submitted):
    notebook, _ = submitted("warns-on-stderr")
    report = grade_submission(notebook, assignment, hidden=True, config=FAST)
    assert report.score == report.max_score


def test_edited_test_cell_is_graded_with_the_original_checks(assignment, tmp_path):
    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "check_compute_saliency_maps":
            cell.source = "pass  # I made the test pass"
    path = tmp_path / "submitted-edits-a-test-cell.ipynb"
    nbformat.write(nb, path)
    report = grade_submission(path, assignment, hidden=True)
    assert report.score == report.max_score
    assert any("check_compute_saliency_maps were edited; grading used the original checks" in n for n in report.notes)


def test_invalid_json_still_writes_a_full_report(assignment, tmp_path):
    path = tmp_path / "submitted-invalid-json.ipynb"
    path.write_text('{"cells": [ oops')
    report = grade_submission(path, assignment, hidden=True)
    assert report.score == 0 and len(report.checks) == 27
    assert "not valid notebook JSON" in report.notes[0]
    assert all("could not be read" in c.message for c in report.checks)
    assert report.problem == report.notes[0]


def test_another_assignments_notebook_is_reported_once_as_such(paths, assignment):
    from vizgen.course.assignment import load_assignment

    vae = load_assignment(paths, "variational_autoencoders")
    report = grade_submission(vae.release_notebook, assignment, hidden=False)
    assert report.score == 0 and report.notes == [report.problem]
    assert report.problem == (f"This is the notebook of variational_autoencoders, not of {assignment.title}: "
                              f"submit {assignment.notebook} with your work in it.")
    assert {c.message for c in report.checks} == {report.problem}  # one reason, not one per function
    assert all(c.check_id and c.column.startswith(f"{c.function}:") for c in report.checks)


def test_an_empty_notebook_is_reported_once_as_such(assignment, tmp_path):
    path = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    report = grade_submission(path, assignment, hidden=False)
    assert report.score == 0 and report.notes == [report.problem] and "no code cells" in report.problem


def test_a_notebook_whose_metadata_names_another_assignment_is_still_graded(assignment, tmp_path):
    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    nb.metadata["vizgen"] = {"assignment": "variational_autoencoders"}  # the student's to edit: never trusted
    path = tmp_path / "relabelled.ipynb"
    nbformat.write(nb, path)
    report = grade_submission(path, assignment, hidden=False)
    assert report.problem == "" and report.score == report.max_score
