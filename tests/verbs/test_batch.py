"""Grading a whole class: nbgrader's submitted/ layout, lanes, the resumable store, CSV and HTML report."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
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
def classroom(paths, assignment, tmp_path_factory):
    """Eight students: full marks, untouched, partial, one whose fooling image calls sys.exit, one whose saliency
    map has the wrong shape, one who hands in another assignment's notebook, an empty file, and one whose
    `<script>` student id and `=` message must stay text."""
    from vizgen.course.assignment import load_assignment

    work = tmp_path_factory.mktemp("class")
    exits = replace_solution(assignment.solution_notebook, work / "exits.ipynb", *SCENARIOS["calls-sys-exit"])
    shape = replace_solution(assignment.solution_notebook, work / "shape.ipynb", *SCENARIOS["wrong-shape"])
    empty = work / "empty.ipynb"
    empty.write_text("")
    students = {"ada": assignment.solution_notebook, "bob": assignment.release_notebook,
                "cy": assignment.dir / "samples" / "partial.ipynb", "dee": exits, "eve": shape,
                "fay": load_assignment(paths, "variational_autoencoders").release_notebook, "gus": empty,
                "=1+1<script>": assignment.release_notebook}
    return _class(assignment, work / "submitted", students)


STUDENTS = ["=1+1<script>", "ada", "bob", "cy", "dee", "eve", "fay", "gus"]


def test_discover_reads_nbgrader_layout_and_loose_notebooks(paths, assignment, classroom, tmp_path):
    handins = discover(paths, [classroom])
    assert [h.student for h in handins] == STUDENTS
    assert {h.assignment.name for h in handins} == {assignment.name}
    assert handins[1].notebook == classroom / "ada" / assignment.name / assignment.notebook
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
    scores = {row["student"].removeprefix("'"): float(row["score"])  # "'": no formula in a spreadsheet
              for row in csv.DictReader((out / "grades.csv").open())}
    assert scores["ada"] == 27 and scores["bob"] == scores["fay"] == scores["gus"] == 0 and 0 < scores["cy"] < 27
    assert 0 < scores["dee"] < 27 and 0 < scores["eve"] < 27  # one bug costs only that function's checks
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert {r["submission"] for r in rows} == {f"{classroom.name}/{s}/{assignment.name}/{assignment.notebook}"
                                               for s in scores}  # relative to the class's folder
    header = next(csv.reader((out / "grades.csv").open()))
    columns = list(csv.DictReader((out / "grades.columns.csv").open()))
    assert header[5:] == [c["column"] for c in columns] and "compute_saliency_maps:saliency_shape" in header
    assert all(len(c) < 80 for c in header)  # short ids; the titles are in grades.columns.csv
    assert {c["visibility"] for c in columns} == {"public", "hidden"}
    for student in scores:
        record = json.loads((out / "students" / student / assignment.name / "results.json").read_text())
        assert record["score"] == scores[student] and record["extra_data"]["student"] == student
    assert sorted(p.name for p in (tmp_path / "gs").glob("*.json")) == sorted(f"{s}.json" for s in STUDENTS)
    page = (out / "report.html").read_text()
    assert "<svg" in page and page.count("<script") == 1 and "<script src" not in page  # the inline sorter only
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert "Slowest submissions" in page

    _report_names_every_student_and_what_they_lost(out, scores)
    assert next(csv.reader((out / "grades.csv").open()))[0] == "student"
    assert "'=1+1<script>" in {r["student"] for r in csv.DictReader((out / "grades.csv").open())}  # no formula

    assert main(["grade", str(classroom), "--hidden", "--jobs", "2", "--out", str(out)]) == 0
    assert f"{len(STUDENTS)} already graded" in capsys.readouterr().out


class _Tables(HTMLParser):
    """The text of each cell of each table of a page, by the table's id (or its position)."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell = {}, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows = self.tables.setdefault(dict(attrs).get("id") or len(self.tables), [])
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _report_names_every_student_and_what_they_lost(out: Path, scores: dict[str, float]) -> None:
    parser = _Tables()
    parser.feed((out / "report.html").read_text())
    header, *rows = parser.tables["students"]
    assert header[:3] == ["student", "score", "functions that lost points, and why"]
    lost = {row[0]: row[2] for row in rows}
    assert sorted(lost) == sorted(scores)  # every student named, "<script>" as text
    assert [scores[row[0]] for row in rows] == sorted(scores.values())  # lowest first
    assert lost["ada"] == "—"
    assert lost["eve"].startswith("compute_saliency_maps (−") and "make_fooling_image" not in lost["eve"]
    assert lost["dee"].startswith("make_fooling_image (−") and "sys.exit" in lost["dee"]
    assert lost["bob"].startswith("not started: compute_saliency_maps, saliency_to_mask")  # said once
    assert lost["fay"] == ("This is the notebook of variational_autoencoders, not of Network visualization: "
                           "submit NetworkVisualization.ipynb with your work in it.")
    assert "not valid notebook JSON" in lost["gus"] and "not started" not in lost["gus"]
    assert all(row[3] == "results.json · feedback" for row in rows)
    functions = {row[0]: row for row in next(t for t in parser.tables.values() if t[0][0] == "function")[1:]}
    assert functions["compute_saliency_maps"][1].startswith("3/6")  # eve and the two who have not started it
    assert "(eve)" in functions["compute_saliency_maps"][2] or "eve," in functions["compute_saliency_maps"][2]
    assert (out / "students" / "eve" / "network_visualization" / "feedback.html").is_file()


