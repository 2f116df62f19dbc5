"""Every assignment's table of mistakes (``autograder/<a>/mistakes.py``), run by one test.

Each mistake replaces its function's cell in a copy of the solution; mistakes of different functions
share a notebook (one mistake costs only its own function, so the others' checks stay a control).
Each must lose points of its function in the public checks (when it says so) and in the hidden ones,
with a failed check naming it (an un-named wrong answer, ``named=False``: none guessing a cause); no
other function may lose points. A function never shares a notebook with one it calls or is called by.
Besides, every graded function is graded once with exactly one bug (its first public mistake): only its
own checks may lose points.
Each correct alternative keeps full marks. The mistakes in ``SHOWN`` (at least one image-valued function per
assignment) fail with a figure of the student's picture, in the public checks and in the hidden ones.
"""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path

import pytest

from helpers import replace_solution
from vizgen.author.tables import Mistake
from vizgen.course.assignment import available, load_assignment
from vizgen.course.config import CoursePaths, GradingConfig
from vizgen.course.notebook import bound_names, extract_submission, needed_nodes

ROOT = Path(__file__).resolve().parents[2]
PATHS = CoursePaths(ROOT)
CONFIG = GradingConfig(call_timeout_s=30)


def table(name: str):
    """The assignment's mistakes module, or None when it keeps none yet."""
    file = load_assignment(PATHS, name).mistakes_file
    if not file.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"_mistakes_{name}", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reaches(name: str) -> dict[str, set[str]]:
    """Graded function -> the graded functions its solution's code reaches (calls, builds on), itself included."""
    solution = extract_submission(load_assignment(PATHS, name).solution_notebook)
    graded = {f for f, info in solution.functions.items() if info.graded}
    return {f: {b for _, node in needed_nodes(solution, f) for b in bound_names(node)} & graded | {f} for f in graded}


def batches(mistakes: list[Mistake], reach: dict[str, set[str]]) -> list[list[Mistake]]:
    """Notebooks of mistakes whose affected functions (their own, what they reach, and ``also``) do not overlap:
    a function never shares a notebook with one it calls or one that calls it, so every function's notebook
    is a one-bug submission as far as that function's checks can tell."""
    out: list[list[Mistake]] = []
    for mistake in mistakes:
        touched = {mistake.function, *mistake.also} | reach.get(mistake.function, set())
        for batch in out:
            theirs = {f for m in batch for f in (m.function, *m.also, *reach.get(m.function, ()))}
            if not touched & theirs:
                batch.append(mistake)
                break
        else:
            out.append([mistake])
    return out


TABLES = {name: table(name) for name in available(PATHS)}
REACH = {name: reaches(name) for name, module in TABLES.items() if module}
CASES = [(name, i) for name, module in TABLES.items() if module
         for i in range(len(batches(module.MISTAKES, REACH[name])))]


def _notebook(task, replacements: list[tuple[str, str]], folder: Path, stem: str) -> Path:
    notebook = task.solution_notebook
    for k, (function, source) in enumerate(replacements):
        notebook = replace_solution(notebook, folder / f"{stem}-{k}.ipynb", function, source)
    return notebook


