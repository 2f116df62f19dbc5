"""A grade nobody can forge, on every path: one submission, a class in lanes, nbgrader, Gradescope.

Each scenario asserts what a grade needs: no points beyond an honest do-nothing submission (the
release), no secret of the grader's environment in any output, other functions and other students
unaffected, nothing left running, and every result (and the class's report) written.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest

from helpers import replace_solution
from hostile.escapes import ATTACKS, ESCAPEE, EXPECTED, PLANTED, SECRET
from verbs.test_gradescope import _run as run_autograder
from verbs.test_gradescope import unpacked_autograder
from vizgen.course.config import GradingConfig
from vizgen.engine.submission import grade_submission
from vizgen.sandbox import confine

NEEDS_KERNEL = pytest.mark.skipif(not confine.plan().kernel,
                                  reason=f"no kernel confinement ({confine.plan().describe()})")
VIZGEN = str(Path(sys.executable).with_name("vizgen"))


def _planted_env() -> dict[str, str]:
    return {**os.environ, PLANTED: SECRET}


def _escapees() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == ESCAPEE:
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def _nothing_left_running() -> None:
    deadline = time.monotonic() + 5
    while _escapees() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _escapees(), "a process a submission started outlived grading"


def _by_function(checks) -> dict[str, float]:
    scores: dict[str, float] = defaultdict(float)
    for check in checks:
        scores[check["name"].split(":")[0] if isinstance(check, dict) else check.function] += (
            check["score"] if isinstance(check, dict) else check.score)
    return dict(scores)


@pytest.fixture(scope="module")
def attacked(assignment, tmp_path_factory):
    """The solution with every attack of ``escapes`` in place of its function (one attack per function)."""
    folder = tmp_path_factory.mktemp("attacked")
    notebook = assignment.solution_notebook
    for name, (function, source) in ATTACKS.items():
        notebook = replace_solution(notebook, folder / f"submitted-{name}.ipynb", function, source)
    return notebook


@pytest.fixture(scope="module")
def do_nothing(assignment) -> dict[str, float]:
    """What an honest submission that implements nothing scores, per function (the release)."""
    report = grade_submission(assignment.release_notebook, assignment, hidden=True)
    return _by_function(report.checks)


@NEEDS_KERNEL
def test_one_submission(assignment, attacked, do_nothing, tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run([VIZGEN, "grade", "--hidden", str(attacked), "--json", str(out)], capture_output=True,
                          text=True, timeout=600, env=_planted_env(), cwd=assignment.paths.root)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    text = out.read_text() + done.stdout + done.stderr
    assert SECRET not in text and PLANTED not in text
    scores = _by_function(result["tests"])
    attacked_functions = {function for function, _ in ATTACKS.values()}
    for test in result["tests"]:
        function = test["name"].split(":")[0]
        if function not in attacked_functions:
            assert test["score"] == test["max_score"], test
    for name, (function, _) in ATTACKS.items():
        assert scores[function] <= do_nothing[function], (name, scores[function])
        messages = " | ".join(t["output"] for t in result["tests"] if t["name"].startswith(function + ":"))
        assert EXPECTED[name] in messages, (name, messages)
    _nothing_left_running()


def _poisoned(folder: Path, assignment) -> dict[str, str]:
    """Notebooks no reader expects, by student: each must get a result and a note."""
    good = json.loads(assignment.release_notebook.read_text())
    nested = "[" * 100000 + "]" * 100000
    metadata_list = {**good, "cells": [{**c, "metadata": ["a", "list"]} for c in good["cells"]]}
    huge = {**good, "cells": good["cells"] + [{"cell_type": "code", "metadata": {}, "outputs": [],
                                                "execution_count": None,
                                                "source": "x = (" * 50000 + "1" + ")" * 50000}]}
    return {"deeply-nested": nested, "metadata-is-a-list": json.dumps(metadata_list),
            "unparseable-cell": json.dumps(huge), "not-json": "\x00\xff not a notebook", "cells-is-a-dict":
            json.dumps({**good, "cells": {"a": 1}})}


@NEEDS_KERNEL
def test_a_class_with_hostile_and_poisoned_notebooks(paths, assignment, attacked, tmp_path):
    submitted = tmp_path / "submitted"

    def hand_in(student: str, text: str | None = None, source: Path | None = None) -> Path:
        target = submitted / student / assignment.name / assignment.notebook
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text if text is not None else source.read_text(errors="replace"))
        return target

    hand_in("ada", source=assignment.solution_notebook)
    hand_in("grades.csv", source=assignment.release_notebook)  # a student id named like a class file
    hand_in("=2+5*cmd", source=assignment.dir / "samples" / "partial.ipynb")
    hand_in("mallory", source=attacked)
    for student, text in _poisoned(tmp_path, assignment).items():
        hand_in(student, text=text)
    link = submitted / "linker" / assignment.name / assignment.notebook
    link.parent.mkdir(parents=True)
    link.symlink_to(assignment.solution_notebook)  # a hand-in that is the solution itself
    out = tmp_path / "graded"
    command = [VIZGEN, "grade", str(submitted), "--assignment", assignment.name, "--hidden", "--jobs", "2",
               "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=_planted_env(), cwd=paths.root)
    assert done.returncode == 0, done.stderr
    students = sorted(p.name for p in submitted.iterdir())
    for student in students:
        assert (out / "students" / student / assignment.name / "results.json").is_file(), student
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert set(rows) == {s if not s.startswith("=") else "'" + s for s in students}
    assert float(rows["ada"]["score"]) == float(rows["ada"]["max_score"])
    assert float(rows["linker"]["score"]) == 0.0
    linker = json.loads((out / "students" / "linker" / assignment.name / "results.json").read_text())
    assert "link to a file outside the submissions folder" in linker["output"]
    for student in _poisoned(tmp_path, assignment):
        record = json.loads((out / "students" / student / assignment.name / "results.json").read_text())
        assert record["score"] == 0 and record["output"], student
    assert (out / "report.html").is_file()
    everything = ("".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
                  + done.stdout + done.stderr)
    assert SECRET not in everything and PLANTED not in everything
    _nothing_left_running()
    again = subprocess.run(command[:-1] + [str(out)], capture_output=True, text=True, timeout=300, env=_planted_env(),
                           cwd=paths.root)  # the resume works after poisoned notebooks
    assert again.returncode == 0 and f"{len(students)} already graded" in again.stdout, again.stdout + again.stderr


@NEEDS_KERNEL
@pytest.mark.slow
def test_nbgrader_scores_come_from_the_check_server(assignment, nbgrader_class):
    """A cell that replaces the checker, one that looks for the grader's secrets, one that leaves a process
    (``nbgrader_class.py``): nbgrader's scores still equal `vizgen grade`'s, the kernel's outputs hold no
    secret, nothing is left running."""
    report = grade_submission(nbgrader_class.handins["mallory", assignment.name], assignment, hidden=True,
                              config=GradingConfig())
    expected = defaultdict(float)
    for check in report.checks:
        expected[f"check_{check.function}"] += check.score
    assert nbgrader_class.course.cell_scores("mallory", assignment.name) == dict(expected)
    graded = nbformat.read(nbgrader_class.autograded("mallory", assignment.name), as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in graded.cells if c.cell_type == "code"])  # what the kernel said
    assert "did not run through the grader's check server" in outputs  # the replaced checker is said, and not trusted
    assert "found: nothing" in outputs and SECRET not in outputs and PLANTED not in outputs
    assert "fork_exec: PermissionError" in outputs
    assert list((nbgrader_class.feedback / "mallory" / assignment.name).glob("*.html"))
    _nothing_left_running()


@pytest.fixture(scope="module")
def gradescope_root(paths, assignment, tmp_path_factory):
    return unpacked_autograder(paths, assignment, tmp_path_factory.mktemp("gradescope"))[0]


@NEEDS_KERNEL
@pytest.mark.parametrize("upload", ["deeply-nested", "attacked"])
def test_gradescope_run_autograder_on_hostile_uploads(paths, assignment, attacked, gradescope_root, monkeypatch,
                                                      upload):
    submission = gradescope_root / "submission"
    submission.mkdir(exist_ok=True)
    for old in submission.iterdir():
        old.unlink()
    target = submission / assignment.notebook
    if upload == "attacked":
        target.write_text(attacked.read_text())
    else:
        target.write_text(_poisoned(submission, assignment)[upload])
    monkeypatch.setenv(PLANTED, SECRET)
    done = run_autograder(gradescope_root, paths)
    assert done.returncode == 0, done.stderr
    text = (gradescope_root / "results" / "results.json").read_text()
    result = json.loads(text)
    assert SECRET not in text and PLANTED not in text
    if upload == "attacked":
        assert 0 < result["score"] < sum(t["max_score"] for t in result["tests"])
    else:
        assert result["score"] == 0 and "not valid notebook JSON" in text
    _nothing_left_running()
