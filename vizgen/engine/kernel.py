"""A confined Jupyter kernel for `nbgrader autograde`, and the check server beside it.

Under nbgrader the student's whole notebook runs in a kernel, cells the student added included. This
launcher (kernel spec ``vizgen-confined``, chosen for autograding by ``nbgrader_config.py``) forks
before anything of the student's runs:

- the child stays unconfined and becomes the **check server**: it reads the checks, hidden ones
  included, and the references, and runs them (``engine.run_checks``) with a runner whose calls go
  back to the kernel;
- the parent confines itself (``confine``: Python, vizgen, the assets and its connection file
  readable; its own folder and a scratch folder writable; no other TCP port than its own ZMQ ports; no
  signal outside itself) and becomes the kernel. Its test cells' ``run_cell`` sends the check request
  to the server and answers the server's calls of the student's functions (``runner.answer_call``).

So the hidden checks are read by the grading side only; student code in the kernel cannot read them.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
import tempfile
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from vizgen.sandbox import wire

KERNEL_NAME = "vizgen-confined"
CHECK_FD_ENV = "VIZGEN_CHECK_FD"
_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


def install_kernelspec(prefix: str = sys.prefix) -> Path:
    """Write the kernel spec into ``prefix``/share/jupyter/kernels (the environment's own)."""
    folder = Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "vizgen.engine.kernel", "-f", "{connection_file}"],
        "display_name": "Python 3 (VizGen, confined for grading)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder


class KernelRunner:
    """The check server's runner: each call of a student function is answered by the kernel."""

    def __init__(self, conn: Connection, expected: dict[str, list[str]], support_file: Path | None = None):
        self.conn, self.expected, self.support_file = conn, expected, support_file

    def call(self, function: str, *args: Any, device: str = "cpu", **kwargs: Any):
        return self._request(function, None, list(args), kwargs, device)

    def probe(self, probe: str, function: str, *args: Any, **kwargs: Any):
        return self._request(function, probe, list(args), kwargs, "cpu")

    def _request(self, function: str, probe: str | None, args: list, kwargs: dict, device: str):
        from vizgen.sandbox.runners import reply_to_call

        request = {"function": function, "probe": probe, "args": args, "kwargs": kwargs, "device": device,
                   "expected": self.expected.get(function),
                   "support": str(self.support_file) if self.support_file else None}  # the kernel can read it
        self.conn.send_bytes(wire.encode({"call": request}))
        return reply_to_call(function, wire.decode(self.conn.recv_bytes()), request["expected"])

    def close(self) -> None:
        pass


def serve_checks(conn: Connection, root: Path) -> None:
    """The check server: for each check request from the kernel, run the checks and send the results."""
    from vizgen.course.config import CoursePaths
    from vizgen.course.assignment import load_assignment
    from vizgen.engine.submission import run_checks

    paths = CoursePaths(root)
    while True:
        try:
            request = wire.decode(conn.recv_bytes())["check"]
        except (EOFError, OSError):
            return
        task = load_assignment(paths, request["assignment"])
        runner = KernelRunner(conn, task.starter_signatures(), task.support_file)
        results = run_checks(task, runner, hidden=request["hidden"], function=request["function"])
        conn.send_bytes(wire.encode({"done": [asdict(r) for r in results]}))


def check_remotely(fd: int, assignment: str, function: str, namespace: dict, hidden: bool) -> list:
    """The kernel's side of a test cell: ask the server for the checks, answer its calls until done."""
    from vizgen.course.config import course_paths
    from vizgen.engine.results import CheckResult
    from vizgen.sandbox.runners import answer_call

    with Connection(os.dup(fd)) as conn:  # a copy: the kernel keeps its own for the next test cell
        conn.send_bytes(wire.encode({"check": {"assignment": assignment, "function": function, "hidden": hidden}}))
        paths = course_paths()
        while True:
            message = wire.decode(conn.recv_bytes())
            if "done" in message:
                return [CheckResult(**r) for r in message["done"]]
            conn.send_bytes(wire.encode(answer_call(namespace, message["call"], paths)))


def _policy(root: Path, connection_file: str, scratch: str):
    from vizgen.sandbox import confine, audit as sandbox

    from vizgen.course.config import CoursePaths
    from vizgen.course.assignment import available, load_assignment

    info = json.loads(Path(connection_file).read_text())
    datasets = [str(root / "datasets" / "cache"), str(root / "datasets" / "styles")]
    paths = CoursePaths(root)  # the assignments' support modules (shipped to students): probes run in the kernel
    supports = [str(t.support_file) for t in (load_assignment(paths, n) for n in available(paths)) if t.support_file]
    return confine.Policy(  # the connection file only read: ipykernel rewrites it only if its ports changed
        readable=confine.default_readable([*(d for d in datasets if os.path.isdir(d)), connection_file, *supports]),
        scratch=scratch,
        denied=tuple(sandbox.default_denied(root)),
        writable=(os.getcwd(),),
        ports=tuple(int(info[p]) for p in _PORTS if p in info),
    )


def main() -> None:
    """``python -m vizgen.engine.kernel -f CONNECTION_FILE``: fork the check server, confine, run ipykernel."""
    from vizgen.course.config import find_course_root
    from vizgen.sandbox import confine

    connection_file = sys.argv[sys.argv.index("-f") + 1]
    root = find_course_root()
    server, kernel = socket.socketpair()
    if os.fork() == 0:  # the check server: unconfined, ends with the kernel
        kernel.close()
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        try:
            serve_checks(Connection(server.detach()), root)
        finally:
            os._exit(0)
    server.close()
    scratch = tempfile.mkdtemp(prefix="vizgen-kernel-")
    os.environ.update({CHECK_FD_ENV: str(kernel.detach()), "IPYTHONDIR": os.path.join(scratch, "ipython"),
                       "MPLCONFIGDIR": scratch, "TMPDIR": scratch})
    tempfile.tempdir = scratch
    protection = confine.plan()
    confine.confine(protection.level, _policy(root, connection_file, scratch))
    from ipykernel.kernelapp import launch_new_instance

    sys.argv = [sys.argv[0], "-f", connection_file]
    launch_new_instance()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--install"]:
        print(f"installed kernel spec {install_kernelspec()}")
    else:
        main()
