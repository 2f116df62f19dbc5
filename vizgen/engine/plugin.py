"""The pytest plugin that turns check modules into graded checks.

A check is a pytest test marked with ``@check(points, function)``. It receives ``student``
(call the student's functions: ``student.compute_saliency_maps(X, y, model)`` returns a
``Call``) and ``reference`` (stored reference cases). The plugin records a ``CheckResult``
per check, with the failure's student-facing message.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pytest

from vizgen.engine.stores import References
from vizgen.author.checks import MARK
from vizgen.course.manifest import check_title
from vizgen.author.messages import StudentFacing
from vizgen.engine.figures import figure_text
from vizgen.engine.results import CheckResult
from vizgen.sandbox.runners import Runner



class Student:
    """``student.<function>(*args, **kwargs)`` calls the submission's function through the runner;
    ``student.probe(name, function, ...)`` runs a probe around it (the engine's or the assignment's);
    ``student.differentiate(function, ..., wrt=(...))`` also returns the gradient of its scalar result
    with respect to the named arguments, for loops the judge runs in the grader."""

    def __init__(self, runner: Runner):
        self._runner = runner

    def probe(self, probe: str, function: str, *args, **kwargs):
        return self._runner.probe(probe, function, *args, **kwargs)

    def differentiate(self, function: str, *args, wrt: tuple = (), verify: bool = False, **kwargs):
        return self._runner.differentiate(function, *args, wrt=wrt, verify=verify, **kwargs)

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        return lambda *args, **kwargs: self._runner.call(function, *args, **kwargs)


def check_name(item: pytest.Item) -> str:
    return check_title(getattr(item.obj, "__doc__", None), item.name)


def failure_message(error: BaseException) -> str:
    if isinstance(error, StudentFacing):
        return str(error)
    if isinstance(error, AssertionError):
        return str(error).split("\nassert ")[0] or "the check's condition was not met."
    return f"internal error in this check ({type(error).__name__}: {error}); please tell the course staff."


class VizgenPlugin:
    def __init__(self, runner: Runner, references: References, hidden_dir: Path | None,
                 functions: Collection[str] | None):
        self.runner = runner
        self.references = references
        self.hidden_dir = hidden_dir.resolve() if hidden_dir else None
        self.functions = None if functions is None else frozenset(functions)
        self.results: list[CheckResult] = []
        self.collection_errors: list[str] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", f"{MARK}(points, function): a graded check")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep = [i for i in items if i.get_closest_marker(MARK) and self._selected(i)]
        dropped = [i for i in items if i not in keep]
        items[:] = keep
        config.hook.pytest_deselected(items=dropped)

    def _selected(self, item: pytest.Item) -> bool:
        return self.functions is None or item.get_closest_marker(MARK).kwargs["function"] in self.functions

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext.splitlines()[-1]}")

    @pytest.fixture
    def student(self) -> Student:
        return Student(self.runner)

    @pytest.fixture
    def reference(self) -> References:
        return self.references

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            mark = item.get_closest_marker(MARK).kwargs
            error = call.excinfo.value if call.excinfo else None
            hidden = self.hidden_dir is not None and self.hidden_dir in Path(str(item.path)).resolve().parents
            figure = None if report.passed else getattr(error, "figure", None)
            self.results.append(
                CheckResult(
                    name=f"{mark['function']}: {check_name(item)}",
                    function=mark["function"],
                    points=float(mark["points"]),
                    score=float(mark["points"]) if report.passed else 0.0,
                    message="" if report.passed else failure_message(error),
                    hidden=hidden,
                    seconds=report.duration,
                    check_id=item.name.removeprefix("test_"),
                    figure=figure_text(figure, hidden),
                )
            )
