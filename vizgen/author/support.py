"""Assignment support: the one interface through which an assignment adds its own grader code.

The engine keeps what every assignment uses: the generic probes (``probes.PROBES``) and models
(``models.SMALL_MODELS``, the ImageNet classifier). What only one assignment needs lives in its
own folder, in the support module that its ``assignment.toml`` names (``support = "support.py"``).
That module defines ``SUPPORT = Support(probes={...}, models={...})`` to register its probes and
small seeded models, and plain helpers (check inputs, diagnostics) that its checks import with
``support = assignment_support(__file__)``. It is trusted grader code: the grader imports it,
and so does the worker process, before the sandbox is installed and before any student code runs.
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
    """The support module at ``file``; refused with the fix when missing or without ``SUPPORT``."""
    file = Path(file).resolve()
    if not file.is_file():
        raise CourseLayoutError(f"support module {file} is missing: create it, or remove `support` from "
                                f"{file.parent / 'assignment.toml'}.")
    module = _import(file)
    if not isinstance(getattr(module, "SUPPORT", None), Support):
        raise CourseLayoutError(f"{file} defines no SUPPORT: add SUPPORT = Support(probes={{...}}, models={{...}}) "
                                "(from vizgen.author.support import Support).")
    return module


def load_support(file: Path | None) -> Support:
    """The engine's probes and models plus those of the support module at ``file`` (if any)."""
    engine = engine_support()
    if file is None:
        return engine
    own: Support = support_module(file).SUPPORT
    for kind, theirs, ours in (("probe", own.probes, engine.probes), ("model", own.models, engine.models)):
        clash = sorted(set(theirs) & set(ours))
        if clash:
            raise CourseLayoutError(f"{file} registers {kind} {clash[0]!r}, which the engine already has: rename it.")
    return Support({**engine.probes, **own.probes}, {**engine.models, **own.models}, Path(file).resolve())


def assignment_support(check_file: str | Path) -> ModuleType:
    """For check modules: the support module of the assignment a check file belongs to
    (``autograder/<assignment>/{public,hidden}/test_*.py``)."""
    folder = Path(check_file).resolve().parents[1]
    config = read_config(folder / "assignment.toml")
    if config.support is None:
        raise CourseLayoutError(f"{folder / 'assignment.toml'} names no support module: add support = \"support.py\".")
    return support_module(folder / config.support)
