"""Shared fixtures: the course paths and the network visualization assignment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers.py

from vizgen.course.config import CoursePaths  # noqa: E402
from vizgen.course.assignment import load_assignment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def paths() -> CoursePaths:
    return CoursePaths(ROOT)


@pytest.fixture(scope="session")
def assignment(paths):
    return load_assignment(paths, "network_visualization")


@pytest.fixture(scope="session")
def nbgrader_class(paths, tmp_path_factory):
    """Every assignment through nbgrader once, with the hand-ins of three students (``nbgrader_class.py``)."""
    from nbgrader_class import nbgrader_class as make

    return make(paths, tmp_path_factory.mktemp("nbgrader-class"))


@pytest.fixture(scope="session")
def grade(paths):
    """``grade(notebook, assignment, **kwargs)``: `grade_submission` in a worker forked from one pre-fork
    server for the session, with each assignment's checks read once, as a batch's lanes grade
    (``tests/verbs/test_batch.py`` and ``tests/engine/test_suite.py`` show they score as fresh interpreters
    and fresh suites do), without each call's interpreter start and imports."""
    from vizgen.course.assignment import available
    from vizgen.engine.submission import grade_submission
    from vizgen.engine.suite import Suites
    from vizgen.sandbox.prefork import PreforkServer

    server = PreforkServer(tuple(sorted({m for n in available(paths) for m in load_assignment(paths, n).warm_imports})))

    suites = Suites()  # each assignment's checks, read once for the session as a lane reads them

    def run(notebook, assignment, suite=None, **kwargs):
        hidden = kwargs.setdefault("hidden", True)
        return grade_submission(notebook, assignment, worker=server.spawn(assignment.warm_imports),
                                suite=suite or suites(assignment, hidden), **kwargs)

    yield run
    server.close()
