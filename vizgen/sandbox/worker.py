"""The worker: a confined process that forks one process per graded function and relays its calls.

Protocol (bytes over a socket, encoded by ``wire``): the grader sends one ``load`` message,
``{"settings": ..., "functions": {function: cells}}`` (each function's cells cut down to what it
reaches, ``Submission.cells_for``). The worker, in a PID namespace of its own where the machine
allows one (``contain``), confines itself (``confine``: the kernel first, then the audit hooks of
``audit``) and answers ``{"isolation_error": ...}``. It never runs student code: each later call
names a function, and the first call of a function forks that function's process
(``FunctionProcess``), which enters a nested Landlock domain with a folder of its own, sets its
resource limits, refuses new processes (``seccomp``), runs the function's cells and serves every
call of it. Nothing one function does (to process-wide state, to files, to the definitions another
function needs) reaches another.

For each call the worker answers with a header, ``{"lost": "", "cpu_seconds": ...}`` (the CPU time
of the function's process during the call, read from the kernel's clock for that process: the
student's code cannot change it), then the function process's reply as it came; or a header whose
``lost`` says why the process was killed (``timeout``, ``died``, ``too-large``).
"""

from __future__ import annotations

import ast
import ctypes
import importlib
import linecache
import os
import signal
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import torch

from vizgen.course.config import CoursePaths
from vizgen.course.notebook import REFERENCE_PREFIX
from vizgen.sandbox import audit, confine, contain, seccomp
from vizgen.sandbox.invoke import run_request
from vizgen.author.support import load_support
from vizgen.sandbox.wire import decode, encode

_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE = 1, 4


def _load(cells: list, namespace: dict) -> list[str]:
    """Run the definition cells; returns the errors (a failing cell is reported, the others still run)."""
    errors = []
    for filename, code in cells:
        if not filename.startswith(REFERENCE_PREFIX):  # the solution's given definitions: no source to read back
            linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            exec(compile(code, filename, "exec"), namespace)
        except BaseException as error:  # noqa: BLE001 - any failure of student code is reported
            errors.append(f"{filename[1:-1]} failed to load: {type(error).__name__}: {error}"[:500])
    return errors


def _warm_imports(cells: list) -> None:
    """Run the cells' import statements here, so that each forked process finds the modules loaded.
    Failures are left to the function's process, which reports them."""
    for filename, code in cells:
        try:
            tree = ast.parse(code, filename)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                try:
                    exec(compile(ast.Module([node], []), filename, "exec"), {})
                except BaseException:  # noqa: BLE001 - student imports: reported by the function's process
                    pass


