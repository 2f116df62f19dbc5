"""Isolation that holds: what hostile and careless students try, graded as `vizgen grade` grades.

Each scenario may cost only the attacked function's checks; every other check is graded, nothing
secret reaches the results, results are always written and nothing is left running. The scenarios
that need kernel confinement skip, saying why, where the kernel offers none.
"""

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from helpers import scenario_maker, solution_cell, write_notebook
from hostile.attacks import EXPECTED, HOSTILE, SECRET_MARKER
from vizgen.course.config import GradingConfig
from vizgen.sandbox import confine, contain
from vizgen.engine.submission import grade_submission
from vizgen.course.notebook import extract_submission
from vizgen.sandbox.runners import SandboxRunner

FAST = GradingConfig(call_timeout_s=6.0, max_reply_mb=8)
KERNEL = confine.plan()
needs_kernel = pytest.mark.skipif(not KERNEL.kernel, reason=f"no kernel confinement here ({KERNEL.describe()})")
needs_landlock = pytest.mark.skipif(confine.landlock_abi() < 6, reason="needs Landlock ABI >= 6 (signal scoping)")


def _processes_in_group(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def submitted(assignment, tmp_path_factory):
    return scenario_maker(assignment.solution_notebook, tmp_path_factory.mktemp("submitted"), HOSTILE)


def _graded_alone(report, function: str) -> list:
    """The attacked function's failed checks; every other function's checks must all pass."""
    grouped = defaultdict(list)
    for check in report.checks:
        grouped[check.function].append(check)
    for other, checks in grouped.items():
        if other != function:
            assert all(c.passed for c in checks), [(c.name, c.message) for c in checks if not c.passed]
    assert len(report.checks) == 27
    return [c for c in grouped[function] if not c.passed]


IN_PROCESS = sorted(s for s in HOSTILE if s != "kills-the-grader")


@pytest.mark.parametrize("scenario", IN_PROCESS)
def test_attack_costs_only_the_attacked_function(assignment, submitted, scenario):
    if scenario.startswith("native-read") and not KERNEL.kernel:
        pytest.skip(f"native reads are stopped only by kernel confinement ({KERNEL.describe()})")
    notebook, function = submitted(scenario)
    report = grade_submission(notebook, assignment, hidden=True, config=FAST)
    failed = _graded_alone(report, function)
    if EXPECTED[scenario] is not None:
        assert failed, f"{scenario}: {function} got full marks"
        messages = " | ".join(c.message for c in failed)
        assert EXPECTED[scenario] in messages, messages
    everything = json.dumps([c.__dict__ for c in report.checks]) + " ".join(report.notes)
    assert SECRET_MARKER not in everything


@needs_landlock
def test_killing_the_grader_is_refused_and_results_are_written(assignment, submitted, tmp_path):
    notebook, function = submitted("kills-the-grader")
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "vizgen.cli", "grade", "--hidden", str(notebook), "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=assignment.paths.root)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    others = [t for t in results["tests"] if not t["name"].startswith(function)]
    assert len(results["tests"]) == 27 and all(t["score"] == t["max_score"] for t in others), others


def test_nothing_is_left_running(assignment, submitted):
    notebook, _ = submitted("thread-left-spinning")
    runner = SandboxRunner(extract_submission(notebook), assignment.starter_signatures(), assignment.paths,
                         [], FAST)
    import torch
    from vizgen.author.models import ModelSpec

    spec = ModelSpec("tiny_cnn", seed=0)
    call = runner.call("compute_saliency_maps", torch.rand(1, 3, 16, 16), torch.tensor([1]), spec)
    assert call.value.shape == (1, 16, 16)
    group = runner._worker.process.pid
    # the worker (in a PID namespace of its own where the machine allows one: then also its outer shell) and the
    # function's process
    assert len(_processes_in_group(group)) == (3 if contain.available() else 2)
    runner.close()
    deadline = time.monotonic() + 5  # SIGKILL is sent to the whole group; dying takes a few milliseconds
    while _processes_in_group(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_in_group(group) == []


def test_each_function_runs_in_a_process_of_its_own(assignment):
    solution = extract_submission(assignment.solution_notebook)
    source = ("import os\n\ndef pid_of(x):\n    return os.getpid()\n\ndef other_pid(x):\n    return os.getpid()\n")
    solution.cells.append(("<cell pids>", source))
    solution.functions.update(extract_submission(_notebook_with(source)).functions)
    runner = SandboxRunner(solution, {}, assignment.paths, [], FAST)
    try:
        first, again = runner.call("pid_of", 0).value, runner.call("pid_of", 1).value
        other = runner.call("other_pid", 0).value
    finally:
        runner.close()
    assert first == again and other != first


_POOL_AT_DEFINITION = """import torch

class Warm:  # a class body runs when the cell is loaded: this starts an OpenMP thread pool
    torch.set_num_threads(2)
    product = (torch.randn(800, 800) @ torch.randn(800, 800)).sum()

def multiply(x):
    torch.set_num_threads(2)
    return (torch.randn(800, 800) @ torch.randn(800, 800)).sum() * 0 + x
"""


def test_thread_pool_started_while_defining_does_not_hang_the_calls():
    """Forking after an OpenMP pool has run hangs the child: definitions never run in the worker that forks."""
    import torch

    runner = SandboxRunner(extract_submission(_notebook_with(_POOL_AT_DEFINITION)), {}, None, [], FAST)
    try:
        assert runner.call("multiply", torch.tensor(2.0)).value.item() == 2.0
    finally:
        runner.close()


def _notebook_with(source: str) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "n.ipynb"
    return write_notebook(path, [solution_cell("pids", source)])


# The fallbacks, forced: each must still keep a secret folder from a native read.
_READER = (
    "import os\nimport torch\n\n"
    "def read_secret(path):\n"
    "    size = os.stat(path).st_size\n"
    "    return torch.from_file(path, shared=False, size=size, dtype=torch.uint8)\n\n"
    "def square(x):\n"
    "    return x * x\n"
)


# Long enough that no temporary path (pytest-142, ...) can contain it by chance.
_SECRET = "VIZGEN-SECRET-9c1f7e"


def _fallback_runner(tmp_path: Path, level: str):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answer.txt").write_text(f"the answer is {_SECRET}")
    os.chmod(secret, 0o755)
    os.chmod(secret / "answer.txt", 0o644)
    notebook = write_notebook(tmp_path / "submitted.ipynb", [solution_cell("reader", _READER)])
    protection = confine.plan(level)
    runner = SandboxRunner(extract_submission(notebook), {}, None, [str(secret)], GradingConfig(),
                           protection=protection)
    return runner, secret / "answer.txt"


@pytest.mark.parametrize("level", ["unprivileged-uid", "namespace"])
def test_fallback_keeps_secrets_from_native_reads(tmp_path, level):
    if level == "unprivileged-uid" and os.geteuid() != 0:
        pytest.skip("dropping to another uid needs a root grader")
    if level == "namespace" and os.geteuid() != 0 and not confine._userns_possible():
        pytest.skip("this kernel allows no user namespaces")
    runner, answer = _fallback_runner(tmp_path, level)
    try:
        import torch

        assert runner.call("square", torch.tensor([3.0])).value.item() == 9.0
        with pytest.raises(Exception) as refused:
            runner.call("read_secret", str(answer))
        assert _SECRET not in str(refused.value)
        assert runner.isolation_note == ""
    finally:
        runner.close()


def test_audit_hooks_alone_are_reported_as_such():
    assert "NOT confined" in confine.plan("audit-hooks").describe()
    assert not confine.plan("audit-hooks").kernel


def test_require_isolation_refuses_without_kernel_confinement(assignment):
    config = GradingConfig(isolation="audit-hooks", require_isolation=True)
    done = subprocess.run(
        [sys.executable, "-m", "vizgen.cli", "grade", "--require-isolation", "--isolation", "audit-hooks",
         str(assignment.solution_notebook)], capture_output=True, text=True, timeout=120, cwd=assignment.paths.root)
    assert done.returncode == 2 and "kernel confinement" in done.stderr, done.stderr
    assert config.require_isolation


def test_safe_readable_never_grants_a_folder_holding_a_secret():
    granted = confine.safe_readable(("/course", "/course/.venv/lib", "/usr"), ("/course/solutions",))
    assert granted == ("/course/.venv/lib", "/usr")
