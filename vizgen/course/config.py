"""Typed configuration with every default defined once.

Paths are resolved from the course root: the folder holding ``nbgrader_config.py`` and
``autograder/``. It is found from ``$VIZGEN_COURSE_ROOT``, else by walking up from a start
folder (the current directory by default).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vizgen.errors import CourseLayoutError

COURSE_ROOT_ENV = "VIZGEN_COURSE_ROOT"


@dataclass(frozen=True)
class GradingConfig:
    """Limits for running student code."""

    call_timeout_s: float = 20.0  # one call of a student function
    startup_timeout_s: float = 60.0  # the child process importing torch and the student cells
    torch_threads: int = 1  # tiny check models run fastest single-threaded
    max_output_chars: int = 2000  # student stdout/stderr kept per failing check
    cuda: bool = False  # calls may run on the GPU: the worker loads CUDA before its sandbox
    isolation: str = "auto"  # the kernel confinement: auto (the strongest here) or a level of grading.confine
    require_isolation: bool = False  # refuse to grade without kernel confinement (Gradescope)
    max_reply_mb: int = 256  # a larger return value is refused (and its process killed)
    # Per graded function's process (an assignment may raise them in its assignment.toml):
    memory_mb: int = 4096  # address space above what the worker maps after importing torch
    cpu_seconds: int = 300  # CPU time of all calls of one function together
    file_size_mb: int = 64  # largest file student code may write in its scratch folder
    open_files: int = 256
    processes: int = 64  # RLIMIT_NPROC, for a non-root grader (the kernel exempts root)

    def limits(self) -> dict:
        return {"memory_mb": self.memory_mb, "cpu_seconds": self.cpu_seconds, "file_size_mb": self.file_size_mb,
                "open_files": self.open_files, "processes": self.processes}


@dataclass(frozen=True)
class CoursePaths:
    root: Path

    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def assignments(self) -> Path:
        return self.root / "assignments"

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def cache(self) -> Path:
        return self.datasets / "cache"

    @property
    def styles(self) -> Path:
        return self.datasets / "styles"


def _is_course_root(path: Path) -> bool:
    return (path / "autograder").is_dir() or (path / "nbgrader_config.py").is_file()


def find_course_root(start: Path | None = None) -> Path:
    """Return the course root, or raise CourseLayoutError saying how to point at it."""
    env = os.environ.get(COURSE_ROOT_ENV)
    if env:
        root = Path(env).resolve()
        if not _is_course_root(root):
            raise CourseLayoutError(
                f"{COURSE_ROOT_ENV}={env} has no autograder/ folder or nbgrader_config.py: "
                "point it at the course repository (or the unzipped student bundle)."
            )
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_course_root(candidate):
            return candidate
    raise CourseLayoutError(
        f"no course repository found above {here}: run vizgen from inside the course folder "
        f"(the one with autograder/), or set {COURSE_ROOT_ENV}."
    )


def course_paths(start: Path | None = None) -> CoursePaths:
    return CoursePaths(find_course_root(start))
