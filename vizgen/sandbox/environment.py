"""The environment a process that runs student code starts with: an allow-list, never the grader's own.

A grader's environment can hold secrets (an API token on a JupyterHub, cloud credentials in CI);
workers, the pre-fork server and the notebook kernel get only what Python, torch and the course
need. Every other variable is dropped, and ``HOME`` points at the process's scratch folder.
"""

from __future__ import annotations

import os

# Variables passed through by name, when the grader has them.
ALLOWED = (
    "PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "LD_LIBRARY_PATH", "VIRTUAL_ENV",
    "PYTHONPATH", "PYTHONHASHSEED", "PYTHONUTF8", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE",
    "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",  # this VM's OpenBLAS needs them (see the env notes)
    "NBGRADER_EXECUTION",  # notebooks skip their heavy cells under nbgrader
    "VIZGEN_COURSE_ROOT", "MPLBACKEND",
)
# Variables passed through by prefix: the Jupyter client's own (session and parent pid).
ALLOWED_PREFIXES = ("JPY_",)


def minimal(home: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The allow-listed part of this process's environment, ``HOME`` set to ``home`` (a scratch folder;
    none when None), plus ``extra``. OpenMP threads wait passively (they sleep instead of spinning after
    each parallel region), so that a call's CPU time, which checks read, is the work it did."""
    env = {k: v for k, v in os.environ.items() if k in ALLOWED or k.startswith(ALLOWED_PREFIXES)}
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if home is not None:
        env["HOME"] = home
    env.update(extra or {})
    return env


def is_minimal() -> bool:
    """Whether this process's environment is one ``minimal`` made: nothing beyond the allow-list (and HOME)."""
    return "OMP_WAIT_POLICY" in os.environ and all(
        k in ALLOWED or k == "HOME" or k.startswith(ALLOWED_PREFIXES) or k.startswith("VIZGEN_") for k in os.environ)
