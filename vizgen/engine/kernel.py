"""A confined Jupyter kernel for `nbgrader autograde`, and the check server beside it.

Under nbgrader the student's whole notebook runs in a kernel, cells the student added included. This
launcher (kernel spec ``vizgen-confined``, chosen for autograding by ``nbgrader_config.py``) starts
from a clean slate and splits before anything of the student's runs:

1. it re-executes itself with the allow-listed environment (``sandbox.environment``): the kernel's
   ``/proc/self/environ`` then holds nothing of the grader's;
2. it forks the **check server**, which stays unconfined: it reads the checks, hidden ones included,
   and the references, and runs them (``submission.run_checks``) with a ``KernelRunner`` whose calls
   go back to the kernel. It serves only the assignment it was started for (``VIZGEN_ASSIGNMENT``,
   set by the grading preprocessor, ``nbgrader_scores``) and that assignment's functions, and it
   records every score it computes in the folder ``VIZGEN_SCORES``, where the kernel cannot write;
3. the launcher becomes process 1 of a PID namespace of its own (``sandbox.contain``: every process
   the kernel starts dies with it, and ``/proc`` shows no other), confines itself (``confine``:
   Python, vizgen, the assets and its connection file readable; its own folder and a scratch folder
   writable; no other TCP port than its own ZMQ ports; no signal outside itself), refuses new
   processes (``seccomp``) and runs ipykernel. Its test cells' ``run_cell`` sends the check request to
   the server and answers the server's calls of the student's functions (``runners.answer_call``).

So the hidden checks are read by the grading side only, and the score of a test cell is what the
server recorded, not what the kernel printed: the preprocessor puts the recorded score in the cell.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import tempfile
from dataclasses import asdict
from multiprocessing.connection import Connection
from pathlib import Path

from vizgen.sandbox import environment, wire

KERNEL_NAME = "vizgen-confined"
CHECK_FD_ENV = "VIZGEN_CHECK_FD"
SCORES_ENV = "VIZGEN_SCORES"  # the folder where the check server records the scores (set by the preprocessor)
ASSIGNMENT_ENV = "VIZGEN_ASSIGNMENT"  # the assignment the check server serves (set by the preprocessor)
RECORD_FILE = "scores.json"
_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
_PR_SET_PDEATHSIG = 1


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


def _assignment_name(value: str | None, known: list[str]) -> str | None:
    """An assignment name from the environment or a request, accepted only if the course has it."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]+", value) and value in known:
        return value
    return None


class Records:
    """The scores the check server computed, by function and hidden flag: ``<folder>/scores.json``."""

    def __init__(self, folder: Path | None):
        self.file = folder / RECORD_FILE if folder is not None else None
        self.entries: dict[str, dict] = {}

    def add(self, function: str, hidden: bool, results: list) -> None:
        if self.file is None:
            return
        from vizgen.engine.results import GradeReport, format_checks

        report = GradeReport(submission="this notebook", assignment="", checks=results)
        self.entries[f"{function}|{int(hidden)}"] = {
            "function": function, "hidden": hidden, "score": report.score, "max_score": report.max_score,
            "text": format_checks(report), "figures": [c.figure for c in results if c.figure and not c.passed]}
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(list(self.entries.values())))
        os.replace(tmp, self.file)


def serve_checks(conn: Connection, root: Path, pinned: str | None, records: Records, kernel_pid: int | None) -> None:
    """The check server: for each check request of the kernel, run the checks and send the results."""
    from vizgen.author.support import load_support
    from vizgen.course.assignment import available, load_assignment
    from vizgen.course.config import CoursePaths
    from vizgen.engine.submission import run_checks
    from vizgen.engine.suite import Suites
    from vizgen.sandbox.runners import KernelRunner

    paths = CoursePaths(root)
    known = available(paths)
    tasks: dict = {}
    suites = Suites()  # each assignment's checks, read once for the kernel's whole run
    while True:
        try:
            request = wire.decode(conn.recv_bytes()).get("check", {})
        except (EOFError, OSError, AttributeError):
            return
        name = _assignment_name(request.get("assignment"), known)
        if name is None or (pinned is not None and name != pinned):
            conn.send_bytes(wire.encode({"refused": f"this grading kernel checks {pinned or 'the course assignments'} "
                                                    "only: keep the notebook's test cells as they were released"}))
            continue
        task = tasks.setdefault(name, load_assignment(paths, name))
        function, hidden = request.get("function"), bool(request.get("hidden"))
        if function not in task.starter_signatures():
            conn.send_bytes(wire.encode({"refused": f"{function!r} is not a graded function of {name}"}))
            continue
        runner = KernelRunner(conn, task.starter_signatures(), load_support(task.probes_file), kernel_pid,
                              given={function: task.given_cells(function)})
        results = run_checks(task, runner, hidden=hidden, functions=(function,), suite=suites(task, hidden))
        records.add(function, hidden, results)
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
            if "refused" in message:
                raise PermissionError(message["refused"])
            conn.send_bytes(wire.encode(answer_call(namespace, message["call"], paths)))