@pytest.mark.parametrize("name, index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_each_mistake_loses_its_functions_points_with_the_right_words(name, index, tmp_path, grade):
    task = load_assignment(PATHS, name)
    batch = batches(TABLES[name].MISTAKES, REACH[name])[index]
    notebook = _notebook(task, [(m.function, m.source) for m in batch], tmp_path, "submitted-mistakes")
    report = grade(notebook, task, hidden=True, config=CONFIG)
    allowed = {f for m in batch for f in (m.function, *m.also)}
    stray = [(c.function, c.message) for c in report.checks if not c.passed and c.function not in allowed]
    assert not stray, f"a mistake cost other functions' points: {stray}"
    for mistake in batch:
        own = [c for c in report.checks if c.function == mistake.function and not c.passed]
        public, hidden = [c for c in own if not c.hidden], [c for c in own if c.hidden]
        said = public if mistake.public else hidden
        assert hidden, f"{mistake.name}: the hidden checks of {mistake.function} gave full marks"
        assert not mistake.public or public, f"{mistake.name}: the public checks of {mistake.function} gave full marks"
        assert any(mistake.words in c.message for c in said), (mistake.name, [c.message for c in said])
        if mistake.name in TABLES[name].SHOWN:  # its picture, drawn, public and hidden
            for side in {c.hidden for c in own}:
                drawn = [c.figure for c in own if c.hidden == side and c.figure]
                assert drawn, f"{mistake.name}: no failed {'hidden' if side else 'public'} check shows its picture"
                assert all(base64.b64decode(f)[:8] == b"\x89PNG\r\n\x1a\n" for f in drawn)
        if not mistake.named:  # no usual mistake reproduces it: no message may guess one
            guessed = [c.message for c in own if "likely bug" in c.message]
            assert not guessed, f"{mistake.name}: a cause was named that does not reproduce this answer: {guessed}"


@pytest.mark.parametrize("name", [n for n, module in TABLES.items() if module])
def test_each_mistake_costs_its_own_function_only(name):
    """One bug, one function: a mistake in a function another calls costs only the callee (the caller is given
    the solution's callee, ``[given]``), so no entry may excuse other functions' losses."""
    excused = [(m.name, m.also) for m in TABLES[name].MISTAKES if m.also]
    assert not excused, f"mistakes that cost other functions' points: {excused}"


@pytest.mark.parametrize("name", [n for n, module in TABLES.items() if module])
def test_every_function_has_three_honest_public_mistakes_and_an_unnamed_one(name):
    task = load_assignment(PATHS, name)
    table = TABLES[name].MISTAKES
    few = {f: n for f in task.starter_signatures()
           if (n := sum(m.function == f and m.public and m.named for m in table)) < 3}
    unnamed = {f for f in task.starter_signatures() if not any(m.function == f and not m.named for m in table)}
    assert not few, f"graded functions with fewer than three public-caught mistakes: {few}"
    assert not unnamed, f"graded functions without an un-named wrong answer (named=False): {sorted(unnamed)}"


@pytest.mark.parametrize("name", [n for n, module in TABLES.items() if module])
def test_every_assignment_shows_a_wrong_picture(name):
    """Each table names mistakes in image-valued functions whose failed checks must show the picture."""
    shown, names = TABLES[name].SHOWN, {m.name for m in TABLES[name].MISTAKES}
    assert shown and set(shown) <= names, f"SHOWN names no mistake of the table, or unknown ones: {shown}"


WITH_ALTERNATIVES = [name for name, module in TABLES.items() if module and getattr(module, "ALTERNATIVES", [])]


@pytest.mark.parametrize("name", WITH_ALTERNATIVES)
def test_correct_alternatives_keep_full_marks(name, tmp_path, grade):
    task = load_assignment(PATHS, name)
    groups, left = [], list(TABLES[name].ALTERNATIVES)
    while left:  # one alternative per function per notebook
        group, seen = [], set()
        for alternative in list(left):
            if alternative.function not in seen:
                group.append(alternative)
                seen.add(alternative.function)
                left.remove(alternative)
        groups.append(group)
    for k, group in enumerate(groups):
        notebook = _notebook(task, [(a.function, a.source) for a in group], tmp_path, f"submitted-alternatives-{k}")
        report = grade(notebook, task, hidden=True, config=CONFIG)
        lost = [(c.name, c.message) for c in report.checks if not c.passed]
        assert not lost, ([a.name for a in group], lost)


@pytest.mark.parametrize("name", [n for n, module in TABLES.items() if module])
def test_a_one_bug_submission_costs_only_that_function(name, tmp_path, grade):
    """For every graded function, the solution with exactly one bug in it (its first public mistake): only
    that function's checks lose points, public and hidden."""
    task = load_assignment(PATHS, name)
    first = {}
    for mistake in TABLES[name].MISTAKES:
        if mistake.public and mistake.named:
            first.setdefault(mistake.function, mistake)
    for function, mistake in first.items():
        notebook = _notebook(task, [(function, mistake.source)], tmp_path, f"one-bug-{function}")
        report = grade(notebook, task, hidden=True, config=CONFIG)
        lost = {c.function for c in report.checks if not c.passed}
        assert lost == {function}, (mistake.name, sorted(lost))
