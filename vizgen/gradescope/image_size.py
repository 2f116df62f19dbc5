"""How much the autograder image installs: estimated from the distributions installed here.

Gradescope builds the image from ``requirements.txt`` with PyTorch's CPU-only wheels. This checkout may
have the CUDA build (with its ``nvidia-*`` libraries and ``triton``), so the estimate walks the pinned
requirements' dependency closure in this environment, leaves out the CUDA-only distributions, and counts
PyTorch's own files without its CUDA libraries: what the CPU wheel ships, to within its CPU kernels.
"""

from __future__ import annotations

import importlib.metadata
import re

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

CUDA_ONLY = re.compile(r"^(nvidia-.*|triton|cuda-.*)$")  # distributions the CPU wheels do not pull in
CUDA_FILE = re.compile(r"(cuda|cudnn|cublas|cufft|curand|cusolver|cusparse|nccl|nvrtc|nvjitlink|nvtx|cupti)",
                       re.IGNORECASE)


def dependency_closure(requirements: list[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions the requirements pull in (markers evaluated here), CUDA-only ones left out."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or CUDA_ONLY.match(name):
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            dist = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: not counted
        seen[name] = dist
        todo += [Requirement(r) for r in dist.requires or []]
    return sorted(seen.values(), key=lambda d: canonicalize_name(d.metadata["Name"]))


def installed_bytes(dist: importlib.metadata.Distribution) -> int:
    """The bytes of a distribution's files on disk, without CUDA libraries (the CPU wheel has none)."""
    total = 0
    for file in dist.files or []:
        if ".so" in file.name and CUDA_FILE.search(file.name):
            continue
        path = file.locate()
        if path.is_file():
            total += path.stat().st_size
    return total


def estimate_install_bytes(requirements: list[str]) -> int:
    """Estimated bytes ``pip install`` writes for ``requirements`` with CPU-only PyTorch."""
    return sum(installed_bytes(dist) for dist in dependency_closure(requirements))
