"""A forged probe raises no score: each assignment's ``FORGERIES`` (in ``autograder/<a>/mistakes.py``).

A probe runs beside the student's function, in the student's process, so a function can reach it:
its caller's frame (``sys._getframe``), its module (``sys.modules``), its code (``__code__``). The
probes therefore record only what the student's code did, and the grader computes every correct
value and every verdict from that record. Each forgery below tampers with a probe; graded beside
its baseline (the same submission without the tampering), it must not score more on its function.
"""

from __future__ import annotations

import pytest

from assignments.test_mistakes import CONFIG, PATHS, TABLES, _notebook
from vizgen.course.assignment import load_assignment

CASES = [(name, forgery) for name, module in TABLES.items() if module for forgery in getattr(module, "FORGERIES", [])]


def _score(report, function: str) -> float:
    return sum(c.score for c in report.checks if c.function == function)


@pytest.mark.parametrize("name, forgery", CASES, ids=[f"{n}-{f.name}" for n, f in CASES])
def test_a_forged_probe_gains_nothing(name, forgery, tmp_path, grade):
    task = load_assignment(PATHS, name)
    scores = {}
    for stem, source in (("forged", forgery.source), ("baseline", forgery.baseline)):
        notebook = _notebook(task, [(forgery.function, source)], tmp_path, f"submitted-{stem}")
        report = grade(notebook, task, hidden=True, config=CONFIG, functions=[forgery.function])
        scores[stem] = (_score(report, forgery.function), [(c.name, c.score) for c in report.checks])
    assert scores["forged"][0] <= scores["baseline"][0], (forgery.name, scores["forged"][1])


def test_every_probe_of_every_assignment_has_a_forgery():
    """Each probe an assignment registers is forged at least once (the engine's generic probes by some assignment)."""
    from vizgen.author.probes import PROBES
    from vizgen.author.support import support_module

    forged = {f.probe for _, f in CASES}
    registered = set(PROBES)
    for name in TABLES:
        task = load_assignment(PATHS, name)
        if task.probes_file:
            registered |= set(support_module(task.probes_file).SUPPORT.probes)
    assert registered <= forged, f"probes with no forgery in any mistakes.py: {sorted(registered - forged)}"
