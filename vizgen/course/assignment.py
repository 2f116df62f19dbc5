"""Assignments: ``autograder/<name>/assignment.toml`` plus its public and hidden checks.

``assignment.toml`` has a schema, ``AssignmentConfig``: its keys, their types and defaults are
defined there once; an unknown key or a wrong type is refused with the file, the key and the fix.
What can be derived (the hidden checks' count, points and titles) is derived (see ``manifest``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import difflib
import functools
import tomllib
import typing
from dataclasses import dataclass, fields
from pathlib import Path

from vizgen.course.config import CoursePaths, GradingConfig
from vizgen.errors import CourseLayoutError, NotebookError
from vizgen.course.notebook import REFERENCE_PREFIX, Submission, extract_submission, read_notebook


@dataclass(frozen=True)
class AssignmentConfig:
    """The keys of ``assignment.toml``: every default is defined here, and only here."""

    notebook: str  # the notebook's file name under solutions/<assignment>/, e.g. "NetworkVisualization.ipynb"
    title: str = ""  # shown to students; the folder's name when empty
    warm_imports: tuple[str, ...] = ()  # modules the worker imports in the background (see spawn)
    probes: str = ""  # the module in its folder that runs beside student code, e.g. "probes.py" (author.support)
    # Resource limits of each graded function's process; 0 keeps GradingConfig's default (see confine.Limits).
    memory_mb: int = 0
    cpu_seconds: int = 0
    file_size_mb: int = 0
    open_files: int = 0
    processes: int = 0
    # function -> library names (last dotted part, e.g. "instance_norm") whose use in the code the function reaches
    # earns nothing on that function's checks (engine.forbidden): where the task is to implement the operation.
    forbidden: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # function -> graded callees whose solution definitions its process gets in place of the student's where the
    # grader has the references (references/given.json): a mistake in a callee then costs the callee's checks only.
    given: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The asset sources (`vizgen fetch --only` names) its checks read at grading: the Gradescope image fetches these.
    assets: tuple[str, ...] = ()


LIMIT_KEYS = ("memory_mb", "cpu_seconds", "file_size_mb", "open_files", "processes")


# Keys that were typed by hand before they were derived: say where they went.
_RETIRED = {
    "hidden_checks": "derived from hidden/ now: remove that line (`vizgen manifest` writes public/hidden_checks.json)",
    "hidden_points": "derived from hidden/ now: remove that line (`vizgen manifest` writes public/hidden_checks.json)",
    "support": "split by process now: name the module that runs beside student code with probes = \"probes.py\", and "
               "put what judges in the grader in judge.py (found by name)",
}


_TABLES = ("forbidden", "given")  # keys that are TOML tables: function name -> list of names


def _is_table(value: typing.Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(n, str) for n in v) for k, v in value.items())


def _type_name(hint: typing.Any) -> str:
    item = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else None
    return f"a list of {item.__name__}" if item else f"a {hint.__name__}"


def _has_type(value: typing.Any, hint: typing.Any) -> bool:
    if typing.get_origin(hint) is tuple:
        return isinstance(value, list) and all(isinstance(v, typing.get_args(hint)[0]) for v in value)
    return isinstance(value, hint)


def read_config(file: Path) -> AssignmentConfig:
    """Parse and validate an ``assignment.toml``; CourseLayoutError names the file, the key and the fix."""
    try:
        data = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as error:
        raise CourseLayoutError(f"{file} is not valid TOML ({error}): fix that line.") from error
    hints = typing.get_type_hints(AssignmentConfig)
    for key, value in data.items():
        if key in _RETIRED:
            raise CourseLayoutError(f"{file}: {key} is {_RETIRED[key]}.")
        if key not in hints:
            close = difflib.get_close_matches(key, hints, n=1)
            guess = f"did you mean {close[0]}? " if close else ""
            raise CourseLayoutError(f"{file}: unknown key {key!r}: {guess}(the keys are {', '.join(hints)}).")
        if key in _TABLES:
            if not _is_table(value):
                raise CourseLayoutError(f"{file}: [{key}] must be a table of function = [\"name\", ...], "
                                        f"not {value!r}: fix that table.")
            continue
        if not _has_type(value, hints[key]) or (isinstance(value, bool) and hints[key] is int):
            raise CourseLayoutError(f"{file}: {key} must be {_type_name(hints[key])}, not {value!r}: fix that line.")
    if "notebook" not in data:
        raise CourseLayoutError(f"{file} has no `notebook` key: add notebook = \"<Name>.ipynb\" (the file under "
                                f"solutions/{file.parent.name}/).")
    def value(key: str):
        if key in _TABLES:
            return tuple((function, tuple(names)) for function, names in data[key].items())
        return tuple(data[key]) if isinstance(data[key], list) else data[key]

    return AssignmentConfig(**{f.name: value(f.name) for f in fields(AssignmentConfig) if f.name in data})


@dataclass(frozen=True)
class Assignment:
    name: str
    paths: CoursePaths
    config: AssignmentConfig

    @property
    def title(self) -> str:
        return self.config.title or self.name

    @property
    def notebook(self) -> str:
        return self.config.notebook

    def grading_config(self, base: GradingConfig) -> GradingConfig:
        """``base`` with this assignment's resource limits where its assignment.toml sets them."""
        limits = {key: getattr(self.config, key) for key in LIMIT_KEYS if getattr(self.config, key)}
        return dataclasses.replace(base, **limits)

    @property
    def warm_imports(self) -> tuple[str, ...]:
        return self.config.warm_imports

    def forbidden(self, function: str) -> tuple[str, ...]:
        """Library names whose use earns ``function`` nothing (``[forbidden]`` in assignment.toml)."""
        return dict(self.config.forbidden).get(function, ())

    def given(self, function: str) -> tuple[str, ...]:
        """Callees whose solution definitions ``function``'s process gets (``[given]`` in assignment.toml)."""
        return dict(self.config.given).get(function, ())

    @property
    def probes_file(self) -> Path | None:
        """The probes module (what runs beside student code: probes, small models), if it has one."""
        return self.dir / self.config.probes if self.config.probes else None

    @property
    def judge_file(self) -> Path:
        """The grader-side module (correct values, mistakes, diagnoses): ``judge.py``; never shipped."""
        return self.dir / "judge.py"

    @property
    def mistakes_file(self) -> Path:
        """The table of honest mistakes and mutants each check must catch: ``mistakes.py``; never shipped."""
        return self.dir / "mistakes.py"

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

    def solution_given_cells(self, function: str) -> list[tuple[str, str]]:
        """The solution's definitions of the callees ``function`` is given (``[given]``), with the imports and
        helpers they need (filenames ``<reference NAME>``): what ``vizgen references build`` stores."""
        solution = extract_submission(self.solution_notebook)
        cells: list[tuple[str, str]] = []
        for callee in self.given(function):
            if callee not in solution.functions:
                raise CourseLayoutError(f"{self.dir / 'assignment.toml'}: [given] {function} names {callee!r}, which "
                                        "the solution notebook does not define: fix that table.")
            cells += [(f"{REFERENCE_PREFIX}{callee}>", code) for _, code in solution.cells_for(callee)]
        return cells

    @property
    def given_file(self) -> Path:
        """The stored given definitions (``references/given.json``): secret, like the hidden references."""
        return self.references / "given.json"

    @functools.cached_property
    def _given_store(self) -> dict:
        try:
            return json.loads(self.given_file.read_text())
        except (OSError, ValueError):
            return {}

    def given_cells(self, function: str) -> list[tuple[str, str]]:
        """The cells ``function``'s process runs after the student's: the stored solution definitions of its
        given callees; [] where the references are absent (a student's machine: self-checks use the student's
        own callees) or it is given none."""
        if not self.given(function):
            return []
        return [(str(name), str(code)) for name, code in self._given_store.get(function, [])]

    def starter_signatures(self) -> dict[str, list[str]]:
        """Parameter names of each graded function (defined in a solution cell) of the starter code, in
        notebook order; helpers the notebook provides in other cells are not graded."""
        return {name: info.params for name, info in self.starter.functions.items() if info.graded}


