"""Every assignment's table of mistakes (``autograder/<a>/mistakes.py``), run by one test.

Each mistake replaces its function's cell in a copy of the solution; mistakes of different functions
share a notebook (one mistake costs only its own function, so the others' checks stay a control).
Each must lose points of its function in the public checks (when it says so) and in the hidden ones,
with a failed check naming it; no other function may lose points but those it lists in ``also``.
Each correct alternative keeps full marks.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from helpers import replace_solution
from vizgen.author.tables import Mistake
from vizgen.course.assignment import available, load_assignment
from vizgen.course.config import CoursePaths, GradingConfig

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


def batches(mistakes: list[Mistake]) -> list[list[Mistake]]:
    """Notebooks of mistakes whose affected functions (their own and ``also``) do not overlap."""
    out: list[list[Mistake]] = []
    for mistake in mistakes:
        touched = {mistake.function, *mistake.also}
        for batch in out:
            if not touched & {f for m in batch for f in (m.function, *m.also)}:
                batch.append(mistake)
                break
        else:
            out.append([mistake])
    return out


TABLES = {name: table(name) for name in available(PATHS)}
CASES = [(name, i) for name, module in TABLES.items() if module for i in range(len(batches(module.MISTAKES)))]


def _notebook(task, replacements: list[tuple[str, str]], folder: Path, stem: str) -> Path:
    notebook = task.solution_notebook
    for k, (function, source) in enumerate(replacements):
        notebook = replace_solution(notebook, folder / f"{stem}-{k}.ipynb", function, source)
    return notebook


@pytest.mark.parametrize("name, index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_each_mistake_loses_its_functions_points_with_the_right_words(name, index, tmp_path, grade):
    task = load_assignment(PATHS, name)
    batch = batches(TABLES[name].MISTAKES)[index]
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
