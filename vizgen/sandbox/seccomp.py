"""No new processes: a seccomp filter that refuses fork, vfork and clone without ``CLONE_THREAD``.

A process running student code may start threads (torch and Python do) but no process: not by
``os.fork`` (the audit hooks name that one), nor by the low-level ``_posixsubprocess.fork_exec``,
``posix_spawn`` or a raw ``syscall`` through ctypes, which no audit event sees. The kernel answers
those with ``EPERM``; ``clone3`` answers ``ENOSYS``, so that glibc's ``pthread_create`` falls back to
``clone`` with ``CLONE_THREAD``, which is allowed. The filter holds for root too (``RLIMIT_NPROC``
does not), and is inherited by any thread; it cannot be removed.

``prepare()`` builds the filter program and binds ``prctl`` (ctypes) before the audit hooks forbid
ctypes; ``NoNewProcesses.apply()`` installs it in the calling process.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_CLONE_THREAD = 0x00010000

# BPF opcodes (linux/filter.h)
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000  # SECCOMP_RET_ALLOW
_ERRNO = 0x00050000  # SECCOMP_RET_ERRNO | errno

# (audit arch, fork, vfork, clone, clone3); -1: the architecture has no such call
_ARCHES = {
    "x86_64": (0xC000003E, 57, 58, 56, 435),
    "aarch64": (0xC00000B7, -1, -1, 220, 435),
}


class SeccompUnavailable(RuntimeError):
    """This machine's architecture or kernel offers no seccomp filter."""


def _program(arch: int, fork: int, vfork: int, clone: int, clone3: int) -> bytes:
    """The filter: seccomp_data is (nr u32 @0, arch u32 @4, ip u64 @8, args u64[6] @16)."""
    def ins(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k & 0xFFFFFFFF)

    refuse, missing = _ERRNO | errno.EPERM, _ERRNO | errno.ENOSYS
    denied = [n for n in (fork, vfork) if n >= 0]
    body = [ins(_LD_W_ABS, 0, 0, 4), ins(_JEQ_K, 1, 0, arch), ins(_RET_K, 0, 0, _ALLOW), ins(_LD_W_ABS, 0, 0, 0)]
    for number in denied:
        body += [ins(_JEQ_K, 0, 1, number), ins(_RET_K, 0, 0, refuse)]
    body += [ins(_JEQ_K, 0, 1, clone3), ins(_RET_K, 0, 0, missing)]
    body += [ins(_JEQ_K, 0, 3, clone),  # clone: allowed only for a thread (flags are args[0], low word @16)
             ins(_LD_W_ABS, 0, 0, 16), ins(_JSET_K, 1, 0, _CLONE_THREAD), ins(_RET_K, 0, 0, refuse)]
    body += [ins(_RET_K, 0, 0, _ALLOW)]
    return b"".join(body)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class NoNewProcesses:
    """A prepared filter; ``apply()`` installs it in the calling process (after a fork: in the child)."""

    def __init__(self) -> None:
        numbers = _ARCHES.get(platform.machine())
        if numbers is None:
            raise SeccompUnavailable(f"no seccomp filter for {platform.machine()}")
        code = _program(*numbers)
        self._buffer = ctypes.create_string_buffer(code, len(code))
        self._fprog = _SockFprog(len(code) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))
        libc = ctypes.CDLL(None, use_errno=True)
        self._prctl = libc.prctl
        self._prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]

    def apply(self) -> None:
        """Refuse new processes from now on, in this process and its threads. Irreversible."""
        if self._prctl(_PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
            raise SeccompUnavailable(f"no_new_privs: {ctypes.get_errno()}")
        if self._prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(self._fprog), 0, 0) != 0:
            raise SeccompUnavailable(f"seccomp filter refused: errno {ctypes.get_errno()}")


def prepare() -> NoNewProcesses | None:
    """The filter for this machine, or None where seccomp filters are not available."""
    try:
        return NoNewProcesses()
    except (SeccompUnavailable, OSError, AttributeError):
        return None
