"""Which notebooks to grade, and whose they are.

`vizgen grade` takes notebooks or folders. A folder is read in nbgrader's layout,
``submitted/<student>/<assignment>/<Notebook>.ipynb``: the student id and the assignment come
from the path. A notebook given by path is its own student, named by its file stem (by its
path where two stems collide).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from vizgen.course.config import CoursePaths
from vizgen.errors import VizgenError
from vizgen.course.assignment import Assignment, available, load_assignment, resolve_assignment


@dataclass(frozen=True)
class Handin:
    """One student's notebook for one assignment; ``refused`` says why it is not graded (it scores zero)."""

    student: str
    notebook: Path
    assignment: Assignment
    refused: str = ""


def _outside(notebook: Path, folder: Path) -> str:
    """Why a hand-in found under ``folder`` is refused: it resolves (through links) to a file outside it."""
    real, root = notebook.resolve(), folder.resolve()
    if real != root and root not in real.parents:
        return (f"the hand-in {notebook.name} is a link to a file outside the submissions folder: it was not graded; "
                "submit the notebook file itself")
    return ""


def _path_id(notebook: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", str(notebook.with_suffix(""))).strip("_")


def _from_folder(paths: CoursePaths, folder: Path, name: str | None, tasks: dict) -> list[Handin]:
    """nbgrader's ``<folder>/<student>/<assignment>/*.ipynb``; the assignment's own notebook first."""
    handins = []
    known = available(paths)
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if (name and assignment_dir.name != name) or assignment_dir.name not in known:
                continue  # another course's folder, or notes beside the hand-ins: not ours to grade
            if assignment_dir.name not in tasks:
                tasks[assignment_dir.name] = load_assignment(paths, assignment_dir.name)
            task = tasks[assignment_dir.name]
            expected = assignment_dir / task.notebook
            found = sorted(assignment_dir.glob("*.ipynb"))
            notebook = expected if expected.is_file() else (found[0] if len(found) == 1 else expected)
            handins.append(Handin(student_dir.name, notebook, task, _outside(notebook, folder)))
    if not handins:
        raise VizgenError(
            f"{folder} holds no submissions in nbgrader's layout <student>/<assignment>/*.ipynb"
            + (f" for {name}" if name else "")
            + ": collect them there (`nbgrader collect`) or give the notebooks' paths."
        )
    return handins


def discover(paths: CoursePaths, targets: list[Path], name: str | None = None) -> list[Handin]:
    """The hand-ins named by ``targets`` (notebooks or nbgrader ``submitted/`` folders), one per student
    and assignment. A student's folder without the assignment's notebook is kept: grading reports it."""
    tasks: dict[str, Assignment] = {}  # one Assignment per name, so its starter notebook is parsed once
    handins: list[Handin] = []
    loose: list[Path] = []
    for target in targets:
        if target.is_dir():
            handins += _from_folder(paths, target, name, tasks)
        elif target.is_file() and target.suffix == ".ipynb":
            loose.append(target)
        else:
            raise VizgenError(f"{target} is not a notebook file or a folder: give the paths of submitted .ipynb files "
                              "or nbgrader's submitted/ folder.")
    stems = [n.stem for n in loose]
    for notebook in loose:
        task = resolve_assignment(paths, notebook, name)
        task = tasks.setdefault(task.name, task)
        student = notebook.stem if stems.count(notebook.stem) == 1 else _path_id(notebook)
        handins.append(Handin(student, notebook, task))
    keys = [(h.student, h.assignment.name) for h in handins]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise VizgenError(f"{twice[0][0]} has two notebooks for {twice[0][1]}: give one notebook per student.")
    return handins
