"""The sandbox's walls, one by one: no new processes (seccomp), a PID namespace of its own with its own
/proc, an allow-listed environment, a folder and a domain per function, and definitions loaded per function."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from helpers import solution_cell, write_notebook
from vizgen.author.messages import FunctionUnavailable, StudentCodeError
from vizgen.course.config import GradingConfig
from vizgen.course.notebook import extract_submission
from vizgen.sandbox import contain, environment, seccomp, wire
from vizgen.sandbox.runners import SandboxRunner

FAST = GradingConfig(call_timeout_s=10.0)


def _fresh(body: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``body`` in a fresh interpreter: forking this multi-threaded test process could deadlock the child."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(body), *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(seccomp.prepare() is None, reason="no seccomp filter for this machine")
def test_seccomp_refuses_processes_but_not_threads():
    done = _fresh("""
        import os, threading, torch
        from vizgen.sandbox import seccomp
        seccomp.prepare().apply()
        done = []
        thread = threading.Thread(target=lambda: done.append(1))
        thread.start()
        thread.join()
        assert done == [1]
        torch.set_num_threads(2)
        assert float((torch.ones(300, 300) @ torch.ones(300, 300))[0, 0]) == 300.0
        for start in (os.fork, lambda: os.posix_spawn("/bin/true", ["true"], {})):
            try:
                start()
            except PermissionError:
                continue
            os._exit(3)  # a process started: the filter let it through
        print("refused")
    """)
    assert done.returncode == 0 and done.stdout.strip() == "refused", done.stderr


def _named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and open(f"/proc/{entry}/comm").read().strip() == name:
                found.append(int(entry))
        except OSError:
            pass
    return found


@pytest.mark.skipif(not contain.available(), reason="no PID namespace here (neither root nor user namespaces)")
def test_pid_namespace_hides_other_processes_and_takes_its_children_along():
    grader, name = os.getpid(), f"vzstray{os.getpid() % 10000}"
    done = _fresh("""
        import ctypes, os, sys, time
        from vizgen.sandbox import contain
        grader, name = int(sys.argv[1]), sys.argv[2]
        read, write = os.pipe()
        contain.enter()
        visible = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        assert visible == [1] and not os.path.exists(f"/proc/{grader}"), visible
        if os.fork() == 0:  # a straggler in a session of its own: killing a process group would miss it
            os.setsid()
            ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME
            os.write(write, b"x")
            time.sleep(60)
            os._exit(0)
        assert os.read(read, 1) == b"x"
        print("hidden")
    """, str(grader), name)
    assert done.returncode == 0 and done.stdout.strip() == "hidden", done.stderr
    deadline = time.monotonic() + 5
    while _named(name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _named(name)  # it died with process 1 of its namespace


def test_environment_is_an_allow_list(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    env = environment.minimal(home="/tmp/x")
    assert "GITHUB_TOKEN" not in env and env["OMP_NUM_THREADS"] == "1" and env["HOME"] == "/tmp/x"


def test_reserved_wire_tags_are_refused_in_student_data():
    with pytest.raises(wire.NotPlainData, match="which grading reserves"):
        wire.plain({"__tuple__": [1]}, "the return value")
    assert wire.decode(wire.encode({"a": (1, 2)})) == {"a": (1, 2)}


_CELLS = {
    "shared": "import torch\n\nclass Boom:\n    raise RuntimeError('defined at load time')\n",
    "uses_boom": "def uses_boom(x):\n    return Boom\n",
    "innocent": "def innocent(x):\n    return x + 1\n",
    "writer": "def writer(name):\n    open(name, 'w').write('note')\n    return 1\n",
    "reader": "def reader(name):\n    return open(name).read()\n",
    "parent": "import os\n\ndef parent():\n    return os.getppid()\n",
}


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    notebook = write_notebook(tmp_path_factory.mktemp("cells") / "n.ipynb",
                              [solution_cell(k, v) for k, v in _CELLS.items()])
    r = SandboxRunner(extract_submission(notebook), {}, None, [], FAST)
    yield r
    r.close()


def test_definition_time_code_costs_only_the_functions_that_need_it(runner):
    assert runner.call("innocent", 1).value == 2
    with pytest.raises(FunctionUnavailable, match="RuntimeError: defined at load time"):
        runner.call("uses_boom", 1)


def test_each_function_writes_in_a_folder_of_its_own(runner):
    assert runner.call("writer", "note.txt").value == 1
    with pytest.raises(StudentCodeError, match="FileNotFoundError|PermissionError"):
        runner.call("reader", "note.txt")  # its own folder holds no such file
    with pytest.raises(StudentCodeError, match="PermissionError|denied|not allow"):
        runner.call("reader", os.path.join("..", "writer", "note.txt"))  # and the writer's folder is closed to it


def test_cpu_time_is_measured_outside_the_student_process(runner):
    call = runner.call("innocent", torch.ones(3))
    assert 0.0 <= call.cpu_seconds < 1.0


_GRADIENTS = {
    "honest": "import torch\n\ndef honest(x, w):\n    return (w * x ** 2).sum() + torch.randn(()) * 0\n",
    "listed": "def listed(feats, w):\n    return sum((f ** 2).sum() for f in feats) * w\n",
    "noisy": ("import torch\n\ndef noisy(mu, logvar):\n"
              "    return (mu + torch.randn_like(mu) * (0.5 * logvar).exp()).sum()\n"),
    "liar": ("import torch\n\ndef liar(x, w):  # computes w * x ** 3, reports the gradient of w * x ** 2\n"
             "    torch.autograd.grad = lambda out, inputs, **k: tuple(2 * w * t.detach() for t in inputs)\n"
             "    return (w * x ** 3).sum()\n"),
}


@pytest.fixture(scope="module")
def differentiating(tmp_path_factory):
    notebook = write_notebook(tmp_path_factory.mktemp("grads") / "n.ipynb",
                              [solution_cell(k, v) for k, v in _GRADIENTS.items()])
    r = SandboxRunner(extract_submission(notebook), {}, None, [], FAST)
    yield r
    r.close()


def test_verified_gradients_of_an_honest_function_agree(differentiating):
    from vizgen.author import expect_gradients

    x = torch.randn(5, dtype=torch.float64).requires_grad_()
    call = differentiating.differentiate("honest", x, 1.5, wrt=(0,), verify=True)
    assert torch.allclose(call.gradients["x"], 3.0 * x.detach())
    expect_gradients(call, "honest", "use torch operations")
    feats = [torch.randn(2, 3).requires_grad_(), torch.randn(4).requires_grad_()]
    call = differentiating.differentiate("listed", feats, 2.0, wrt=(0,), verify=True)
    assert [g.shape for g in call.gradients["feats"]] == [(2, 3), (4,)]
    expect_gradients(call, "listed", "use torch operations")
    mu, logvar = torch.zeros(3).requires_grad_(), torch.zeros(3).requires_grad_()
    expect_gradients(differentiating.differentiate("noisy", mu, logvar, wrt=(0, 1), verify=True), "noisy",
                     "same seed, same noise")


def test_gradients_reported_by_a_patched_autograd_are_caught(differentiating):
    from vizgen.author import CheckFailure, expect_gradients

    x = torch.randn(5).requires_grad_()
    call = differentiating.differentiate("liar", x, 1.5, wrt=(0,), verify=True)
    assert torch.allclose(call.gradients["x"], 3.0 * x.detach())  # the lie got through (3 x, not 4.5 x^2)...
    with pytest.raises(CheckFailure, match="does not match how its value changes"):  # ...and is caught
        expect_gradients(call, "liar", "compute the value with torch operations")