def _redirect_output(path: str):
    """Send fds 1 and 2 (student prints, C-level writes) to ``path``; returns a reader of it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    return open(path, "r", errors="replace")


def _cpu_clock(pid: int) -> int:
    """The clock id of process ``pid``'s CPU time (all its threads): Linux's CPUCLOCK_SCHED for a process."""
    return ((~pid) << 3) | 2


class FunctionProcess:
    """One graded function's own process, forked from the confined worker."""

    def __init__(self, serve) -> None:
        ours, theirs = _socketpair()
        pid = os.fork()
        if pid == 0:  # the function's process: never returns
            ours.close()
            try:
                serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self.conn = pid, ours

    def cpu_seconds(self) -> float:
        try:
            return time.clock_gettime(_cpu_clock(self.pid))
        except OSError:  # the process is gone
            return 0.0

    def ask(self, raw: bytes, timeout: float, max_bytes: int) -> tuple[bytes | None, str]:
        """Relay one call; returns (reply, "") or (None, why the process was lost)."""
        try:
            self.conn.send_bytes(raw)
            if not self.conn.poll(timeout):
                return None, "timeout"
            return self.conn.recv_bytes(max_bytes), ""
        except OSError as error:  # the reply is larger than max_bytes ("bad message length")
            return None, "too-large" if "length" in str(error) else "died"
        except EOFError:
            return None, "died"

    def kill(self, grace_s: float = 0.0) -> int | None:
        """End the process: its exit code if it exits within ``grace_s`` (it died: the code says how),
        else None after SIGKILL (it was still running: it hung)."""
        code = None
        try:
            deadline = time.monotonic() + grace_s
            while (done := os.waitpid(self.pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            if done[0] == 0:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            else:
                code = os.waitstatus_to_exitcode(done[1])
        except ChildProcessError:
            pass
        self.conn.close()
        return code


def _socketpair() -> tuple[Connection, Connection]:
    import socket

    a, b = socket.socketpair()
    return Connection(a.detach()), Connection(b.detach())


def _folder_name(function: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in function)[:80] or "function"


class ConfinedWorker:
    """The confined worker: forks and relays to one process per graded function."""

    def __init__(self, conn: Connection, settings: dict, functions: dict[str, list]) -> None:
        self.conn, self.settings, self.functions = conn, settings, functions
        self.scratch = settings.get("scratch") or tempfile.mkdtemp(prefix="vizgen-student-")  # the grader removes it
        os.makedirs(self.scratch, mode=0o700, exist_ok=True)
        self.paths = CoursePaths(Path(settings["root"])) if settings["root"] else None
        # the assignment's probes and models: trusted code, imported before confinement and student code
        self.support = load_support(Path(settings["support"]) if settings["support"] else None)
        self.processes: dict[str, FunctionProcess] = {}
        self.pid = os.getpid()  # after contain.enter: 1
        self.limits = confine.Limits(**settings["limits"])
        self.rulesets: dict[str, object] = {}
        self.no_new_processes = seccomp.prepare()
        self.prctl = ctypes.CDLL(None, use_errno=True).prctl  # bound before the audit hooks forbid ctypes

    def prepare(self) -> dict:
        """Confine this process and prepare each function's folder and nested domain; returns the report."""
        os.chdir(self.scratch)
        os.environ.update(MPLBACKEND="Agg", MPLCONFIGDIR=self.scratch, TMPDIR=self.scratch, HOME=self.scratch)
        tempfile.tempdir = self.scratch
        reader = _redirect_output(os.path.join(self.scratch, "worker.log"))
        sys.dont_write_bytecode = True
        torch.set_num_threads(1)  # no OpenMP pool before fork: a pool's threads do not survive into children
        if self.settings["cuda"]:  # load CUDA's libraries as trusted code, before confinement
            torch.cuda.init()
        self.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)  # no other process of this uid may read this one's memory
        level = self.settings["isolation"]
        denied = tuple(self.settings["denied"])
        readable = confine.safe_readable(confine.default_readable(self.settings["readable"]), denied)
        policy = confine.Policy(readable=readable, scratch=self.scratch, denied=denied)
        nested = confine.Policy(readable=readable, scratch=self.scratch, denied=())  # already safe: not filtered again
        for function in self.functions:
            folder = os.path.join(self.scratch, _folder_name(function))
            os.makedirs(folder, exist_ok=True)
            if level == "landlock":
                self.rulesets[function] = confine.function_ruleset(nested, folder)
        error = ""
        try:
            confine.confine(level, policy)
        except Exception as failure:  # noqa: BLE001 - reported to the grader, which refuses or degrades
            error = f"{level} could not be applied ({type(failure).__name__}: {failure})"
        audit.install(self.settings["denied"], self.scratch,
                      trusted=(FunctionProcess.__init__.__code__, FunctionProcess.kill.__code__))
        reader.close()
        if error and self.settings["require_kernel"]:
            return {"isolation_error": error}
        _warm_imports([cell for cells in self.functions.values() for cell in cells])
        return {"isolation_error": error, "contained": os.getpid() == 1,
                "no_new_processes": self.no_new_processes is not None}

    def _enter_child(self, function: str):
        """First steps of a function's process, before any student code: its own domain and folder,
        limits and output log; no new processes. Returns the log's reader."""
        self.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the worker, even outside its group
        if os.getppid() != self.pid:  # the worker died before the signal was armed
            os._exit(0)
        for sibling in self.processes.values():  # no channel to another function's process
            sibling.conn.close()
        self.conn.close()
        folder = os.path.join(self.scratch, _folder_name(function))
        ruleset = self.rulesets.get(function)
        if ruleset is not None:
            ruleset.restrict()
        audit.install(self.settings["denied"], folder)  # a second hook: Python-level writes in its folder only
        os.chdir(folder)
        os.environ.update(MPLCONFIGDIR=folder, TMPDIR=folder, HOME=folder)
        tempfile.tempdir = folder
        confine.apply_limits(self.limits)
        if self.no_new_processes is not None:
            self.no_new_processes.apply()
        torch.set_num_threads(self.settings["threads"])
        return _redirect_output(os.path.join(folder, "output.log"))

    def _serve_function(self, function: str, conn: Connection) -> None:
        """Body of a function's process: its cells run here (student code never runs in the worker),
        then every call of the function is served."""
        try:
            reader = self._enter_child(function)
        except Exception as failure:  # noqa: BLE001 - the grader's own fault: said, not a crash of the student's
            conn.send_bytes(encode({"load_error": f"grading could not prepare the process of {function} "
                                                  f"({type(failure).__name__}: {failure}): tell the course staff"}))
            return
        namespace: dict = {"__name__": "student"}
        errors = _load(self.functions.get(function, []), namespace)
        reader.read()  # what loading printed is not the calls' output
        fn = namespace.get(function)
        missing = None if callable(fn) and not errors else (  # a definition it needs failed: say which, not NameError
            f"{function} could not be loaded: {'; '.join(errors) or 'its cell does not define it'}: run that cell in "
            "Jupyter and fix the error (grading runs only the imports and definitions your function needs)")
        while True:
            try:
                request = decode(conn.recv_bytes())
            except (EOFError, OSError):
                return
            if missing:
                conn.send_bytes(encode({"load_error": missing}))
                continue
            outcome = run_request(fn, request["probe"], request["args"], request["kwargs"], request["device"],
                                  self.paths, self.support, request.get("gradients"), request.get("seed"))
            sys.stdout.flush()
            sys.stderr.flush()
            outcome["output"] = reader.read()[-self.settings["max_output_chars"]:]
            try:
                conn.send_bytes(encode(outcome))
            except Exception as failure:  # noqa: BLE001 - e.g. a result torch cannot save
                why = (f"the result could not be sent back to the grader ({str(failure)[:200]}); return tensors, "
                       "arrays, numbers, strings or lists, tuples and dicts of them")
                conn.send_bytes(encode({"error": {"type": "NotPlainData", "message": why, "where": []}}))

    def serve(self) -> None:
        """Relay calls to the functions' processes until the grader closes the socket."""
        try:
            while True:
                try:
                    raw = self.conn.recv_bytes()
                except (EOFError, OSError):
                    return
                function = decode(raw)["function"]
                process = self.processes.get(function)
                if process is None:
                    process = self.processes[function] = FunctionProcess(
                        lambda conn, function=function: self._serve_function(function, conn))
                before = process.cpu_seconds()
                reply, lost = process.ask(raw, self.settings["call_timeout_s"], self.settings["max_reply_bytes"])
                header = {"lost": lost, "cpu_seconds": max(0.0, process.cpu_seconds() - before)}
                if lost:
                    header["exit_code"] = self.processes.pop(function).kill(grace_s=1.0 if lost == "died" else 0.0)
                self.conn.send_bytes(encode(header))
                if not lost:
                    self.conn.send_bytes(reply)
        finally:
            for process in self.processes.values():
                process.kill()


def main() -> None:
    """Entry point: ``python -m vizgen.sandbox.worker FD [MODULE ...]``.

    FD is the worker's end of a socket to the grader. Modules named after it (an assignment's
    ``warm_imports``, e.g. ``torch._dynamo``: ~1.3 s) are imported while the worker waits for the
    grader, and finished before it confines itself and forks.
    """
    fd = int(sys.argv[1])
    warm = [threading.Thread(target=importlib.import_module, args=(m,), daemon=True) for m in sys.argv[2:]]
    for thread in warm:
        thread.start()
    conn = Connection(fd)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    first = decode(conn.recv_bytes())
    for thread in warm:
        thread.join()
    if first["settings"].get("contain") and contain.available():
        try:
            contain.enter(keep_fds=(fd,))  # from here on: process 1 of a PID namespace of its own
        except contain.ContainmentUnavailable:
            pass  # graded without it; the worker's report says so
    worker = ConfinedWorker(conn, first["settings"], first["functions"])
    conn.send_bytes(encode(worker.prepare()))
    worker.serve()


if __name__ == "__main__":
    main()
