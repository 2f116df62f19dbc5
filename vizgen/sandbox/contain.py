"""A PID namespace of its own for the process that will run student code, with its own ``/proc``.

``enter()`` unshares a PID and a mount namespace (and a user namespace when not root), then forks:
the child is process 1 of the new namespace and returns; the caller becomes a thin shell that
forwards SIGINT and SIGTERM to the child, waits for it and exits with its status. Two things follow:

- **nothing outlives grading**: when process 1 of a PID namespace dies, the kernel kills every
  other process in it, whatever session or process group it made for itself; process 1 dies with
  the shell (``PR_SET_PDEATHSIG``), and the shell is what the grader kills;
- **no other process is visible**: a fresh ``procfs`` is mounted on ``/proc`` inside the namespace,
  so ``/proc`` lists only the namespace's processes; the grader's ``/proc/<pid>/environ`` and
  command line are not there to read.

Needs root or unprivileged user namespaces; ``available()`` says whether this machine has them.
"""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 0x4000, 0x40000
_PR_SET_PDEATHSIG = 1


class ContainmentUnavailable(RuntimeError):
    """No PID namespace can be made here (neither root nor user namespaces)."""


def available() -> bool:
    """Whether ``enter`` can work here: root, or unprivileged user namespaces."""
    if os.geteuid() == 0:
        return True
    try:
        return int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
    except (OSError, ValueError):
        return False


def _check(result: int, what: str) -> None:
    if result != 0:
        raise ContainmentUnavailable(f"{what} failed: {os.strerror(ctypes.get_errno())}")


def _shell(child: int) -> None:
    """The caller's side after the fork: forward interrupts, wait, exit as the child did. Never returns."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _frame: os.kill(child, number))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def enter(keep_fds: tuple[int, ...] = (), on_fork=None) -> None:
    """Become process 1 of a new PID namespace (see the module docstring). The caller's process never
    returns from here: it waits for the new process 1 and exits with its status. ``keep_fds`` are
    closed in the waiting shell (the child keeps them), so that their peers see EOF when the child dies;
    ``on_fork(pid)`` runs in the shell with the child's pid as the caller's namespace sees it."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    _check(libc.unshare(_CLONE_NEWPID | _CLONE_NEWNS | (0 if uid == 0 else _CLONE_NEWUSER)), "unshare")
    if uid != 0:  # map our own ids into the new user namespace, where we hold the capabilities to mount
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
        Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    parent = os.getpid()
    child = os.fork()
    if child:
        for fd in keep_fds:
            os.close(fd)
        if on_fork is not None:
            on_fork(child)
        _shell(child)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # dies with the shell, and with it the namespace
    if os.getppid() != parent and os.getppid() != 0:
        os._exit(1)  # the shell died before the signal was armed
    _check(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "making / private")
    _check(libc.mount(b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None), "mounting /proc")