def available(paths: CoursePaths) -> list[str]:
    """The course's assignments: the folders of autograder/ that hold an assignment.toml (real folders of
    the course, never links), by name."""
    if not paths.autograder.is_dir():
        return []
    return sorted(p.parent.name for p in paths.autograder.glob("*/assignment.toml")
                  if not p.parent.is_symlink() and NAME.fullmatch(p.parent.name))


NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # an assignment's name: a plain word, never a path


def load_assignment(paths: CoursePaths, name: str) -> Assignment:
    """The assignment ``name`` of the course. The name must be one of ``available(paths)``: names come from
    instructors (a command line, nbgrader's folders) or from student-editable places (a notebook's
    metadata, a kernel's request), so a path or any other name is refused, never joined to a folder."""
    known = available(paths)
    if not isinstance(name, str) or name not in known:
        shown = repr(name)[:80]
        raise CourseLayoutError(f"unknown assignment {shown}: choose one of {', '.join(known) or 'none found'} "
                                f"(folders of {paths.autograder}).")
    return Assignment(name, paths, read_config(paths.autograder / name / "assignment.toml"))


def demo_notebooks(paths: CoursePaths) -> list[Path]:
    """For each assignment: its solution, its release and its sample submissions (what `make demo` grades)."""
    found = []
    for task in map(functools.partial(load_assignment, paths), available(paths)):
        found += [task.solution_notebook, task.release_notebook, *sorted((task.dir / "samples").glob("*.ipynb"))]
    return found


def detect_assignment(paths: CoursePaths, notebook: Path) -> Assignment:
    """The assignment a notebook belongs to: its metadata first, then its file name."""
    try:
        meta = read_notebook(notebook).metadata.get("vizgen", {})
        named = meta.get("assignment") if isinstance(meta, dict) else None
        if named in available(paths):  # only a name of the course: the notebook's metadata is the student's
            return load_assignment(paths, named)
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
