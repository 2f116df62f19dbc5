"""The worker: a confined zygote that forks one process per graded function.

Protocol (bytes over a socket, encoded by ``wire``): the grader sends ``load`` (settings and the
cells to run); the worker imports the torch it already warmed, confines itself (``confine``: the
kernel first, then the audit hooks of ``sandbox``), runs the definition cells and answers with the
functions they defined. Each later ``call`` names a function: the first call of a function forks a
process of its own from this warm parent (``_FunctionProcess``), which serves every call of that
function, so nothing one function does to process-wide state (grad mode, default dtype, RNG,
threads, patched classes or modules) reaches another. The worker relays each call with a deadline;
a function process that hangs, dies or answers too much is killed, and the grader is told why.
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
from vizgen.sandbox import confine, audit as sandbox
from vizgen.sandbox.invoke import run_request
from vizgen.author.support import load_support
from vizgen.sandbox.wire import decode, encode


_PR_SET_PDEATHSIG = 1


def _load(cells: list, namespace: dict) -> list[str]:
    """Run the definition cells; a failing cell costs only what it defines. Returns the errors."""
    errors = []
    for filename, code in cells:
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            exec(compile(code, filename, "exec"), namespace)
        except BaseException as error:  # noqa: BLE001 - any failure of student code is reported
            errors.append(f"{filename[1:-1]} failed to load: {type(error).__name__}: {error}"[:500])
    return errors


def _warm_imports(cells: list) -> None:
    """Run the cells' import statements here, so that each forked process finds the modules loaded.
    Failures are left to the loader, which reports them."""
    for filename, code in cells:
        try:
            tree = ast.parse(code, filename)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                try:
                    exec(compile(ast.Module([node], []), filename, "exec"), {})
                except BaseException:  # noqa: BLE001 - student imports: reported by the loader
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


class _FunctionProcess:
    """One graded function's own process, forked from the loaded worker."""

    def __init__(self, function: str, settings: dict, scratch: str, serve) -> None:
        ours, theirs = _socketpair()
        pid = os.fork()
        if pid == 0:  # the function's process: never returns
            ours.close()
            try:
                serve(function, theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self.conn = pid, ours

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


class Zygote:
    """The loaded, confined worker: forks and relays to one process per graded function."""

    def __init__(self, requests: Connection, replies: Connection, settings: dict) -> None:
        self.requests, self.replies, self.settings = requests, replies, settings
        self.scratch = tempfile.mkdtemp(prefix="vizgen-student-")
        self.paths = CoursePaths(Path(settings["root"])) if settings["root"] else None
        self.namespace: dict = {"__name__": "student"}
        # the assignment's probes and models: trusted code, imported before confinement and student code
        self.support = load_support(Path(settings["support"]) if settings["support"] else None)
        self.processes: dict[str, _FunctionProcess] = {}
        self.limits = confine.Limits(**settings["limits"])
        self.signal_scope = None
        self.cells: list = []
        self.prctl = ctypes.CDLL(None, use_errno=True).prctl  # bound before the audit hooks forbid ctypes

    def prepare(self, cells: list) -> dict:
        """Confine this process, then load the student's cells; returns the load report."""
        os.chdir(self.scratch)
        os.environ.update(MPLBACKEND="Agg", MPLCONFIGDIR=self.scratch, TMPDIR=self.scratch, HOME=self.scratch)
        tempfile.tempdir = self.scratch
        reader = _redirect_output(os.path.join(self.scratch, "worker.log"))
        sys.dont_write_bytecode = True
        torch.set_num_threads(1)  # no OpenMP pool before fork: a pool's threads do not survive into children
        if self.settings["cuda"]:  # load CUDA's libraries as trusted code, before confinement
            torch.cuda.init()
        level = self.settings["isolation"]
        policy = confine.Policy(
            readable=confine.default_readable(self.settings["readable"]),
            scratch=self.scratch,
            denied=tuple(self.settings["denied"]),
        )
        error = ""
        try:
            confine.confine(level, policy)
            self.signal_scope = confine.nested_signal_scope() if level == "landlock" else None
        except Exception as failure:  # noqa: BLE001 - reported to the grader, which refuses or degrades
            error = f"{level} could not be applied ({type(failure).__name__}: {failure})"
        sandbox.install(self.settings["denied"], self.scratch,
                        trusted=(_FunctionProcess.__init__.__code__, _FunctionProcess.kill.__code__))
        reader.close()
        if error and self.settings["require_kernel"]:
            return {"errors": [], "functions": [], "output": "", "isolation_error": error}
        self.cells = cells
        _warm_imports(cells)
        loader = _FunctionProcess("load", self.settings, self.scratch, self._serve_load)
        reply, lost = loader.ask(b"", self.settings["call_timeout_s"], self.settings["max_reply_bytes"])
        loader.kill(grace_s=1.0)
        report = decode(reply) if not lost else {
            "errors": [f"loading the cells {'did not finish in time' if lost == 'timeout' else 'crashed'}"], "functions": []}
        return {**report, "isolation_error": error}

    def _serve_load(self, _: str, conn: Connection) -> None:
        """Body of the loader process: run the cells once, report what they define and what failed."""
        reader = self._enter_child("load")
        conn.recv_bytes()
        errors = _load(self.cells, self.namespace)
        functions = sorted(k for k, v in self.namespace.items() if callable(v) and not k.startswith("__"))
        sys.stdout.flush()
        sys.stderr.flush()
        conn.send_bytes(encode({"errors": errors, "functions": functions,
                                "output": reader.read()[-self.settings["max_output_chars"]:]}))

    def _enter_child(self, name: str):
        """First steps of every forked process: its own domain, limits and output log. Returns the log's reader."""
        self.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the worker, even outside its process group
        if os.getppid() == 1:
            os._exit(0)
        for sibling in self.processes.values():  # no channel to another function's process
            sibling.conn.close()
        if self.signal_scope is not None:
            self.signal_scope.restrict()
        confine.apply_limits(self.limits)
        self.requests.close()
        self.replies.close()
        torch.set_num_threads(self.settings["threads"])
        return _redirect_output(os.path.join(self.scratch, f"{name}.log"))

    def _serve_function(self, function: str, conn: Connection) -> None:
        """Body of a function's process: the cells run again here (their definitions may run student code,
        which must never run in this worker: a thread pool started before a fork hangs the children)."""
        reader = self._enter_child(function)
        _load(self.cells, self.namespace)
        reader.read()  # what loading printed was reported by the loader
        fn = self.namespace[function]
        while True:
            try:
                request = decode(conn.recv_bytes())
            except (EOFError, OSError):
                return
            outcome = run_request(fn, request["probe"], request["args"], request["kwargs"], request["device"],
                                  self.paths, self.support)
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
        """Relay calls to the functions' processes until the grader closes the pipe."""
        try:
            while True:
                try:
                    raw = self.requests.recv_bytes()
                except (EOFError, OSError):
                    return
                function = decode(raw)["function"]
                process = self.processes.get(function)
                if process is None:
                    process = self.processes[function] = _FunctionProcess(
                        function, self.settings, self.scratch, self._serve_function)
                reply, lost = process.ask(raw, self.settings["call_timeout_s"], self.settings["max_reply_bytes"])
                if lost:
                    code = self.processes.pop(function).kill(grace_s=1.0 if lost == "died" else 0.0)
                    reply = encode({"lost": lost, "exit_code": code})
                self.replies.send_bytes(reply)
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
    zygote = Zygote(conn, conn, first["settings"])
    conn.send_bytes(encode(zygote.prepare(first["cells"])))
    zygote.serve()


if __name__ == "__main__":
    main()
