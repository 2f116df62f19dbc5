"""`vizgen release [--bundle OUT.zip]`: nbgrader's generate step, then the student bundle.

The bundle holds the released notebooks, the `vizgen` package, the public checks, the dataset
instructions and the committed paintings. It is audited before it is kept: a solution region, a hidden check, a reference
output or a sample submission in it makes the release fail, and the zip is removed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from vizgen.config import CoursePaths
from vizgen.errors import ReleaseLeakError
from vizgen.grading.assignment import Assignment, available, load_assignment
from vizgen.grading.extract import read_notebook
from vizgen.grading.nbgrader_course import run_nbgrader
from vizgen.grading.sandbox import SECRET_PARTS

_FORBIDDEN_TEXT = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS")
_MIN_SOLUTION_LINE = 24  # shorter solution lines (e.g. "return out") may appear in starter code too


def generate(paths: CoursePaths, assignment: Assignment) -> None:
    """Run `nbgrader generate_assignment` from the course root (it reads nbgrader_config.py there)."""
    run_nbgrader(paths.root, "generate_assignment", assignment.name, "--force", "--no-db")


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


def bundle_files(paths: CoursePaths, tasks: list[Assignment]) -> list[Path]:
    """Everything a student needs, relative to the course root."""
    files = [paths.root / "pyproject.toml", paths.root / "README.md", paths.datasets / "README.md"]
    files += sorted(paths.styles.glob("*"))  # the paintings are committed, not fetched: they ship
    files += sorted(p for p in (paths.root / "vizgen").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for task in tasks:
        files += sorted(task.release_notebook.parent.glob("*.ipynb"))
        files += [task.dir / "assignment.toml", *sorted(task.public.glob("*.py"))]
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
            if rel.parts[:2] != ("vizgen", "weights"):  # the course's own model weights ship
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


def release(paths: CoursePaths, names: list[str] | None = None, bundle: Path | None = None, log=print) -> list[Path]:
    """Regenerate the released notebooks; with ``bundle``, write and audit the student zip."""
    tasks = [load_assignment(paths, n) for n in (names or available(paths))]
    for task in tasks:
        generate(paths, task)
        log(f"released {task.release_notebook.relative_to(paths.root)}")
    if bundle is None:
        return [t.release_notebook for t in tasks]
    files = bundle_files(paths, tasks)
    leaks = audit(paths, files, tasks)
    if leaks:
        raise ReleaseLeakError("refusing to write the bundle:\n  " + "\n  ".join(leaks))
    bundle.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zipped:
        for file in files:
            zipped.write(file, file.relative_to(paths.root).as_posix())
    log(f"wrote {bundle} ({len(files)} files)")
    return files
