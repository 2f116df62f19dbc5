"""The assignment contract: assignment.toml's schema, the support interface, side effects by parameter name."""

import textwrap

import pytest
import torch

from vizgen.errors import CourseLayoutError
from vizgen.course.assignment import AssignmentConfig, read_config
from vizgen.author.expect import expect_clean_model, expect_input_unchanged, fail
from vizgen.author.messages import CheckFailure
from vizgen.author.call import Call
from vizgen.sandbox.runners import InProcessRunner
from vizgen.author.support import engine_support, load_support
from vizgen.author.models import ModelSpec


def _toml(tmp_path, text: str):
    file = tmp_path / "assignment.toml"
    file.write_text(textwrap.dedent(text))
    return file


def test_a_valid_file_gets_the_defaults(tmp_path):
    config = read_config(_toml(tmp_path, 'notebook = "X.ipynb"\nwarm_imports = ["json"]\n'))
    assert config == AssignmentConfig(notebook="X.ipynb", warm_imports=("json",))
    assert config.title == "" and config.probes == ""


@pytest.mark.parametrize("text, says", [
    ('notebook = "X.ipynb"\nwarm_import = ["json"]\n', "unknown key 'warm_import': did you mean warm_imports?"),
    ('notebook = "X.ipynb"\nwarm_imports = "json"\n', "warm_imports must be a list of str, not 'json'"),
    ('notebook = "X.ipynb"\nwarm_imports = [1]\n', "warm_imports must be a list of str"),
    ("notebook = 3\n", "notebook must be a str, not 3"),
    ('notebook = "X.ipynb"\nhidden_checks = 13\n', "hidden_checks is derived from hidden/ now: remove that line"),
    ('notebook = "X.ipynb"\nsupport = "support.py"\n', "support is split by process now: name the module that runs "
                                                      "beside student code with probes"),
])
def test_unknown_keys_and_wrong_types_are_refused_with_the_file_and_fix(tmp_path, text, says):
    file = _toml(tmp_path, text)
    with pytest.raises(CourseLayoutError, match=r"assignment\.toml") as error:
        read_config(file)
    assert says in str(error.value)


def test_support_modules_are_checked(tmp_path):
    assert load_support(None).probes.keys() == engine_support().probes.keys()
    with pytest.raises(CourseLayoutError, match="is missing"):
        load_support(tmp_path / "nowhere.py")
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(CourseLayoutError, match="defines no SUPPORT"):
        load_support(tmp_path / "empty.py")
    (tmp_path / "clash.py").write_text(
        "from vizgen.author.support import Support\nSUPPORT = Support(probes={'module_summary': len})\n")
    with pytest.raises(CourseLayoutError, match="registers probe 'module_summary', which the engine already has"):
        load_support(tmp_path / "clash.py")


def test_runners_refuse_probes_nobody_registered():
    runner = InProcessRunner({"f": lambda x: x}, {}, None)
    with pytest.raises(ValueError, match="unknown probe 'train_generator': use one of module_summary"):
        runner.probe("train_generator", "f", 1)


def test_side_effects_are_keyed_by_parameter_name_and_unknown_names_refused():
    namespace = {}
    exec("def touch(X, model):\n    X.add_(1)\n    model.train()\n    return 0", namespace)
    call = InProcessRunner(namespace, {}, None).call("touch", torch.zeros(2), ModelSpec("tiny_cnn"))
    assert set(call.effects) == {"X", "model"} and set(call.args_after) == {"X"}
    with pytest.raises(CheckFailure, match="touch modified its input X in place"):
        expect_input_unchanged(call, "X")
    with pytest.raises(CheckFailure, match="touch changed the model's train/eval mode"):
        expect_clean_model(call, "model")
    for wrong in ("0", "x", "y"):  # a position, a misspelling, a name the function lacks: refused, never passed
        with pytest.raises(CourseLayoutError, match=f"argument '{wrong}', which has none recorded .* X, model"):
            expect_input_unchanged(call, wrong)
    clean = Call("f", 0, {}, {"model": {"hooks_added": 0, "mode_changed": False, "requires_grad_changed": 0}})
    expect_clean_model(clean, "model")


def test_fail_is_a_student_facing_check_failure():
    with pytest.raises(CheckFailure, match="^the loss is 3; expected 2$"):
        fail("the loss is 3; expected 2")


