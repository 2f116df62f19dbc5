"""Warm workers for a batch: a pre-fork server that has imported torch forks each submission's worker.

A fresh interpreter per submission costs Python and torch start-up (1.5-2 s of CPU), more than
the checks themselves; on 2 cores that, not the checks, would bound a class's grading time.
Each lane therefore starts one pre-fork server: a process that imports the worker's modules (torch, the
assignment's warm imports, ``vizgen.sandbox.worker``) and nothing else (no check, reference
or grader state is ever loaded in it), then forks one child per submission. The child is what
``spawn.spawn_worker`` would have started, minus the imports: it leads its own session, talks to
the grader over its end of a socket pair, and runs ``worker.main``, which confines itself (the
kernel, then the audit hooks) before student code runs. Student code never runs in the pre-fork server.

The lane sends the child's socket end over a Unix socket (SCM_RIGHTS); the server answers
``pid N`` and later ``exit N CODE`` when it reaps the child, which ``ForkedWorker.wait`` reads
(the child is the server's, not the lane's, so the lane cannot wait for it itself).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import Connection

from vizgen.sandbox import environment
from vizgen.sandbox.spawn import WorkerHandle


class PreforkServer:
    """The lane's handle on its pre-fork server: ``spawn`` returns a ``WorkerHandle`` like ``spawn.spawn_worker``."""

    def __init__(self, warm_imports: tuple[str, ...] = ()):
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vizgen.sandbox.prefork", str(theirs.fileno()), *warm_imports],
            pass_fds=[theirs.fileno()], env=environment.minimal(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.buffer = b""
        self.pids: list[int] = []
        self.exits: dict[int, int] = {}

    def _read_line(self, timeout: float | None) -> str | None:
        """The server's next line, or None when none came within ``timeout`` (or it is gone)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except (TimeoutError, socket.timeout, BlockingIOError):
                return None
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def _handle(self, line: str) -> None:
        words = line.split()
        if words[0] == "pid":
            self.pids.append(int(words[1]))
        elif words[0] == "exit":
            self.exits[int(words[1])] = int(words[2])

    def spawn(self, warm_imports: tuple[str, ...] = ()) -> WorkerHandle:
        """A forked worker (``warm_imports``: already imported by the server, or imported by the worker)."""
        ours, theirs = socket.socketpair()
        socket.send_fds(self.sock, [b"fork " + " ".join(warm_imports).encode() + b"\n"], [theirs.fileno()])
        theirs.close()
        while not self.pids:
            line = self._read_line(30.0)
            if line is None:
                ours.close()
                raise RuntimeError("the pre-fork server did not fork a worker: grade with --jobs 1 to use fresh "
                                   "interpreters")
            self._handle(line)
        pid = self.pids.pop(0)
        conn = Connection(ours.detach())
        return WorkerHandle(ForkedWorker(pid, self), conn, conn)  # type: ignore[arg-type]

    def close(self) -> None:
        self.sock.close()  # the server exits on EOF
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)


class ForkedWorker:
    """What ``WorkerHandle`` needs of a ``Popen`` (``pid``, ``wait``) for a worker the pre-fork server forked."""

    def __init__(self, pid: int, server: PreforkServer):
        self.pid = pid
        self.server = server
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:  # like Popen: waiting again returns the same code
            return self.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.pid not in self.server.exits:
            left = None if deadline is None else deadline - time.monotonic()
            line = self.server._read_line(left) if left is None or left > 0 else None
            if line is None:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
            self.server._handle(line)
        self.returncode = self.server.exits.pop(self.pid)
        return self.returncode

    def poll(self) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.wait(0)
        return None


def _child(channel: int, control: socket.socket) -> None:
    """In the forked child: become ``python -m vizgen.sandbox.worker CHANNEL`` (which confines itself)."""
    try:
        with contextlib.suppress(OSError):
            os.setsid()  # fails only if the server already made it a group leader
        control.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        from vizgen.sandbox import worker

        sys.argv = [worker.__file__, str(channel)]
        worker.main()
        code = 0
    except BaseException:  # noqa: BLE001 - the lane sees the exit code; nothing may unwind into the server's loop
        code = 1
    os._exit(code)


def serve(control: socket.socket) -> None:
    """The server's loop: fork a worker per request, report each child's pid and, once reaped, its exit."""
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    children: set[int] = set()
    while True:
        for child in list(children):
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid:
                children.discard(child)
                control.sendall(f"exit {pid} {os.waitstatus_to_exitcode(status)}\n".encode())
        if not selector.select(timeout=0.05):
            continue
        message, fds, _, _ = socket.recv_fds(control, 4096, 1)
        if not message:
            return  # the lane is gone
        for module in message.decode().split()[1:]:
            with contextlib.suppress(Exception):  # a worker imports what is missing itself
                importlib.import_module(module)
        pid = os.fork()
        if pid == 0:
            _child(fds[0], control)
        for fd in fds:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # its own group at once, so Worker.stop's killpg never misses it
        children.add(pid)
        control.sendall(f"pid {pid}\n".encode())


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    import torch  # noqa: F401 - the point of the pre-fork server: imported once, before any fork

    from vizgen.sandbox import worker  # noqa: F401
    for module in sys.argv[2:]:
        importlib.import_module(module)
    serve(control)


if __name__ == "__main__":
    main()
