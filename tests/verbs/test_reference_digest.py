"""A reference goes stale exactly when the solution code its function reaches changes."""

from helpers import solution_cell, write_notebook
from vizgen.course.notebook import extract_submission
from vizgen.references import function_digest

_BASE = {
    "f": 'import math\n\ndef f(x):\n    """Doubles x."""\n    return helper(x) * SCALE\n',
    "helper": "SCALE = 2\n\ndef helper(x):\n    return math.floor(x)\n",
    "g": "def g(x):\n    return x\n",
}


def _digest(tmp_path, function: str, **changes: str) -> str:
    cells = [solution_cell(name, changes.get(name, source)) for name, source in _BASE.items()]
    return function_digest(extract_submission(write_notebook(tmp_path / "n.ipynb", cells)), function)


def test_digest_follows_the_code_a_function_reaches(tmp_path):
    base = _digest(tmp_path, "f")
    reworded = _BASE["f"].replace("Doubles x.", "Returns twice x, floored.")
    assert _digest(tmp_path, "f", f=reworded) == base  # a docstring is not behaviour
    assert _digest(tmp_path, "f", g="def g(x):\n    return -x\n") == base  # nor is another function
    assert _digest(tmp_path, "f", helper=_BASE["helper"].replace("floor", "ceil")) != base
    assert _digest(tmp_path, "f", helper=_BASE["helper"].replace("SCALE = 2", "SCALE = 3")) != base
    assert _digest(tmp_path, "f", f=_BASE["f"].replace("import math", "import cmath as math")) != base
