"""Clear messages for what student code may not do in the grading worker (PEP 578 audit hooks).

The first layer, not the wall: the kernel (``confine``) enforces confidentiality, since audit
hooks never see what C code does. Installed after torch is loaded and before any student code
runs, they refuse, with a message the student can act on, Python-level opens of the denied folders
(hidden checks, reference outputs, solutions), writes outside the scratch folder, processes,
sockets and ctypes. An audit hook cannot be removed once added.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import CodeType

_BLOCKED_EVENTS = {
    "os.system": "start a shell command",
    "os.exec": "start another program",
    "os.posix_spawn": "start another program",
    "os.spawn": "start another program",
    "os.fork": "fork the process",
    "os.forkpty": "fork the process",
    "subprocess.Popen": "start another program",
    "socket.connect": "open a network connection",
    "socket.bind": "open a network socket",
    "ctypes.dlopen": "load a C library",
    "ctypes.dlsym": "look up C symbols",
    "ctypes.call_function": "call C functions through ctypes",
    "os.kill": "send signals to processes",
}


class SandboxViolation(PermissionError):
    """Student code tried something grading does not allow."""


def install(denied: list[str], scratch: str, trusted: tuple[CodeType, ...] = ()) -> None:
    """Add the hook. ``trusted``: code objects of the worker's own functions that may fork and kill
    (the worker forks one process per graded function and kills it; student code may do neither)."""
    denied_roots = [os.path.realpath(d) for d in denied]
    scratch_root = os.path.realpath(scratch)

    def hook(event: str, args: tuple) -> None:
        if event in ("os.fork", "os.kill") and sys._getframe(1).f_code in trusted:
            return
        if event in _BLOCKED_EVENTS:
            raise SandboxViolation(f"grading does not allow student code to {_BLOCKED_EVENTS[event]} ({event})")
        if event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path = os.path.realpath(os.fsdecode(args[0]))
        if any(path == root or path.startswith(root + os.sep) for root in denied_roots):
            raise SandboxViolation(f"grading does not allow student code to open {path}")
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
        writing = any(c in mode for c in "wax+")
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        writing = writing or bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writing and not (path.startswith(scratch_root + os.sep) or path.startswith("/dev/")):
            raise SandboxViolation(f"grading does not allow student code to write {path}; only {scratch_root}")

    sys.addaudithook(hook)


# What of autograder/<assignment>/ students never see: the hidden checks, the references, the sample
# submissions, the grader-side judge and the table of mistakes (which holds near-solutions).
SECRET_PARTS = ("hidden", "references", "samples", "judge.py", "mistakes.py")


def default_denied(course_root: Path) -> list[str]:
    """What student code must not read: solutions, and each assignment's SECRET_PARTS."""
    autograder = course_root / "autograder"
    denied = [str(course_root / "solutions")]
    if autograder.is_dir():
        for assignment in autograder.iterdir():
            denied += [str(assignment / part) for part in SECRET_PARTS]
    return denied
