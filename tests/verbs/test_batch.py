"""Grading a whole class: nbgrader's submitted/ layout, lanes, the resumable store, CSV and HTML report."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import replace_solution
from engine.scenarios import SCENARIOS
from vizgen.cli import main
from vizgen.errors import VizgenError
from vizgen.grade import grade
from vizgen.grade.discover import discover
from vizgen.grade.report import histogram_svg, render
from vizgen.grade.store import ResultStore, from_record, to_record
from vizgen.engine.results import CheckResult, GradeReport


def _class(assignment, folder: Path, students: dict[str, Path]) -> Path:
    """nbgrader's layout: folder/<student>/<assignment>/<Notebook>.ipynb."""
    for student, notebook in students.items():
        target = folder / student / assignment.name / assignment.notebook
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, target)
    return folder


@pytest.fixture(scope="module")
def classroom(assignment, tmp_path_factory):
    """Four students: full marks, untouched, partial, and one whose fooling image calls sys.exit."""
    work = tmp_path_factory.mktemp("class")
    function, source = SCENARIOS["calls-sys-exit"]
    exits = replace_solution(assignment.solution_notebook, work / "exits.ipynb", function, source)
    students = {"ada": assignment.solution_notebook, "bob": assignment.release_notebook,
                "cy": assignment.dir / "samples" / "partial.ipynb", "dee": exits}
    return _class(assignment, work / "submitted", students)


def test_discover_reads_nbgrader_layout_and_loose_notebooks(paths, assignment, classroom, tmp_path):
    handins = discover(paths, [classroom])
    assert [h.student for h in handins] == ["ada", "bob", "cy", "dee"]
    assert {h.assignment.name for h in handins} == {assignment.name}
    assert handins[0].notebook == classroom / "ada" / assignment.name / assignment.notebook
    loose = discover(paths, [assignment.solution_notebook, assignment.release_notebook])
    assert len({h.student for h in loose}) == 2  # same stem: told apart by their paths
    with pytest.raises(VizgenError, match="nbgrader's layout"):
        discover(paths, [tmp_path])


def test_store_round_trip_keeps_every_field(tmp_path):
    report = GradeReport("a.ipynb", "x", [CheckResult("f: ok", "f", 2, 1, "wrong", True, 0.25)], ["note"], 1.5, "ada")
    store = ResultStore(tmp_path)
    store.save(report, "ada", "abc", hidden=True)
    assert store.finished("ada", "x", "abc", hidden=True) == report
    assert store.finished("ada", "x", "abd", hidden=True) is None  # another notebook: grade again
    assert store.finished("ada", "x", "abc", hidden=False) is None  # other checks: grade again
    assert from_record(to_record(report, "ada", "abc", True)) == report
    assert not list(tmp_path.rglob(".results.json.*"))  # no temporary file left behind


def test_batch_with_two_lanes_writes_csv_json_and_report(paths, assignment, classroom, tmp_path, capsys):
    out = tmp_path / "graded"
    code = main(["grade", str(classroom), "--hidden", "--jobs", "2", "--out", str(out), "--json", str(tmp_path / "gs")])
    assert code == 0
    scores = {row["student"]: float(row["score"]) for row in csv.DictReader((out / "grades.csv").open())}
    assert scores["ada"] == 27 and scores["bob"] == 0 and 0 < scores["cy"] < 27
    assert 0 < scores["dee"] < 27  # sys.exit costs only make_fooling_image's checks
    header = next(csv.reader((out / "grades.csv").open()))
    assert any(name.startswith("compute_saliency_maps:") for name in header)  # one column per check
    for student in scores:
        record = json.loads((out / "students" / student / assignment.name / "results.json").read_text())
        assert record["score"] == scores[student] and record["extra_data"]["student"] == student
    assert sorted(p.name for p in (tmp_path / "gs").glob("*.json")) == ["ada.json", "bob.json", "cy.json", "dee.json"]
    page = (out / "report.html").read_text()
    assert "<svg" in page and "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "not implemented yet" in page and "Slowest submissions" in page

    assert main(["grade", str(classroom), "--hidden", "--jobs", "2", "--out", str(out)]) == 0
    assert "4 already graded" in capsys.readouterr().out


