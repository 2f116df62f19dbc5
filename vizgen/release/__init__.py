"""`vizgen release [--bundle OUT.zip]`: nbgrader's generate step, then the student bundle.

The bundle holds the released notebooks, the `vizgen` package, the public checks, the dataset
instructions and the style paintings when this checkout has them verified (they come from no
registry, so `vizgen fetch` in the bundle checks them in place); its README is the students'
own (``README.student.md``: install, fetch, open a notebook, self-check, what to submit). It is
audited before it is kept: a solution region, a hidden check, a reference output, a sample
submission, a judge or mistakes module, a public case store holding a hidden case's inputs, or a
shipped function that reproduces a solution function on the hidden cases' inputs
(``reproduction``) makes the release fail, and the zip is removed.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from vizgen.assets.fetch import shipped_sources
from vizgen.course.config import CoursePaths
from vizgen.errors import CourseLayoutError, ReleaseLeakError
from vizgen.course import contract
from vizgen.course.assignment import Assignment, available, load_assignment
from vizgen.course.notebook import read_notebook
from vizgen.course.manifest import write_manifest
from vizgen.engine.stores import PUBLIC_FILE, ReferenceStore, inputs_digest
from vizgen.release import reproduction
from vizgen.release.nbgrader_course import nbgrader_env, run_nbgrader
from vizgen.sandbox.audit import SECRET_PARTS

_FORBIDDEN_TEXT = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS")
_MIN_SOLUTION_LINE = 24  # shorter solution lines (e.g. "return out") may appear in starter code too


@contextlib.contextmanager
def kept_release(paths: CoursePaths, names: list[str]):
    """Put the released notebooks back if what runs inside fails (raises, or sets ``failed[0]``).

    `nbgrader generate_assignment --force` deletes the release folder before it writes the new one.
    """
    failed = [False]
    with tempfile.TemporaryDirectory(prefix="vizgen-release-") as tmp:
        saved = {n: shutil.copytree(paths.assignments / n, Path(tmp) / n) for n in names
                 if (paths.assignments / n).is_dir()}
        try:
            yield failed
        except BaseException:
            failed[0] = True
            raise
        finally:
            if failed[0]:
                for name, copy in saved.items():
                    shutil.rmtree(paths.assignments / name, ignore_errors=True)
                    shutil.copytree(copy, paths.assignments / name)
                    print(f"restored {paths.assignments / name} (nbgrader failed)", file=sys.stderr)


def generate(paths: CoursePaths, assignment: Assignment) -> None:
    """Run `nbgrader generate_assignment` from the course root (it reads nbgrader_config.py there)."""
    with kept_release(paths, [assignment.name]):
        run_nbgrader(paths.root, "generate_assignment", assignment.name, "--force", "--no-db")


def nbgrader(paths: CoursePaths, args: list[str]) -> int:
    """`vizgen nbgrader ARGS`: nbgrader itself, from the course root, with this environment's scripts on
    PATH; `generate_assignment` that fails leaves the released notebooks as they were. Returns its exit code."""
    names = [a for a in args[1:] if a in available(paths)] or available(paths)
    guarded = args[:1] == ["generate_assignment"]
    with kept_release(paths, names if guarded else []) as failed:
        code = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=paths.root, env=nbgrader_env()).returncode
        failed[0] = code != 0
    return code


def solution_lines(assignment: Assignment) -> set[str]:
    """Distinctive lines from the solution regions and hidden test regions of the source notebook.

    A line the instructor also wrote outside those regions (a hint in the text, say) is public.
    """
    secret: set[str] = set()
    public: list[str] = []
    for cell in read_notebook(assignment.solution_notebook).cells:
        inside = cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution", False)
        for line in cell.source.splitlines():
            marker = line.strip()
            if marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                inside = True
            elif marker in ("### END SOLUTION", "### END HIDDEN TESTS"):
                inside = False
            elif inside and len(marker) >= _MIN_SOLUTION_LINE and not marker.startswith("#"):
                secret.add(marker)
            elif not inside:
                public.append(marker)
    text = "\n".join(public)
    return {line for line in secret if line not in text}


STUDENT_README = Path(__file__).with_name("README.student.md")  # the bundle's README.md


def bundle_files(paths: CoursePaths, tasks: list[Assignment]) -> list[Path]:
    """Everything a student needs, under the course root (the student README is added by ``release``)."""
    files = [paths.root / "pyproject.toml", paths.datasets / "README.md", *shipped_sources(paths)[1]]
    files += sorted(p for p in (paths.root / "vizgen").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for task in tasks:
        files += sorted(task.release_notebook.parent.glob("*.ipynb"))
        files += [task.dir / "assignment.toml", *sorted(task.public.glob("*.py")), *sorted(task.public.glob("*.json"))]
        files += [task.public / PUBLIC_FILE]  # the public cases, with their mistakes: data, never code
        files += [task.probes_file] if task.probes_file else []  # the public checks import it
    return [f for f in files if f.is_file()]


def audit(paths: CoursePaths, files: list[Path], tasks: list[Assignment]) -> list[str]:
    """Why these files must not ship (empty when the bundle is clean)."""
    leaks = []
    secret_lines = set().union(*(solution_lines(t) for t in tasks)) if tasks else set()
    for file in files:
        rel = file.relative_to(paths.root)
        secret = rel.parts[0] == "autograder" and len(rel.parts) > 2 and rel.parts[2] in SECRET_PARTS
        if rel.parts[0] == "solutions" or secret:
            leaks.append(f"{rel}: hidden checks, references, samples and solutions never ship")
            continue
        if file.suffix in (".pt", ".pth", ".npz"):
            public_cases = rel.parts[0] == "autograder" and rel.parts[2:] == ("public", PUBLIC_FILE)
            if public_cases:
                leaks += _hidden_inputs_in(file, rel, tasks)
            elif rel.parts[:2] != ("vizgen", "weights"):  # the course's own model weights ship
                leaks.append(f"{rel}: stored tensors (reference outputs?) never ship")
            continue
        text = file.read_text(errors="replace")
        for marker in _FORBIDDEN_TEXT:
            if marker in text and rel.parts[0] in ("assignments", "autograder"):  # docs and vizgen name them
                leaks.append(f"{rel}: contains '{marker}'")
        found = [line for line in secret_lines if line in text]
        if found:
            leaks.append(f"{rel}: contains solution code, e.g. {found[0]!r}")
    return leaks


def _hidden_inputs_in(file: Path, rel: Path, tasks: list[Assignment]) -> list[str]:
    """A public case store may hold no case whose inputs are a hidden case's (that would ship a hidden answer)."""
    task = next((t for t in tasks if t.name == rel.parts[1]), None)
    hidden = ReferenceStore.hidden(task.references) if task else None
    if hidden is None or not hidden.file.is_file():
        return []
    secret = {inputs_digest(c["args"], c["kwargs"]) for c in hidden.load().values()}
    shipped = ReferenceStore(file).load()
    return [f"{rel}: public case {name!r} has the inputs of a hidden case" for name, c in shipped.items()
            if inputs_digest(c["args"], c["kwargs"]) in secret]


def release(paths: CoursePaths, names: list[str] | None = None, bundle: Path | None = None, log=print) -> list[Path]:
    """Regenerate the released notebooks; with ``bundle``, write and audit the student zip."""
    tasks = [load_assignment(paths, n) for n in (names or available(paths))]
    broken = [f"{t.name}: {p}" for t in tasks for p in contract.problems(t)]
    if broken:
        raise CourseLayoutError("refusing to release: the notebook contract is broken (README, Adding an "
                                "assignment):\n  " + "\n  ".join(broken))
    for task in tasks:
        generate(paths, task)
        write_manifest(task)
        log(f"released {task.release_notebook.relative_to(paths.root)} and {task.name}'s hidden-check manifest")
    if bundle is None:
        return [t.release_notebook for t in tasks]
    files = bundle_files(paths, tasks)
    leaks = audit(paths, files, tasks) + reproduction.scan(paths.root, [t.name for t in tasks])
    if leaks:
        raise ReleaseLeakError("refusing to write the bundle:\n  " + "\n  ".join(leaks))
    bundle.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(STUDENT_README, "README.md")
        for file in files:
            zipped.write(file, file.relative_to(paths.root).as_posix())
    log(f"wrote {bundle} ({len(files)} files)")
    return files
