"""Start the worker process that will run student code; light to import, so it can start first.

`vizgen grade` starts a worker before it imports torch itself: the child's imports (about a
second and a half) then overlap the parent's. The worker waits for its first message. It starts
with the allow-listed environment (``environment.minimal``), never the grader's own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection

from vizgen.sandbox import environment


@dataclass
class WorkerHandle:
    """The grader's handle on one worker: its process (or the pre-fork server's stand-in) and socket."""

    process: subprocess.Popen
    send: Connection  # to the worker
    recv: Connection  # from the worker (the same socket as ``send``)

    def stop(self) -> None:
        """Kill the worker and every process it forked (they share its process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)
        self.send.close()


def spawn_worker(warm_imports: tuple[str, ...] = ()) -> WorkerHandle:
    """A fresh interpreter (not a fork): nothing of the grader's memory is visible to student code.

    ``warm_imports`` are imported in the background while the worker waits (an assignment's
    ``warm_imports``: e.g. torch._dynamo, ~1.3 s, which the first torch optimizer imports).
    """
    ours, theirs = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-m", "vizgen.sandbox.worker", str(theirs.fileno()), *warm_imports],
        env=environment.minimal(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(theirs.fileno(),),
        start_new_session=True,  # its own process group: killed as one, forked children included
    )
    theirs.close()
    conn = Connection(ours.detach())
    return WorkerHandle(process, conn, conn)
