"""`vizgen collect DOWNLOAD.zip --assignment A [--into submitted]`: a learning platform's bulk download laid out
as nbgrader's ``submitted/<student>/<assignment>/<Notebook>.ipynb``, ready for `vizgen grade` and nbgrader.

A bulk download holds one notebook per student under the platform's names. Two layouts are read:

* a folder per student (Moodle: ``Ada Lovelace_1234_assignsubmission_file_/Notebook (1).ipynb``): the student
  is the folder's name, up to ``_assignsubmission`` when it has one;
* flat files (Canvas: ``lovelaceada_1234_5678_VariationalAutoencoders-1.ipynb``, ``..._LATE_...``): the student
  is the name's first ``_``-separated part.

Each notebook is renamed to the assignment's notebook. The zip's member names are never used as paths: the
student id is reduced to letters, digits, ``.``, ``_`` and ``-``. Files that cannot be placed (not a notebook, a
second notebook for one student, a name with no student in it, a notebook already collected that differs) are
listed with what to do, and nothing is written for them.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from vizgen.course.assignment import Assignment
from vizgen.course.notebook import MAX_NOTEBOOK_BYTES
from vizgen.errors import VizgenError

_IGNORED = re.compile(r"(^|/)(__MACOSX|\.ipynb_checkpoints)/|(^|/)\.[^/]*$")  # the platform's or the OS's extras


@dataclass
class Collected:
    placed: dict[str, Path] = field(default_factory=dict)  # student -> where the notebook went
    unchanged: list[str] = field(default_factory=list)  # students whose notebook was already there, identical
    refused: list[str] = field(default_factory=list)  # "member: why, and what to do"


def student_id(text: str) -> str:
    """A platform's name for a student reduced to a folder name (letters, digits, ``.``, ``_``, ``-``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:64]


def student_of(member: str) -> str:
    """The student a bulk download's member belongs to (see the module docstring), or "" when none can be read."""
    parts = PurePosixPath(member).parts
    if len(parts) > 1:
        return student_id(parts[-2].split("_assignsubmission", 1)[0])
    stem = PurePosixPath(member).stem
    return student_id(stem.split("_", 1)[0]) if "_" in stem else ""


def collect(download: Path, assignment: Assignment, into: Path, force: bool = False) -> Collected:
    """Place each student's notebook of ``download`` at ``into/<student>/<assignment>/<notebook>``."""
    try:
        archive = zipfile.ZipFile(download)
    except (OSError, zipfile.BadZipFile) as error:
        raise VizgenError(f"{download} is not a zip file ({error}): give the platform's bulk download as it came.") \
            from None
    result = Collected()
    by_student: dict[str, list[zipfile.ZipInfo]] = {}
    with archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or _IGNORED.search(name):
                continue
            student = student_of(name)
            if not name.endswith(".ipynb"):
                result.refused.append(f"{name}: not a notebook (.ipynb): ask the student to submit the notebook")
            elif not student:
                result.refused.append(f"{name}: no student in its name: put it in a folder named after the student")
            elif info.file_size > MAX_NOTEBOOK_BYTES:
                result.refused.append(f"{name}: {info.file_size / 2**20:.0f} MB, more than grading reads: ask the "
                                      "student to clear the outputs and submit again")
            else:
                by_student.setdefault(student, []).append(info)
        for student, infos in by_student.items():
            if len(infos) > 1:  # which one to grade is the instructor's call: place none
                names = ", ".join(i.filename for i in infos)
                result.refused.append(f"{names}: {student} has {len(infos)} notebooks in this download: keep the one "
                                      "to grade and collect again")
                continue
            _place(archive, infos[0], into / student / assignment.name / assignment.notebook, student, force, result)
    return result


def _place(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, student: str, force: bool,
           result: Collected) -> None:
    data = archive.read(info)
    if target.is_file() and not force:
        if target.read_bytes() == data:
            result.unchanged.append(student)
        else:
            result.refused.append(f"{info.filename}: {target} already holds another notebook: pass --force to "
                                  "replace it")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    result.placed[student] = target
