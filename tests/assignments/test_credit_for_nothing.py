"""A submission that does nothing earns nothing but the shape and side-effect points.

For each graded function of each assignment, "does nothing" keeps the starter signature and
returns its first argument unchanged (or None when it takes none). Property checks must be
conditional on the property they qualify: a fooling image equal to the photo is "as close as the
reference attack" only once it fools the model. The checks that may pass are listed by hand below,
each one a shape, type or side-effect check; any other check that passes is a defect.
"""

from collections import defaultdict

import pytest

from helpers import replace_solution
from vizgen.course.config import GradingConfig
from vizgen.course.assignment import available, load_assignment

# "function: check title" of checks that a do-nothing function may pass.
MAY_PASS = {
    "network_visualization": {
        "compute_saliency_maps: leaves the model and the input as they were",
        "guided_backprop: returns a float32 (N, 3, H, W) gradient image",
        "guided_backprop: leaves no hooks on the model and does not change its input",
    },
}


def _does_nothing(function: str, params: list[str]) -> str:
    if not params:
        return f"def {function}():\n    return None\n"
    rest = "".join(f", {p}=None" for p in params[1:])
    return f"def {function}({params[0]}{rest}):\n    return {params[0]}\n"


def _assignments():
    from conftest import ROOT
    from vizgen.course.config import CoursePaths

    return available(CoursePaths(ROOT))


@pytest.mark.parametrize("name", _assignments())
def test_doing_nothing_earns_only_shape_and_side_effect_points(paths, tmp_path, name, grade):
    task = load_assignment(paths, name)
    earned = defaultdict(list)
    for function, params in task.starter_signatures().items():
        if function[:1].isupper():  # a graded class: "nothing" is not a class
            continue
        notebook = replace_solution(task.solution_notebook, tmp_path / f"submitted-{function}-does-nothing.ipynb",
                                    function, _does_nothing(function, params))
        report = grade(notebook, task, hidden=True, config=GradingConfig(call_timeout_s=10.0), functions=[function])
        earned[function] = [c.name for c in report.checks if c.function == function and c.passed]
    unexpected = {f: [c for c in checks if c not in MAY_PASS.get(name, ())] for f, checks in earned.items()}
    assert not any(unexpected.values()), unexpected