def test_resource_limits_come_from_assignment_toml(paths):
    from vizgen.course.config import GradingConfig
    from vizgen.course.assignment import load_assignment

    gan = load_assignment(paths, "generative_adversarial_networks")
    config = gan.grading_config(GradingConfig(call_timeout_s=4.0))
    assert (config.memory_mb, config.cpu_seconds, config.call_timeout_s) == (2048, 120, 4.0)
    assert config.open_files == GradingConfig().open_files  # not set: the engine's default


def test_a_limit_must_be_a_whole_number(tmp_path):
    from vizgen.errors import CourseLayoutError
    from vizgen.course.assignment import read_config

    (tmp_path / "assignment.toml").write_text('notebook = "A.ipynb"\nmemory_mb = true\n')
    with pytest.raises(CourseLayoutError, match="memory_mb must be a int"):
        read_config(tmp_path / "assignment.toml")


def test_the_contract_reads_graded_functions_from_the_solution_not_an_older_release(tmp_path):
    """A function added to the solution has checks before the next release: the contract must not refuse it."""
    from helpers import solution_cell, write_notebook
    from vizgen.course import contract
    from vizgen.course.assignment import load_assignment
    from vizgen.course.config import CoursePaths

    folder = tmp_path / "autograder" / "pair"
    for kind in ("public", "hidden"):
        (folder / kind).mkdir(parents=True)
        (folder / kind / f"test_{kind}.py").write_text(
            "from vizgen.author import check\n\n"
            + "".join(f"@check(points=1, function={f!r})\ndef test_{f}(student, reference):\n"
                      f"    \"\"\"{f} works\"\"\"\n\n\n" for f in ("one", "two")))
    (folder / "assignment.toml").write_text('notebook = "Pair.ipynb"\n')
    cells = [solution_cell("one", "def one(x):\n    return x\n"), solution_cell("two", "def two(x):\n    return x\n")]
    for kind, kept in (("solutions", cells), ("assignments", cells[:1])):  # released before `two` existed
        (tmp_path / kind / "pair").mkdir(parents=True)
        write_notebook(tmp_path / kind / "pair" / "Pair.ipynb", kept)
    assert contract._check_problems(load_assignment(CoursePaths(tmp_path), "pair")) == []


@pytest.mark.parametrize("table, problem", [
    (None, "add a markdown cell '## How this notebook is graded'"),
    ("| `one` | 1 | 1 | 2 | why |\n| `two` | 1 | 2 | 3 | why |", "the row of `two` must say 1 public and 1 hidden"),
    ("| `one` | 1 | 1 | 2 | why |", "hidden points (2 in all); it says nothing"),
    ("| `one` | 1 | 1 | 2 | why |\n| `two` | 2 | why |", None),
])
def test_the_notebook_says_what_each_function_is_worth(tmp_path, table, problem):
    from helpers import solution_cell, write_notebook
    import nbformat
    from vizgen.course import contract
    from vizgen.course.assignment import load_assignment
    from vizgen.course.config import CoursePaths

    folder = tmp_path / "autograder" / "pair"
    for kind in ("public", "hidden"):
        (folder / kind).mkdir(parents=True)
        (folder / kind / f"test_{kind}.py").write_text("from vizgen.author import check\n\n" + "".join(
            f"@check(points=1, function={f!r})\ndef test_{f}(student, reference):\n    \"\"\"{f} works\"\"\"\n\n\n"
            for f in ("one", "two")))
    (folder / "assignment.toml").write_text('notebook = "Pair.ipynb"\n')
    cells = [solution_cell("one", "def one(x):\n    return x\n"), solution_cell("two", "def two(x):\n    return x\n")]
    if table:
        cells.insert(0, nbformat.v4.new_markdown_cell(contract.GRADING_TABLE + "\n\n| function | public | hidden | "
                                                      "total | why |\n|---|---|---|---|---|\n" + table))
    (tmp_path / "solutions" / "pair").mkdir(parents=True)
    write_notebook(tmp_path / "solutions" / "pair" / "Pair.ipynb", cells)
    task = load_assignment(CoursePaths(tmp_path), "pair")
    found = contract._grading_table_problems(task, contract._points(task))
    assert (not found) if problem is None else any(problem in p for p in found), found
