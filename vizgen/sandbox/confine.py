"""Kernel confinement of the process that runs student code, strongest available level first.

The audit hooks (``sandbox``) see only what Python code does; a read done in C (``torch.from_file``,
numpy, any extension module) passes them by. Confidentiality therefore rests on the kernel:

1. ``landlock`` (Linux >= 5.13): the worker may read only the Python installation, its
   site-packages, system libraries, the ``vizgen`` package and the asset folders, and write only its
   scratch folder; it may execute no program; on ABI >= 4 it may open no TCP connection and bind no
   TCP port; on ABI >= 6 it may not signal processes outside its own domain (the grader) nor reach
   abstract unix sockets. Each forked function process adds a nested domain (``function_ruleset``)
   that narrows its writable folder to one of its own, so it can neither signal the worker or the
   other functions' processes nor read or write their files.
2. ``unprivileged-uid`` (no Landlock, grader running as root, e.g. Gradescope): the worker drops to
   ``nobody``; the secret folders are made unreadable to other users first.
3. ``namespace`` (no Landlock, not root): a user and mount namespace in which the secret folders
   are covered by empty read-only tmpfs mounts.
4. ``audit-hooks``: nothing from the kernel; only the PEP 578 hooks remain.

``plan`` says which level the worker will reach (the grader prints it once); ``confine`` applies it
inside the worker, after torch is imported and before any student code runs.
"""

from __future__ import annotations

import ctypes
import os
import resource
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

LEVELS = ("landlock", "unprivileged-uid", "namespace", "audit-hooks")
KERNEL_LEVELS = LEVELS[:3]
NOBODY = 65534

# What each level stops, for `vizgen grade` and the README.
STOPS = {
    "landlock": "native reads of solutions, hidden checks and references; writes outside scratch; "
                "running programs; TCP; signals to the grader",
    "unprivileged-uid": "native reads of solutions, hidden checks and references (uid nobody); signals to the grader",
    "namespace": "native reads of solutions, hidden checks and references (hidden by mounts)",
    "audit-hooks": "only Python-level opens, processes, sockets and ctypes: native code is NOT confined",
}

_SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc", "/proc", "/sys")
_DEVICES_RW = ("/dev/null", "/dev/zero", "/dev/full", "/dev/urandom", "/dev/random")  # no /dev/shm: no shared files


class IsolationUnavailable(RuntimeError):
    """The requested protection level cannot be had on this machine."""


@dataclass(frozen=True)
class Protection:
    level: str
    detail: str

    @property
    def kernel(self) -> bool:
        return self.level in KERNEL_LEVELS

    def describe(self) -> str:
        return f"isolation: {self.level} ({self.detail}); stops {STOPS[self.level]}"


@dataclass(frozen=True)
class Policy:
    """What the confined worker may touch. Paths are absolute; ``denied`` never becomes readable."""

    readable: tuple[str, ...]
    scratch: str
    denied: tuple[str, ...]
    devices: tuple[str, ...] = field(default=_DEVICES_RW)
    writable: tuple[str, ...] = ()  # besides scratch (a notebook kernel: its folder, its runtime folder)
    ports: tuple[int, ...] = ()  # TCP ports it may bind and connect to (a kernel's ZMQ ports)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    try:
        import landlockpy
    except ImportError:  # the dependency is pinned in pyproject; a broken install falls back
        return 0
    return landlockpy.abi_version()


def plan(requested: str = "auto") -> Protection:
    """The protection level a worker on this machine will reach (``requested``: auto or a LEVEL)."""
    if requested not in ("auto", *LEVELS):
        raise ValueError(f"unknown isolation level {requested!r}: use auto or one of {', '.join(LEVELS)}.")
    abi = landlock_abi()
    candidates = {
        "landlock": (abi > 0, f"Landlock ABI {abi}"),
        "unprivileged-uid": (os.geteuid() == 0, f"uid {NOBODY} (nobody)"),
        "namespace": (os.geteuid() == 0 or _userns_possible(),
                      "mount namespace" if os.geteuid() == 0 else "user + mount namespace"),
        "audit-hooks": (True, "PEP 578 audit hooks only"),
    }
    if requested != "auto":
        ok, detail = candidates[requested]
        if not ok:
            raise IsolationUnavailable(f"isolation level {requested} is not available here: choose auto.")
        return Protection(requested, detail)
    return next(Protection(level, detail) for level, (ok, detail) in candidates.items() if ok)


def _userns_possible() -> bool:
    try:
        return int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
    except (OSError, ValueError):
        return False


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def default_readable(extra: list[str]) -> tuple[str, ...]:
    """Python's installation and import path, system folders, the vizgen package and ``extra``.

    A ``sys.path`` entry that holds the course itself (the current folder, a PYTHONPATH set to the
    repository) is replaced by the one package needed from it, ``vizgen``.
    """
    import vizgen

    entries = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    entries.update(p for p in sys.path if p and os.path.isabs(p))
    entries.add(os.path.dirname(os.path.realpath(vizgen.__file__)))
    entries.update(_SYSTEM_READ)
    entries.update(extra)
    return tuple(sorted(os.path.realpath(e) for e in entries if os.path.exists(e)))