def test_report_counts_students_per_failure_message():
    def report(student, message):
        return GradeReport(f"{student}.ipynb", "x",
                           [CheckResult("f: shape", "f", 1, 0 if message else 1, message, False)],
                           student=student, seconds=float(len(student)))
    page = render([report("a", "wrong shape"), report("bb", "wrong shape"), report("ccc", "nan"), report("d", "")])
    assert "<b>2</b> &times; <span class=\"message\">wrong shape</span>" in page
    assert "<b>1</b> &times; <span class=\"message\">nan</span>" in page
    assert ">1/4<" in page  # pass rate
    assert page.index(">ccc<") < page.index(">bb<")  # slowest first
    svg = histogram_svg([0, 0, 5, 10], 10, bins=2)
    assert svg.count("<rect") == 2 and ": 2 students" in svg


def test_a_killed_batch_keeps_finished_grades_and_a_rerun_completes(paths, assignment, tmp_path):
    students = {f"s{i:02d}": assignment.release_notebook if i % 2 else assignment.solution_notebook for i in range(8)}
    classroom = _class(assignment, tmp_path / "submitted", students)
    out = tmp_path / "graded"
    command = [sys.executable, "-m", "vizgen", "grade", str(classroom), "--hidden", "--jobs", "2", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(paths.root)}
    batch = subprocess.Popen(command, cwd=paths.root, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while len(list(out.glob("students/*/*/results.json"))) < 2 and time.monotonic() < deadline and batch.poll() is None:
        time.sleep(0.1)
    os.killpg(batch.pid, signal.SIGKILL)  # the CLI and its lanes
    batch.wait()
    kept = {p: p.read_text() for p in out.glob("students/*/*/results.json")}
    assert 2 <= len(kept) < len(students), "the batch should have been killed half-way"
    for text in kept.values():
        json.loads(text)  # whole files only

    rerun = subprocess.run(command, cwd=paths.root, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(kept)} already graded" in rerun.stdout
    assert {p: p.read_text() for p in kept} == kept  # finished grades untouched
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert sorted(r["student"] for r in rows) == sorted(students)
    for row in rows:
        expected = 0 if int(row["student"][1:]) % 2 else 27
        assert float(row["score"]) == expected


@pytest.mark.slow
def test_gradebook_scores_show_in_nbgrader_export(paths, assignment, classroom, tmp_path):
    from vizgen.grade.gradebook import cell_scores
    from vizgen.release.nbgrader_course import make_course

    course = make_course(paths, [assignment], tmp_path / "course")  # nbgrader generate_assignment: records the cells
    batch = grade(paths, [classroom], hidden=True, jobs=1,
                  gradebook=course.root / "gradebook.db")
    for report in batch.reports:
        assert course.cell_scores(report.student, assignment.name) == cell_scores(report)
    rows = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(course.export().open())}
    assert rows == {r.student: r.score for r in batch.reports}
    assert rows["ada"] == 27 and 0 < rows["cy"] < 27


@pytest.mark.slow
def test_forked_workers_grade_every_scenario_as_fresh_interpreters_do(paths, assignment, tmp_path):
    """The pre-fork server's forked workers keep the sandbox and the limits: each hostile scenario scores the same."""
    from vizgen.course.config import GradingConfig

    notebooks = [replace_solution(assignment.solution_notebook, tmp_path / f"submitted-{name}.ipynb", function, source)
                 for name, (function, source) in SCENARIOS.items()]
    fast = GradingConfig(call_timeout_s=4.0)
    forked = grade(paths, notebooks, hidden=True, config=fast)
    fresh = grade(paths, notebooks, hidden=True, config=fast, fresh_workers=True)

    def scores(batch):
        return {r.student: [(c.name, c.score) for c in r.checks] for r in batch.reports}

    assert scores(forked) == scores(fresh)
    cheat = next(r for r in forked.reports if r.student.endswith("cheat-attempt"))
    assert any("grading does not allow student code to open" in c.message for c in cheat.checks)


def test_benchmark_class_mixes_every_kind_of_submission(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_bench_batch", Path(__file__).parents[2] / "benchmarks" / "batch.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    mix = bench.make_class(tmp_path / "submitted", 40)
    assert sum(mix.values()) == 40 == len(list((tmp_path / "submitted").glob("*/network_visualization/*.ipynb")))
    assert mix["correct"] >= 16 and mix["partial"] == 10 and mix["untouched"] == 6 and mix["infinite-loop"] == 2
    assert len(mix) >= 6  # hostile scenarios besides the infinite loops
