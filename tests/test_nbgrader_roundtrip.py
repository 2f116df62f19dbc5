"""The real nbgrader round trip agrees with `vizgen grade`, check cell by check cell."""

import csv
from collections import defaultdict

import pytest

from vizgen.grading.assignment import load_assignment
from vizgen.grading.engine import grade_submission
from vizgen.grading.nbgrader_course import make_course


@pytest.mark.slow
@pytest.mark.parametrize("name", ["network_visualization", "generative_adversarial_networks", "style_transfer"])
def test_generate_submit_autograde_feedback_export(paths, tmp_path, name):
    assignment = load_assignment(paths, name)
    partial = assignment.dir / "samples" / "partial.ipynb"
    course = make_course(paths, assignment, tmp_path / "course")
    course.submit("ada", partial)
    course.autograde("ada")
    nbgrader_scores = course.cell_scores("ada")

    report = grade_submission(partial, assignment, hidden=True)
    vizgen_scores = defaultdict(float)
    for check in report.checks:
        vizgen_scores[f"check_{check.function}"] += check.score
    assert nbgrader_scores == dict(vizgen_scores)
    assert 0 < sum(vizgen_scores.values()) < report.max_score  # partial: some pass, some fail

    feedback = course.feedback("ada")
    assert list(feedback.glob("*.html")), "nbgrader generate_feedback wrote no HTML"
    rows = list(csv.DictReader(course.export().open()))
    assert [r["student_id"] for r in rows] == ["ada"]
    assert float(rows[0]["raw_score"]) == sum(vizgen_scores.values())
