"""The `vizgen` command as students and instructors use it, bad input included."""

import csv
import json

import pytest

from vizgen.cli import main


def test_check_on_the_starter_fails_with_next_steps(assignment, capsys):
    code = main(["check", str(assignment.release_notebook)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL compute_saliency_maps: returns a float32 (N, H, W) tensor" in out
    assert "not implemented yet" in out
    assert "0/14 public checks passed" in out
    assert "13 hidden checks (13 points) run at grading:" in out
    assert "  compute_saliency_maps: matches the reference saliency on two photos [1]" in out  # titles, not inputs
    assert "photo_batch" not in out and "chelsea" not in out


def test_check_on_the_solution_passes(assignment, capsys):
    assert main(["check", str(assignment.solution_notebook)]) == 0
    assert "14/14 public checks passed" in capsys.readouterr().out


def test_grade_writes_gradescope_json_and_csv(assignment, tmp_path, capsys):
    partial = assignment.dir / "samples" / "partial.ipynb"
    json_dir, table = tmp_path / "json", tmp_path / "grades.csv"
    code = main(["grade", "--hidden", str(assignment.solution_notebook), str(partial),
                 "--json", str(json_dir), "--csv", str(table)])
    assert code == 0
    results = [json.loads(p.read_text()) for p in sorted(json_dir.glob("*.json"))]
    assert len(results) == 2
    for result in results:
        assert set(result) >= {"score", "tests", "execution_time"}
        for test in result["tests"]:
            fields = {"name", "score", "max_score", "status", "output", "visibility"}
            assert set(test) in (fields, fields | {"output_format"})  # html: a failed check with its figure
            assert test.get("output_format", "html") == "html"
            assert test["visibility"] in ("visible", "after_published")
    scores = sorted(r["score"] for r in results)
    assert scores[1] == 27 and 0 < scores[0] < 27
    rows = list(csv.DictReader(table.open()))
    assert [float(r["max_score"]) for r in rows] == [27.0, 27.0]
    assert "submission" in capsys.readouterr().out


def test_grade_single_json_is_a_file(assignment, tmp_path):
    out = tmp_path / "results.json"
    assert main(["grade", str(assignment.release_notebook), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["score"] == 0 and len(result["tests"]) == 14  # public checks only without --hidden


@pytest.mark.parametrize("argv, words", [
    (["grade", "nowhere.ipynb"], "is not a notebook file"),
    (["grade", "README.md"], "is not a notebook file"),
    (["check", "nowhere.ipynb"], "does not exist"),
    (["check", "README.md"], "is not a notebook (.ipynb)"),
    (["fetch", "--only", "imagenet"], "unknown asset source(s) ['imagenet']: choose from classifier"),
    (["references", "verify", "--assignment", "no_such_thing"], "unknown assignment 'no_such_thing': choose one of"),
])
def test_bad_input_is_a_clear_error(argv, words, capsys, assignment, monkeypatch):
    monkeypatch.chdir(assignment.paths.root)
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_unknown_assignment_for_grade(assignment, capsys):
    assert main(["grade", "--assignment", "nope", str(assignment.release_notebook)]) == 2
    assert "unknown assignment 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("text, says", [("notebook = ", "not valid TOML"), ("title = 'x'\n", "no `notebook` key")])
def test_a_broken_assignment_toml_names_the_fix(tmp_path, text, says):
    from vizgen.course.config import CoursePaths
    from vizgen.errors import CourseLayoutError
    from vizgen.course.assignment import load_assignment

    (tmp_path / "autograder" / "x").mkdir(parents=True)
    (tmp_path / "autograder" / "x" / "assignment.toml").write_text(text)
    with pytest.raises(CourseLayoutError, match=says):
        load_assignment(CoursePaths(tmp_path), "x")
