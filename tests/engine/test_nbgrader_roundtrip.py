"""The real nbgrader round trip agrees with `vizgen grade`, check cell by check cell (the class of
``nbgrader_class.py``: generated, autograded, given feedback and exported once)."""

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from vizgen.course.assignment import available, load_assignment
from vizgen.course.config import CoursePaths


ROOT = Path(__file__).resolve().parents[2]
# How the README's opening names each assignment where it states the partial samples' scores.
README_NAMES = {"generative_adversarial_networks": "GAN", "network_visualization": "network visualization",
                "style_transfer": "style transfer", "variational_autoencoders": "VAE",
                "feature_visualization": "feature visualization", "pixelcnn": "PixelCNN"}


def _by_cell(report) -> dict[str, float]:
    scores = defaultdict(float)
    for check in report.checks:
        scores[f"check_{check.function}"] += check.score
    return dict(scores)


@pytest.mark.slow
@pytest.mark.parametrize("name", available(CoursePaths(Path(__file__).resolve().parents[2])))
def test_generate_submit_autograde_feedback_export(paths, nbgrader_class, name, grade):
    report = grade(nbgrader_class.handins["ada", name], load_assignment(paths, name), hidden=True)
    vizgen_scores = _by_cell(report)
    assert nbgrader_class.course.cell_scores("ada", name) == vizgen_scores
    assert 0 < sum(vizgen_scores.values()) < report.max_score  # partial: some pass, some fail
    stated = f"{README_NAMES[name]} {report.score:g}/{report.max_score:g}"
    assert stated in " ".join((ROOT / "README.md").read_text().split()), f"the README should say {stated!r}"
    assert list((nbgrader_class.feedback / "ada" / name).glob("*.html")), "nbgrader generate_feedback wrote no HTML"


@pytest.mark.slow
def test_export_sums_each_students_cells(nbgrader_class):
    course = nbgrader_class.course
    rows = list(csv.DictReader(course.export().open()))
    students = {s for s, _ in nbgrader_class.handins}
    assert {r["student_id"] for r in rows} == students
    for row in rows:  # a student who handed nothing in has a row at zero
        handed_in = (row["student_id"], row["assignment"]) in nbgrader_class.handins
        expected = sum(course.cell_scores(row["student_id"], row["assignment"]).values()) if handed_in else 0.0
        assert float(row["raw_score"]) == pytest.approx(expected), row
    assert sum(float(r["raw_score"]) for r in rows if r["student_id"] == "ada") > 0


@pytest.mark.slow
def test_autograde_kernel_keeps_hidden_checks_from_an_added_cell(paths, nbgrader_class, grade):
    """Cells the student added: one prints a hidden check (the confined kernel refuses, feedback holds none
    of it), one defines a helper a graded function calls (both graders see it and agree cell by cell)."""
    from hostile.attacks import SECRET_MARKER

    name = "generative_adversarial_networks"
    if ("eve", name) not in nbgrader_class.handins:
        pytest.skip("no kernel confinement here")
    feedback = "".join(p.read_text() for p in (nbgrader_class.feedback / "eve" / name).glob("*.html"))
    assert "refused: PermissionError" in feedback
    assert SECRET_MARKER not in feedback
    report = grade(nbgrader_class.handins["eve", name], load_assignment(paths, name), hidden=True)
    assert nbgrader_class.course.cell_scores("eve", name) == _by_cell(report)
    assert all(c.passed for c in report.checks if c.function == "discriminator_loss")


@pytest.mark.slow
def test_given_callees_and_forbidden_calls_score_alike_in_nbgrader(paths, nbgrader_class, grade):
    """grace's Gram matrix is wrong and her instance_norm calls F.instance_norm: nbgrader's kernel, like `vizgen
    grade`, gives style_loss the course's gram_matrix (full marks) and instance_norm nothing, cell by cell; her
    one-colour texture's failed checks show it in nbgrader's feedback (embedded PNGs)."""
    name = "style_transfer"
    report = grade(nbgrader_class.handins["grace", name], load_assignment(paths, name), hidden=True)
    cells = nbgrader_class.course.cell_scores("grace", name)
    assert cells == _by_cell(report)
    full = defaultdict(float)
    for check in report.checks:
        full[f"check_{check.function}"] += check.points
    assert cells["check_style_loss"] == full["check_style_loss"] > 0
    assert cells["check_instance_norm"] == 0 and cells["check_gram_matrix"] < full["check_gram_matrix"]
    feedback = next((nbgrader_class.feedback / "grace" / name).glob("*.html")).read_text()
    assert "earns nothing" in feedback
    assert cells["check_synthesize_texture_nn"] < full["check_synthesize_texture_nn"]
    drawn = sum(bool(c.figure) for c in report.checks if c.function == "synthesize_texture_nn")
    assert drawn and feedback.count("data:image/png;base64,") >= drawn, "the texture's figures are not in feedback"
