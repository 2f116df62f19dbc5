"""Every command the README gives an instructor works as written, in a fresh shell (clean PATH, no
activated environment), from a copy of this checkout with `make install fetch` done."""

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def instructor_blocks(readme: str) -> list[str]:
    """The fenced bash blocks of the README's "For instructors" section, in order; the recipe of "Adding an
    assignment" is for an assignment that does not exist yet (test_new_assignment.py follows it)."""
    section = readme.split("\n## For instructors", 1)[1].split("\n## ", 1)[0].split("\n### Adding an assignment", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.DOTALL)


def _clone(tmp_path: Path) -> Path:
    """This working tree as `git clone` + `make install fetch` would leave it (venv and assets linked)."""
    clone = tmp_path / "course"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    (clone / ".venv").symlink_to(Path(sys.prefix))
    if (ROOT / "datasets" / "cache").exists():  # fetched; the paintings in datasets/styles are committed
        (clone / "datasets" / "cache").symlink_to((ROOT / "datasets" / "cache").resolve())
    return clone


def _shell(clone: Path, script: str) -> subprocess.CompletedProcess:
    # PYTHONPATH: the environment's editable install points at its own checkout; a fresh clone's points at itself
    env = {"PATH": "/usr/bin:/bin", "HOME": str(clone.parent), "PYTHONPATH": str(clone), "LANG": "C.UTF-8"}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=900)


def test_readme_has_the_instructor_blocks():
    blocks = instructor_blocks((ROOT / "README.md").read_text())
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(blocks) >= 3 and all(c.startswith(".venv/bin/") for c in commands), commands


@pytest.mark.slow
def test_instructor_commands_run_as_written(tmp_path):
    clone = _clone(tmp_path)
    blocks = instructor_blocks((clone / "README.md").read_text())
    sample = clone / "autograder" / "network_visualization" / "samples" / "partial.ipynb"
    for student, notebook in {"ada": sample, "bob": clone / "solutions" / "network_visualization" /
                              "NetworkVisualization.ipynb"}.items():
        target = clone / "submitted" / student / "network_visualization" / "NetworkVisualization.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copyfile(notebook, target)
    for block in blocks:
        done = _shell(clone, block)
        assert done.returncode == 0, f"{block}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (clone / "assignments" / "network_visualization" / "NetworkVisualization.ipynb").is_file()
    assert ((clone / "dist" / "student.zip").is_file()
            and (clone / "dist" / "network_visualization-autograder.zip").is_file())
    ours = {r["student"]: float(r["score"]) for r in csv.DictReader((clone / "graded" / "grades.csv").open())}
    exported = {r["student_id"]: float(r["raw_score"])
                for r in csv.DictReader((clone / "graded" / "nbgrader-grades.csv").open())}
    assert ours == exported and ours["bob"] == 27 and 0 < ours["ada"] < 27
    results = clone / "graded" / "students" / "ada" / "network_visualization" / "results.json"
    assert json.loads(results.read_text())["score"] == ours["ada"]


@pytest.mark.slow
def test_a_failing_generate_assignment_keeps_the_released_notebook(tmp_path):
    clone = _clone(tmp_path)
    released = clone / "assignments" / "network_visualization" / "NetworkVisualization.ipynb"
    before = released.read_bytes()
    (clone / "solutions" / "network_visualization" / "NetworkVisualization.ipynb").write_text("{not json")
    done = _shell(clone, ".venv/bin/vizgen nbgrader generate_assignment network_visualization --force")
    assert done.returncode != 0
    assert released.read_bytes() == before
    assert "restored" in done.stderr
