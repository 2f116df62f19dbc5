"""`vizgen grade --shard I/N` on three "machines", then `--merge`: the same results as one run over the class."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.scenarios import SCENARIOS
from helpers import replace_solution
from vizgen.cli import main
from vizgen.course.assignment import load_assignment
from vizgen.errors import VizgenError
from vizgen.grade.shard import parse_shard, shard_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def classroom(paths, assignment, tmp_path_factory):
    work = tmp_path_factory.mktemp("shard-class")
    shape = replace_solution(assignment.solution_notebook, work / "shape.ipynb", *SCENARIOS["wrong-shape"])
    empty = work / "empty.ipynb"
    empty.write_text("")
    students = {"ada": assignment.solution_notebook, "bob": assignment.release_notebook,
                "cy": assignment.dir / "samples" / "partial.ipynb", "eve": shape, "gus": empty,
                "fay": load_assignment(paths, "variational_autoencoders").release_notebook}
    for student, notebook in students.items():
        target = work / "submitted" / student / assignment.name / assignment.notebook
        target.parent.mkdir(parents=True)
        shutil.copyfile(notebook, target)
    return work / "submitted"


@pytest.fixture(scope="module")
def graded(classroom, tmp_path_factory):
    """One run over the class, and three shards of it merged."""
    out = tmp_path_factory.mktemp("graded")
    assert main(["grade", str(classroom), "--hidden", "--out", str(out / "one")]) == 0
    for index in (1, 2, 3):
        assert main(["grade", str(classroom), "--hidden", "--shard", f"{index}/3", "--out",
                     str(out / f"shard-{index}")]) == 0
    shards = [str(out / f"shard-{i}") for i in (1, 2, 3)]
    assert main(["grade", "--merge", *shards, "--out", str(out / "merged")]) == 0
    return out


def test_three_shards_merged_give_the_results_of_one_run(graded):
    for name in ("grades.csv", "grades.columns.csv"):
        assert (graded / "merged" / name).read_text() == (graded / "one" / name).read_text()
    plans = [json.loads((graded / f"shard-{i}" / "shard.json").read_text()) for i in (1, 2, 3)]
    given = sorted(s for p in plans for s, _ in p["handins"])
    assert given == ["ada", "bob", "cy", "eve", "fay", "gus"]  # each student in exactly one shard
    one = {p.relative_to(graded / "one") for p in (graded / "one" / "students").rglob("results.json")}
    merged = {p.relative_to(graded / "merged") for p in (graded / "merged" / "students").rglob("results.json")}
    assert one == merged
    report = (graded / "merged" / "report.html").read_text()
    assert all(f"<td>{s}</td>" in report for s in ("ada", "bob", "cy", "eve", "fay", "gus"))


def test_a_shard_is_chosen_by_student_and_assignment_not_position():
    assert shard_of("ada", "vae", 7) == shard_of("ada", "vae", 7)
    spread = {shard_of(f"s{i:03d}", "vae", 4) for i in range(200)}
    assert spread == {1, 2, 3, 4}
    assert parse_shard("2/8") == (2, 8)
    for wrong in ("0/3", "4/3", "1-3", "x"):
        with pytest.raises(VizgenError, match="give I/N"):
            parse_shard(wrong)


def _refused(argv: list[str], capsys) -> str:
    """What `vizgen` said when it refused ``argv`` (exit code 2)."""
    assert main(argv) == 2
    return capsys.readouterr().err


def test_merge_refuses_a_missing_or_repeated_shard_and_names_missing_students(graded, tmp_path, capsys):
    shards = [graded / f"shard-{i}" for i in (1, 2, 3)]
    assert "shard(s) 3/3 missing" in _refused(["grade", "--merge", str(shards[0]), str(shards[1]), "--out",
                                                str(tmp_path / "a")], capsys)
    assert "given twice" in _refused(["grade", "--merge", str(shards[0]), str(shards[0]), str(shards[1]),
                                      str(shards[2]), "--out", str(tmp_path / "b")], capsys)
    assert "not the --out of a" in _refused(["grade", "--merge", str(graded / "one"), "--out", str(tmp_path / "c")],
                                            capsys)
    holed = tmp_path / "holed"
    shutil.copytree(shards[0], holed)
    student, name = json.loads((holed / "shard.json").read_text())["handins"][0]
    (holed / "students" / student / name / "results.json").unlink()
    said = _refused(["grade", "--merge", str(holed), str(shards[1]), str(shards[2]), "--out", str(tmp_path / "d")],
                    capsys)
    assert f"missing: {student} ({name}, shard 1/3)" in said


def test_two_shards_that_graded_the_same_student_are_refused(graded, tmp_path, capsys):
    shards = [graded / f"shard-{i}" for i in (1, 2, 3)]
    forged = tmp_path / "forged"
    shutil.copytree(shards[1], forged)
    plan = json.loads((forged / "shard.json").read_text())
    first = json.loads((shards[0] / "shard.json").read_text())["handins"][0]
    plan["handins"].append(first)
    (forged / "shard.json").write_text(json.dumps(plan))
    assert "graded by two shards" in _refused(["grade", "--merge", str(shards[0]), str(forged), str(shards[2]),
                                               "--out", str(tmp_path / "e")], capsys)


def test_shard_needs_out(classroom, capsys):
    assert "--shard needs --out" in _refused(["grade", str(classroom), "--shard", "1/2"], capsys)


def test_the_readmes_slurm_array_and_merge_run_as_written(classroom, graded, tmp_path):
    """The README's array script, run as Slurm would run a two-job array (its index and count in the
    environment), then its merge command: the results of one run over the class."""
    readme = (ROOT / "README.md").read_text()
    script = next(b for b in re.findall(r"```sh\n(.*?)```", readme, re.DOTALL) if "#SBATCH --array=1-" in b)
    merge = re.search(r"`(\.venv/bin/vizgen grade --merge [^`]*)`", readme).group(1)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    shutil.copytree(classroom, tmp_path / "submitted")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "VIZGEN_COURSE_ROOT": str(ROOT),
           "PYTHONPATH": str(ROOT), "SLURM_ARRAY_TASK_COUNT": "2"}
    for index in ("1", "2"):
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                              text=True, env={**env, "SLURM_ARRAY_TASK_ID": index}, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", merge], cwd=tmp_path, capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "graded" / "grades.csv").read_text() == (graded / "one" / "grades.csv").read_text().replace(
        str(classroom), str(tmp_path / "submitted"))