def test_report_counts_students_per_failure_message():
    def report(student, message):
        return GradeReport(f"{student}.ipynb", "x",
                           [CheckResult("f: shape", "f", 1, 0 if message else 1, message, False)],
                           student=student, seconds=float(len(student)))
    page = render([report("a", "wrong shape"), report("bb", "wrong shape"), report("ccc", "nan"), report("d", "")])
    assert "<b>2</b> &times; <span class=\"message\">wrong shape</span>" in page
    assert "<b>1</b> &times; <span class=\"message\">nan</span>" in page
    assert ">1/4<" in page  # pass rate
    slowest = page[page.index("Slowest submissions"):]
    assert slowest.index(">ccc<") < slowest.index(">bb<")  # slowest first
    svg = histogram_svg([0, 0, 5, 10], 10)
    assert svg.count("<rect") == 11 and "0 points: 2 students" in svg and "10 points: 1 students" in svg  # whole points
    assert ">score (points; maximum 10)<" in svg and ">students<" in svg  # axis titles
    wide = histogram_svg([0, 44, 88], 88)
    assert wide.count("<rect") == 30 and "bins of 3" in wide and "87-89 points: 1 students" in wide


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

    from nbgrader.api import Gradebook  # the inline questions, graded by hand as formgrader does

    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as gradebook:
        gradebook.find_grade("inline_question_1", assignment.notebook.removesuffix(".ipynb"), assignment.name,
                             "cy").manual_score = 2.5
        gradebook.db.commit()
    rows = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(course.export().open())}
    assert rows["cy"] == next(r.score for r in batch.reports if r.student == "cy") + 2.5  # automatic + by hand


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
    other = bench.make_class(tmp_path / "vae", 20, "variational_autoencoders")
    assert other == {"correct": 12, "partial": 5, "untouched": 3}
    assert len(list((tmp_path / "vae").glob("*/variational_autoencoders/*.ipynb"))) == 20


def test_batch_benchmark_profiles_stages_and_lane_overhead(tmp_path):
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("_bench_batch", Path(__file__).parents[2] / "benchmarks" / "batch.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for student, checks in (("a", 1.0), ("b", 3.0)):
        record = {"execution_time": checks + 0.5, "extra_data": {"stages": {"checks": checks, "other": 0.5}}}
        target = tmp_path / "students" / student / "x" / "results.json"
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(record))
    profile = bench.profile(tmp_path, wall=3.0, jobs=2)  # 6 lane seconds for 2 submissions of 1.5 and 3.5 s
    assert profile == {"checks_s": 2.0, "other_s": 0.5, "lane_overhead_s": 0.5, "lane_s_per_submission": 3.0,
                       "lane_over_checks": 1.5}
