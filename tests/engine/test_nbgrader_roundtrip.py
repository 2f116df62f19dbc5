"""The real nbgrader round trip agrees with `vizgen grade`, check cell by check cell."""

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from vizgen.course.config import CoursePaths
from vizgen.course.assignment import available, load_assignment
from vizgen.engine.submission import grade_submission
from vizgen.release.nbgrader_course import make_course


@pytest.mark.slow
@pytest.mark.parametrize("name", available(CoursePaths(Path(__file__).resolve().parents[2])))
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


_PEEK = '''import os, torch, vizgen
from vizgen.course.config import course_paths
hidden = course_paths().autograder / "generative_adversarial_networks" / "hidden" / "test_gan_hidden.py"
for read in (lambda p: open(p).read(),
             lambda p: bytes(torch.from_file(str(p), size=os.stat(p).st_size, dtype=torch.uint8).tolist()).decode()):
    try:
        print(read(hidden))
    except Exception as error:
        print("refused:", type(error).__name__, error)
'''


_HELPER = """import torch
import torch.nn.functional as F

def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))
"""

_USES_HELPER = """def discriminator_loss(logits_real, logits_fake):
    return _bce(logits_real, 1.0) + _bce(logits_fake, 0.0)
"""


@pytest.mark.slow
def test_autograde_kernel_keeps_hidden_checks_from_an_added_cell(paths, tmp_path):
    """Cells the student added: one prints a hidden check (the confined kernel refuses, feedback holds none
    of it), one defines a helper a graded function calls (both graders see it and agree cell by cell)."""
    import nbformat

    from hostile.attacks import SECRET_MARKER
    from vizgen.sandbox import confine

    if not confine.plan().kernel:
        pytest.skip(f"no kernel confinement here ({confine.plan().describe()})")
    assignment = load_assignment(paths, "generative_adversarial_networks")
    nb = nbformat.read(assignment.dir / "samples" / "partial.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "discriminator_loss":
            cell.source = _USES_HELPER
    nb.cells.insert(1, nbformat.v4.new_code_cell(_PEEK))
    nb.cells.insert(2, nbformat.v4.new_code_cell(_HELPER))
    submission = tmp_path / "submitted-prints-a-hidden-check.ipynb"
    nbformat.write(nb, submission)
    course = make_course(paths, assignment, tmp_path / "course")
    course.submit("eve", submission)
    course.autograde("eve")
    feedback = "".join(p.read_text() for p in course.feedback("eve").glob("*.html"))
    assert "refused: PermissionError" in feedback
    assert SECRET_MARKER not in feedback
    report = grade_submission(submission, assignment, hidden=True)
    scores = defaultdict(float)
    for check in report.checks:
        scores[f"check_{check.function}"] += check.score
    assert course.cell_scores("eve") == dict(scores)
    assert all(c.passed for c in report.checks if c.function == "discriminator_loss")