def safe_readable(readable: tuple[str, ...], denied: tuple[str, ...]) -> tuple[str, ...]:
    """Drop every readable entry that contains a denied folder (granting it would grant the secret)."""
    secrets = [os.path.realpath(d) for d in denied]
    return tuple(r for r in readable if not any(_inside(secret, r) for secret in secrets))


def confine(level: str, policy: Policy) -> None:
    """Apply ``level`` to the calling process (and its future children). Irreversible."""
    {"landlock": _landlock, "unprivileged-uid": _drop_uid, "namespace": _namespace, "audit-hooks": lambda p: None}[
        level](policy)


def landlock_ruleset(policy: Policy):
    """The Landlock ruleset of ``policy`` (reads, device files, the writable folders, TCP ports; signals and
    abstract sockets scoped), built but not enforced: ``ruleset.restrict()`` enforces it on the caller."""
    from landlockpy import AccessFS, AccessNet, Ruleset, Scope, fs_for_abi

    every = fs_for_abi(landlock_abi())
    read = AccessFS.READ_FILE | AccessFS.READ_DIR
    ruleset = Ruleset(handled_fs=every, scoped=Scope.SIGNAL | Scope.ABSTRACT_UNIX_SOCKET)  # net: all TCP handled
    for path in safe_readable(policy.readable, policy.denied):
        ruleset.allow_path(path, read if os.path.isdir(path) else AccessFS.READ_FILE)
    for device in policy.devices:
        if os.path.exists(device):
            ruleset.allow_path(device, AccessFS.READ_FILE | AccessFS.WRITE_FILE | (every & AccessFS.TRUNCATE))
    for folder in safe_readable((policy.scratch, *policy.writable), policy.denied):
        ruleset.allow_path(folder, every & ~AccessFS.EXECUTE)
    for port in policy.ports:
        ruleset.allow_port(port, AccessNet.BIND_TCP | AccessNet.CONNECT_TCP)
    return ruleset


def _landlock(policy: Policy) -> None:
    with landlock_ruleset(policy) as ruleset:
        ruleset.restrict()


def function_ruleset(policy: Policy, folder: str):
    """The nested domain of one function's process: ``policy`` with ``folder`` (inside its scratch) as the
    only writable folder. Built in the worker before the audit hooks (landlockpy calls libc through
    ctypes); None where Landlock is missing."""
    if landlock_abi() < 1:
        return None
    readable = safe_readable(policy.readable, policy.denied)  # filtered once here; the folder is inside scratch
    return landlock_ruleset(Policy(readable, folder, (), policy.devices))


def _drop_uid(policy: Policy) -> None:
    for secret in policy.denied:  # the grader is root: make the secrets unreadable to everyone else
        if os.path.exists(secret):
            os.chmod(secret, stat.S_IMODE(os.stat(secret).st_mode) & 0o700)
    for folder in (policy.scratch, *policy.writable):
        for inner, folders, files in os.walk(folder):  # the functions' own folders too
            for name in [inner, *(os.path.join(inner, f) for f in folders + files)]:
                os.chown(name, NOBODY, NOBODY)
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 2, 4, 0x1000, 0x4000, 0x40000


def _namespace(policy: Policy) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if os.getpid() != 1:  # not already in the private namespaces of contain.enter: make them
        uid, gid = os.geteuid(), os.getegid()
        if libc.unshare(_CLONE_NEWNS | (0 if uid == 0 else _CLONE_NEWUSER)) != 0:
            raise IsolationUnavailable(f"unshare failed: {os.strerror(ctypes.get_errno())}")
        if uid != 0:
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
            Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
        libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None)  # our mounts stay in this namespace
    for secret in policy.denied:  # a folder under an empty tmpfs, a file under /dev/null
        if os.path.isdir(secret):
            hidden = libc.mount(b"vizgen-hidden", os.fsencode(secret), b"tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV,
                                b"size=4k")
        elif os.path.isfile(secret):
            hidden = libc.mount(b"/dev/null", os.fsencode(secret), None, _MS_BIND, None)
        else:
            continue
        if hidden != 0:
            raise IsolationUnavailable(f"could not hide {secret}: {os.strerror(ctypes.get_errno())}")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one function's process (see GradingConfig for the defaults)."""

    memory_mb: int  # address space above what the worker already maps (torch maps ~3 GB)
    cpu_seconds: int
    file_size_mb: int
    open_files: int
    processes: int  # for a non-root uid only: the kernel exempts root from RLIMIT_NPROC


def apply_limits(limits: Limits) -> None:
    """Set this process's rlimits; called in each forked function process before student code."""
    mapped = _mapped_bytes()
    settings = {
        resource.RLIMIT_AS: mapped + limits.memory_mb * 2**20,
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_FSIZE: limits.file_size_mb * 2**20,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_CORE: 0,
    }
    if os.geteuid() != 0:
        settings[resource.RLIMIT_NPROC] = limits.processes
    for which, value in settings.items():
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def _mapped_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0
