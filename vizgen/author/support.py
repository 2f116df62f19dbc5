"""An assignment's own grader code, split by the process that runs it.

The engine keeps what every assignment uses: the generic probes (``probes.PROBES``) and models
(``models.SMALL_MODELS``, the ImageNet classifier). What only one assignment needs lives in its
own folder, in two modules that never mix:

- ``probes.py`` (named by ``probes = "probes.py"`` in its ``assignment.toml``) runs **beside the
  student's code**: the worker imports it before any student code, and it ships to students with
  the public checks. It defines ``SUPPORT = Support(probes={...}, models={...})``: probes that call
  the student's function and record what it did (outputs, gradients, parameter changes), and small
  seeded models. It computes no correct answer and no verdict; the release audit refuses it if one
  of its callables reproduces a solution function.
- ``judge.py`` runs **in the grader only**: the correct values, the usual mistakes, the diagnoses
  and every loop whose verdict matters. It never ships and is never imported in a worker (it is
  one of the secret parts, which the kernel denies to student code). Hidden checks reach it with
  ``judge = assignment_judge(__file__)``; public checks judge against stored public references.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, Mapping

from torch import nn

from vizgen.course.config import CoursePaths
from vizgen.errors import CourseLayoutError
from vizgen.course.assignment import read_config
from vizgen.author.models import SMALL_MODELS, ModelSpec, build_model
from vizgen.author.probes import PROBES


@dataclass(frozen=True)
class Support:
    """Probes and small models that requests may name, and the file they came from."""

    probes: Mapping[str, Callable] = field(default_factory=dict)  # name -> probe(student_fn, *args, **kwargs)
    models: Mapping[str, Callable[[int], nn.Module]] = field(default_factory=dict)  # name -> cls(num_classes)
    file: Path | None = None  # the support module; the worker imports the same one

    def build_model(self, spec: ModelSpec, paths: CoursePaths | None = None) -> nn.Module:
        """The model a spec names, from the engine's models and these (seeded, eval mode, frozen)."""
        return build_model(spec, paths, self.models)


def engine_support() -> Support:
    """What every assignment has: the generic probes and models."""
    return Support(dict(PROBES), dict(SMALL_MODELS))


@functools.lru_cache(maxsize=None)
def _import(file: Path) -> ModuleType:
    """Import a support module once per file (its name is unique per file: two courses may share names)."""
    digest = hashlib.sha256(str(file).encode()).hexdigest()[:8]
    spec = importlib.util.spec_from_file_location(f"_vizgen_support_{file.parent.name}_{digest}", file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def support_module(file: Path) -> ModuleType:
    """The probes module at ``file``; refused with the fix when missing or without ``SUPPORT``."""
    file = Path(file).resolve()
    if not file.is_file():
        raise CourseLayoutError(f"probes module {file} is missing: create it, or remove `probes` from "
                                f"{file.parent / 'assignment.toml'}.")
    module = _import(file)
    if not isinstance(getattr(module, "SUPPORT", None), Support):
        raise CourseLayoutError(f"{file} defines no SUPPORT: add SUPPORT = Support(probes={{...}}, models={{...}}) "
                                "(from vizgen.author import Support).")
    return module


def load_support(file: Path | None) -> Support:
    """The engine's probes and models plus those of the probes module at ``file`` (if any)."""
    engine = engine_support()
    if file is None:
        return engine
    own: Support = support_module(file).SUPPORT
    for kind, theirs, ours in (("probe", own.probes, engine.probes), ("model", own.models, engine.models)):
        clash = sorted(set(theirs) & set(ours))
        if clash:
            raise CourseLayoutError(f"{file} registers {kind} {clash[0]!r}, which the engine already has: rename it.")
    return Support({**engine.probes, **own.probes}, {**engine.models, **own.models}, Path(file).resolve())


def _assignment_folder(check_file: str | Path) -> Path:
    return Path(check_file).resolve().parents[1]  # autograder/<assignment>/{public,hidden}/test_*.py


def assignment_probes(check_file: str | Path) -> ModuleType:
    """For check modules: the probes module of the assignment a check file belongs to."""
    folder = _assignment_folder(check_file)
    config = read_config(folder / "assignment.toml")
    if not config.probes:
        raise CourseLayoutError(f"{folder / 'assignment.toml'} names no probes module: add probes = \"probes.py\".")
    return support_module(folder / config.probes)


JUDGE = "judge.py"  # an assignment's grader-side module, by convention (secret: see audit.SECRET_PARTS)


def assignment_judge(check_file: str | Path) -> ModuleType:
    """For hidden check modules: the judge module of the assignment a check file belongs to. Public checks
    may not use it: they run where it does not exist (the student bundle, the student's kernel)."""
    check_file = Path(check_file).resolve()
    if check_file.parent.name != "hidden":
        raise CourseLayoutError(f"{check_file.name} is a public check: judge.py never ships, so a public check "
                                "judges against stored public references (PUBLIC_CASES) instead.")
    return load_judge(_assignment_folder(check_file) / JUDGE)


def load_judge(file: Path) -> ModuleType:
    """The judge module at ``file`` (grader side only)."""
    if not Path(file).is_file():
        raise CourseLayoutError(f"{file} is missing: the hidden checks of this assignment need its judge module.")
    return _import(Path(file).resolve())