def _policy(root: Path, connection_file: str, scratch: str, scores: str | None):
    from vizgen.course.assignment import available, load_assignment
    from vizgen.course.config import CoursePaths
    from vizgen.sandbox import audit, confine

    info = json.loads(Path(connection_file).read_text())
    datasets = [str(root / "datasets" / "cache"), str(root / "datasets" / "styles")]
    paths = CoursePaths(root)  # the assignments' probes modules (shipped to students): probes run in the kernel
    probes = [str(t.probes_file) for t in (load_assignment(paths, n) for n in available(paths)) if t.probes_file]
    return confine.Policy(  # the connection file only read: ipykernel rewrites it only if its ports changed
        readable=confine.default_readable([*(d for d in datasets if os.path.isdir(d)), connection_file, *probes]),
        scratch=scratch,
        denied=tuple(audit.default_denied(root)) + ((scores,) if scores else ()),
        writable=(os.getcwd(),),
        ports=tuple(int(info[p]) for p in _PORTS if p in info),
    )


def _clean_start() -> None:
    """Re-execute this launcher with the allow-listed environment, unless it already has it."""
    if environment.is_minimal():
        return
    keep = {k: os.environ[k] for k in (SCORES_ENV, ASSIGNMENT_ENV) if k in os.environ}
    os.execve(sys.executable, [sys.executable, "-m", "vizgen.engine.kernel", *sys.argv[1:]],
              environment.minimal(extra=keep))


def main() -> None:
    """``python -m vizgen.engine.kernel -f CONNECTION_FILE``: a clean environment, the check server, then the
    confined kernel in a PID namespace of its own."""
    _clean_start()
    import ctypes
    import signal

    from vizgen.course.assignment import available
    from vizgen.course.config import CoursePaths, find_course_root
    from vizgen.sandbox import confine, contain, seccomp

    connection_file = sys.argv[sys.argv.index("-f") + 1]
    root = find_course_root()
    scores = os.environ.pop(SCORES_ENV, None)
    pinned = _assignment_name(os.environ.pop(ASSIGNMENT_ENV, None), available(CoursePaths(root)))
    server, kernel = socket.socketpair()
    pid_read, pid_write = os.pipe()
    if os.fork() == 0:  # the check server: unconfined, ends with the kernel
        kernel.close()
        os.close(pid_write)
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        try:
            kernel_pid = int(os.read(pid_read, 32) or b"0") or None
            serve_checks(Connection(server.detach()), root, pinned, Records(Path(scores) if scores else None),
                         kernel_pid)
        finally:
            os._exit(0)
    server.close()
    os.close(pid_read)

    def tell_server(pid: int) -> None:
        os.write(pid_write, str(pid).encode())
        os.close(pid_write)

    if contain.available():
        contain.enter(keep_fds=(kernel.fileno(),), on_fork=tell_server)  # now process 1 of its own PID namespace
        os.close(pid_write)
    else:
        tell_server(os.getpid())
    scratch = tempfile.mkdtemp(prefix="vizgen-kernel-")
    os.environ.update({CHECK_FD_ENV: str(kernel.detach()), "IPYTHONDIR": os.path.join(scratch, "ipython"),
                       "MPLCONFIGDIR": scratch, "TMPDIR": scratch, "HOME": scratch})
    tempfile.tempdir = scratch
    no_new_processes = seccomp.prepare()
    protection = confine.plan()
    confine.confine(protection.level, _policy(root, connection_file, scratch, scores))
    if no_new_processes is not None:
        no_new_processes.apply()
    from ipykernel.kernelapp import launch_new_instance

    sys.argv = [sys.argv[0], "-f", connection_file]
    launch_new_instance()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--install"]:
        print(f"installed kernel spec {install_kernelspec()}")
    else:
        main()
