"""The student bundle as a student receives it: unpacked into an empty folder, installed into a fresh
virtual environment, fetched, and each released notebook self-checked."""

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from vizgen.course.assignment import available, load_assignment
from vizgen.release import release


@pytest.mark.slow
def test_unpacked_bundle_installs_fetches_and_checks(paths, tmp_path):
    bundle = tmp_path / "student.zip"
    release(paths, None, bundle, log=lambda _: None)
    course = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(course)
    readme = (course / "README.md").read_text()
    assert "vizgen fetch" in readme and "vizgen check" in readme and "What to submit" in readme
    assert "make demo" not in readme and "references" not in readme  # the instructor's README stays home

    # A fresh venv that borrows this environment's packages (torch & co.) through a .pth file, then the
    # bundle installed in it as a student would (no dependency downloads here: --no-deps).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", str(course)],
                             cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    vizgen = venv / "bin" / "vizgen"
    where = subprocess.run([str(python), "-c", "import vizgen; print(vizgen.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert where.stdout.startswith(str(venv)), where  # the bundle's vizgen, not this checkout's

    (course / "datasets" / "cache").symlink_to(paths.cache)  # the downloads, as `vizgen fetch` leaves them
    fetched = subprocess.run([str(vizgen), "fetch"], cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert fetched.returncode == 0, fetched.stderr

    for name in available(paths):
        task = load_assignment(paths, name)
        notebook = course / "assignments" / name / task.notebook
        checked = subprocess.run([str(vizgen), "check", str(notebook)], cwd=course, env=env, capture_output=True,
                                 text=True, timeout=300)
        assert checked.returncode == 1, checked.stderr  # an untouched notebook fails every check
        assert "not implemented yet" in checked.stdout and "public checks passed" in checked.stdout
        assert checked.stdout.count("FAIL ") >= 5
