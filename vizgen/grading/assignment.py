"""Assignments: ``autograder/<name>/assignment.toml`` plus its public and hidden checks."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from vizgen.config import CoursePaths
from vizgen.errors import CourseLayoutError, NotebookError
from vizgen.grading.extract import Submission, extract_submission, read_notebook


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    notebook: str  # file name, e.g. "NetworkVisualization.ipynb"
    paths: CoursePaths
    hidden_checks: int = 0  # shipped to students, who lack hidden/: a test keeps it true
    hidden_points: float = 0.0
    warm_imports: tuple[str, ...] = ()  # modules the worker imports in the background (see spawn)

    @property
    def dir(self) -> Path:
        return self.paths.autograder / self.name

    @property
    def public(self) -> Path:
        return self.dir / "public"

    @property
    def hidden(self) -> Path:
        return self.dir / "hidden"

    @property
    def references(self) -> Path:
        return self.dir / "references"

    @property
    def solution_notebook(self) -> Path:
        return self.paths.solutions / self.name / self.notebook

    @property
    def release_notebook(self) -> Path:
        return self.paths.assignments / self.name / self.notebook

    @functools.cached_property
    def starter(self) -> Submission:
        """The starter code as a submission: the released notebook (the solution one before a release).

        Read once per Assignment: grading asks for its signatures, test cells and function order.
        """
        source = self.release_notebook if self.release_notebook.is_file() else self.solution_notebook
        return extract_submission(source)

    def starter_signatures(self) -> dict[str, list[str]]:
        """Parameter names of each graded function in the starter code, in notebook order."""
        return {name: info.params for name, info in self.starter.functions.items()}


def available(paths: CoursePaths) -> list[str]:
    if not paths.autograder.is_dir():
        return []
    return sorted(p.parent.name for p in paths.autograder.glob("*/assignment.toml"))


def load_assignment(paths: CoursePaths, name: str) -> Assignment:
    config = paths.autograder / name / "assignment.toml"
    if not config.is_file():
        known = ", ".join(available(paths)) or "none found"
        raise CourseLayoutError(f"unknown assignment {name!r}: choose one of {known} (folders of {paths.autograder}).")
    try:
        data = tomllib.loads(config.read_text())
    except tomllib.TOMLDecodeError as error:
        raise CourseLayoutError(f"{config} is not valid TOML ({error}): fix that line.") from error
    if "notebook" not in data:
        raise CourseLayoutError(f"{config} has no `notebook` key: add notebook = \"<Name>.ipynb\" (the file under "
                                f"solutions/{name}/).")
    return Assignment(
        name=name,
        title=data.get("title", name),
        notebook=data["notebook"],
        paths=paths,
        hidden_checks=int(data.get("hidden_checks", 0)),
        hidden_points=float(data.get("hidden_points", 0)),
        warm_imports=tuple(data.get("warm_imports", ())),
    )


def detect_assignment(paths: CoursePaths, notebook: Path) -> Assignment:
    """The assignment a notebook belongs to: its metadata first, then its file name."""
    try:
        meta = read_notebook(notebook).metadata.get("vizgen", {})
        if meta.get("assignment"):
            return load_assignment(paths, meta["assignment"])
    except NotebookError:  # an unreadable notebook is reported by the grader, with its own message
        pass
    for name in available(paths):
        task = load_assignment(paths, name)
        if task.notebook == Path(notebook).name:
            return task
    raise CourseLayoutError(
        f"cannot tell which assignment {notebook} belongs to: pass --assignment NAME "
        f"(one of {', '.join(available(paths)) or 'none found'})."
    )


def resolve_assignment(paths: CoursePaths, notebook: Path, name: str | None = None) -> Assignment:
    """The named assignment, or the one the notebook belongs to."""
    return load_assignment(paths, name) if name else detect_assignment(paths, notebook)
