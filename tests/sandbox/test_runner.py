"""The isolated runner: a hang, crash, exit or forbidden action costs only that function's calls."""

import time

import pytest
import torch

from helpers import solution_cell, write_notebook
from vizgen.course.config import GradingConfig
from vizgen.course.notebook import extract_submission
from vizgen.author.messages import FunctionUnavailable, StudentCodeError, StudentCrash, StudentTimeout
from vizgen.sandbox.runners import SandboxRunner, InProcessRunner
from vizgen.author.models import ModelSpec

CELLS = {
    "double": "def double(x):\n    print('hello from student')\n    return x * 2",
    "loop": "def loop(x):\n    while True:\n        pass",
    "leave": "def leave(x):\n    import sys\n    sys.exit(3)",
    "crash": "def crash(x):\n    import os\n    os._exit(7)",
    "peek": "def peek(path):\n    return open(path).read()",
    "scribble": "def scribble(path):\n    open(path, 'w').write('x')\n    return 1",
    "spawn": "def spawn():\n    import subprocess\n    return subprocess.run(['true']).returncode",
    "blob": "def blob():\n    return object()",
    "hook": "def hook(model):\n    model.register_forward_hook(lambda *a: None)\n    model.train()\n    return 0",
    "pending": "def pending(x):\n    raise NotImplementedError()",
}


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runner")
    secret = folder / "secret"
    secret.mkdir()
    (secret / "answers.txt").write_text("42")
    nb = write_notebook(folder / "sub.ipynb", [solution_cell(k, v) for k, v in CELLS.items()])
    r = SandboxRunner(extract_submission(nb), {"double": ["x"]}, None, [str(secret)],
                    GradingConfig(call_timeout_s=2.0))
    r.secret = secret
    yield r
    r.close()


def test_plain_call_returns_value_and_output(runner):
    call = runner.call("double", torch.tensor([1.0, 2.0]))
    assert torch.equal(call.value, torch.tensor([2.0, 4.0]))
    assert "hello from student" in call.output


def test_not_implemented_names_the_cell(runner):
    with pytest.raises(StudentCodeError, match="not implemented yet.*cell 'pending'"):
        runner.call("pending", 1)


def test_sys_exit_costs_the_call_only(runner):
    with pytest.raises(StudentCodeError, match=r"called sys.exit\(3\)"):
        runner.call("leave", 1)
    assert runner.call("double", 2).value == 4


def test_hang_times_out_then_skips(runner):
    start = time.perf_counter()
    with pytest.raises(StudentTimeout, match="did not return within 2 s"):
        runner.call("loop", 1)
    with pytest.raises(FunctionUnavailable, match="skipped: an earlier call"):
        runner.call("loop", 1)
    assert time.perf_counter() - start < 4.0  # the second call does not wait again
    assert runner.call("double", 3).value == 6  # a fresh worker serves the others


def test_crash_is_reported_with_exit_code(runner):
    with pytest.raises(StudentCrash, match="exit code 7"):
        runner.call("crash", 1)
    assert runner.call("double", 1).value == 2


@pytest.mark.parametrize("function, args, words", [
    ("peek", ["{secret}/answers.txt"], "not allow student code to open"),
    ("scribble", ["/tmp/vizgen-evil.txt"], "not allow student code to write"),
    ("spawn", [], "start another program"),
])
def test_sandbox_refuses(runner, function, args, words):
    args = [a.format(secret=runner.secret) for a in args]
    with pytest.raises(StudentCodeError, match=words):
        runner.call(function, *args)


def test_objects_never_cross_back(runner):
    with pytest.raises(StudentCodeError, match="builtins.object; return a tensor"):
        runner.call("blob")


def test_side_effects_are_reported(runner):
    call = runner.call("hook", ModelSpec("tiny_cnn"))
    assert call.effects["model"]["hooks_added"] == 1  # by parameter name
    assert call.effects["model"]["mode_changed"] and call.effects["model"]["now_training"]


def test_missing_and_wrong_signature(runner):
    with pytest.raises(FunctionUnavailable, match="'double': did you rename it"):
        runner.call("doubled", 1)
    nb_runner = InProcessRunner({"double": lambda y: y}, {"double": ["x"]}, None)
    with pytest.raises(FunctionUnavailable, match=r"takes \(y\) but the checks call it as double\(x\)"):
        nb_runner.call("double", 1)


def test_in_process_runner_reports_alike(runner):
    namespace = {}
    exec(CELLS["hook"], namespace)
    call = InProcessRunner(namespace, {}, None).call("hook", ModelSpec("tiny_cnn"))
    assert call.effects == runner.call("hook", ModelSpec("tiny_cnn")).effects
