"""The real nbgrader round trip in a scratch course folder: generate, submit, autograde, feedback, export.

Used by the tests (nbgrader and `vizgen grade` must agree) and the benchmarks (how much faster
`vizgen grade` is). Each stage is one nbgrader command run from the scratch course root.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from vizgen.course.config import CoursePaths
from vizgen.errors import VizgenError
from vizgen.course.assignment import Assignment


def nbgrader_env() -> dict[str, str]:
    """This environment with its scripts first on PATH: nbgrader runs `alembic` by name."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_nbgrader(root: Path, *args: str, env: dict[str, str] | None = None) -> float:
    """Run one nbgrader command from a course root (``env``: variables to add); returns its wall time in seconds."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, capture_output=True, text=True,
                          env={**nbgrader_env(), **(env or {})})
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise VizgenError(f"nbgrader {' '.join(args)} failed:\n{tail}\n"
                          "Fix the source notebook or course folder and retry.")
    return time.perf_counter() - start


@dataclass
class ScratchCourse:
    """A course folder holding some assignments; each nbgrader command acts on all of them at once (``*``)."""

    root: Path
    assignments: dict[str, Assignment]  # by name, as seen from ``root``

    def nbgrader(self, *args: str, env: dict[str, str] | None = None) -> float:
        return run_nbgrader(self.root, *args, env=env)

    def submit(self, student: str, name: str, notebook: Path) -> None:
        """Hand in ``notebook`` for assignment ``name`` (autograde records the student)."""
        folder = self.root / "submitted" / student / name
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, folder / self.assignments[name].notebook)

    def autograde(self, student: str = "*", env: dict[str, str] | None = None) -> float:
        return self.nbgrader("autograde", "*", "--student", student, "--force", env=env)

    def feedback(self, student: str = "*") -> Path:
        """Feedback for every hand-in of ``student``; the folder ``feedback/``."""
        self.nbgrader("generate_feedback", "*", "--student", student, "--force")
        return self.root / "feedback"

    def export(self) -> Path:
        self.nbgrader("export", "--to", str(self.root / "grades.csv"))
        return self.root / "grades.csv"

    def cell_scores(self, student: str, name: str) -> dict[str, float]:
        """Autograded points per test cell (grade_id -> score) of one hand-in, from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission_notebook(Path(self.assignments[name].notebook).stem, name, student)
            return {grade.name: grade.score for grade in submission.grades if grade.cell.cell_type == "code"}


def make_course(paths: CoursePaths, assignments: list[Assignment], root: Path) -> ScratchCourse:
    """Copy what nbgrader needs into ``root`` and generate the assignments (recorded in a fresh gradebook)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths.root / "nbgrader_config.py", root / "nbgrader_config.py")
    for assignment in assignments:
        shutil.copytree(assignment.solution_notebook.parent, root / "solutions" / assignment.name)
        shutil.copytree(assignment.dir, root / "autograder" / assignment.name)
    course = ScratchCourse(root, {a.name: dataclasses.replace(a, paths=CoursePaths(root)) for a in assignments})
    course.nbgrader("generate_assignment", "*", "--force")
    return course
