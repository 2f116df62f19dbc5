"""One nbgrader course for every test that goes through nbgrader: each nbgrader command starts in seconds, so
the class is generated, autograded, given feedback and exported once, with every assignment and three students.

- ``ada`` hands in each assignment's partial sample;
- ``eve`` (generative adversarial networks) adds a cell that prints a hidden check and one that defines a
  helper a graded function calls;
- ``grace`` (style transfer) hands in the solution with a wrong Gram matrix, which ``style_loss`` calls,
  ``instance_norm`` written with the library's version and a texture of one averaged colour (its checks show
  the texture);
- ``mallory`` (network visualization) adds a cell that replaces the checker, one that looks for the grader's
  secrets and one that leaves a process behind.

nbgrader, and the kernels it starts, run with a secret planted in their environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers import replace_solution
from hostile.escapes import ATTACKS, PLANTED, SECRET
from vizgen.course.assignment import available, load_assignment
from vizgen.course.config import CoursePaths
from vizgen.release.nbgrader_course import ScratchCourse, make_course
from vizgen.sandbox import confine

PEEK = '''import os, torch, vizgen
from vizgen.course.config import course_paths
hidden = course_paths().autograder / "generative_adversarial_networks" / "hidden" / "test_gan_hidden.py"
for read in (lambda p: open(p).read(),
             lambda p: bytes(torch.from_file(str(p), size=os.stat(p).st_size, dtype=torch.uint8).tolist()).decode()):
    try:
        print(read(hidden))
    except Exception as error:
        print("refused:", type(error).__name__, error)
'''

HELPER = """import torch
import torch.nn.functional as F

def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))
"""

USES_HELPER = """def discriminator_loss(logits_real, logits_fake):
    return _bce(logits_real, 1.0) + _bce(logits_fake, 0.0)
"""

REPLACE_CHECKER = """import vizgen.check

def _full_marks(assignment, function, namespace, hidden=False):
    print("all checks passed")
    return 100.0

vizgen.check.run_cell = _full_marks
"""


def _calls(attack: str, name: str) -> str:
    """The attack's function renamed ``name``, then called, printing what it raised."""
    function, source = ATTACKS[attack]
    return (source.replace(function, name) + f"\ntry:\n    {name}(None, None, None)\nexcept ValueError as said:\n"
            "    print(said)\n")


def _eve(paths: CoursePaths, folder: Path) -> Path:
    nb = nbformat.read(load_assignment(paths, "generative_adversarial_networks").dir / "samples" / "partial.ipynb",
                       as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "discriminator_loss":
            cell.source = USES_HELPER
    nb.cells[1:1] = [nbformat.v4.new_code_cell(PEEK), nbformat.v4.new_code_cell(HELPER)]
    nbformat.write(nb, folder / "submitted-prints-a-hidden-check.ipynb")
    return folder / "submitted-prints-a-hidden-check.ipynb"


def _mallory(paths: CoursePaths, folder: Path) -> Path:
    nb = nbformat.read(load_assignment(paths, "network_visualization").dir / "samples" / "partial.ipynb", as_version=4)
    nb.cells[1:1] = [nbformat.v4.new_code_cell(REPLACE_CHECKER), nbformat.v4.new_code_cell(_calls("snoop", "snoop")),
                     nbformat.v4.new_code_cell(_calls("escape", "escape"))]
    nbformat.write(nb, folder / "submitted-replaces-the-checker.ipynb")
    return folder / "submitted-replaces-the-checker.ipynb"


GRAM_OVER_HW = """import torch

def gram_matrix(features, normalize=True):
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    gram = flat @ flat.transpose(1, 2)
    return gram / (h * w) if normalize else gram
"""

LIBRARY_NORM = """import torch.nn.functional as F

def instance_norm(x, weight=None, bias=None, eps=1e-5):
    return F.instance_norm(x, weight=weight, bias=bias, eps=eps)
"""


AVERAGED_TEXTURE = """import numpy as np

def synthesize_texture_nn(sample, out_size, window, seed):
    return np.full((out_size, out_size, 3), sample.reshape(-1, 3).mean(0), dtype=np.uint8)
"""


def _grace(paths: CoursePaths, folder: Path) -> Path:
    """The style transfer solution with a Gram matrix divided by H * W (style_loss, which calls it, is given the
    course's), instance_norm written with the library's F.instance_norm (forbidden: it earns nothing) and a
    texture of the sample's average colour (a picture that fails)."""
    task = load_assignment(paths, "style_transfer")
    nb = replace_solution(task.solution_notebook, folder / "submitted-gram-and-library.ipynb", "gram_matrix",
                          GRAM_OVER_HW)
    nb = replace_solution(nb, nb, "synthesize_texture_nn", AVERAGED_TEXTURE)
    return replace_solution(nb, nb, "instance_norm", LIBRARY_NORM)


@dataclass
class NbgraderClass:
    course: ScratchCourse
    handins: dict[tuple[str, str], Path]  # (student, assignment) -> the notebook handed in
    feedback: Path

    def autograded(self, student: str, name: str) -> Path:
        return self.course.root / "autograded" / student / name / self.course.assignments[name].notebook


def nbgrader_class(paths: CoursePaths, folder: Path) -> NbgraderClass:
    names = available(paths)
    course = make_course(paths, [load_assignment(paths, n) for n in names], folder / "course")
    handins = {("ada", n): load_assignment(paths, n).dir / "samples" / "partial.ipynb" for n in names}
    handins["grace", "style_transfer"] = _grace(paths, folder)
    if confine.plan().kernel:  # the attacks need the confined kernel
        handins["eve", "generative_adversarial_networks"] = _eve(paths, folder)
        handins["mallory", "network_visualization"] = _mallory(paths, folder)
    for (student, name), notebook in handins.items():
        course.submit(student, name, notebook)
    course.autograde(env={PLANTED: SECRET})
    return NbgraderClass(course, handins, course.feedback())
