"""Reading functions out of notebooks: only definitions run, line numbers stay true."""

import pytest

from helpers import solution_cell, write_notebook
from vizgen.errors import NotebookError
from vizgen.course.notebook import extract_submission


def test_keeps_definitions_and_used_imports_only(tmp_path):
    nb = write_notebook(tmp_path / "a.ipynb", [
        "import numpy as np\nimport os\n%matplotlib inline",
        solution_cell("f", "CONST = 3\nx = np.zeros(3)\nprint('driver')\n\n"
                           "def f(a, b=2):\n    return np.ones(a) * CONST"),
        "while True:\n    pass",
    ])
    sub = extract_submission(nb)
    assert list(sub.functions) == ["f"]
    assert sub.functions["f"].params == ["a", "b"] and sub.functions["f"].cell == "f"
    names = [name for name, _ in sub.cells]
    assert names == ["<cell cell 1>", "<cell f>"]
    imports, code = sub.cells[0][1], sub.cells[1][1]
    assert "numpy" in imports and "os" not in imports  # os is never used by a definition
    lines = code.splitlines()
    assert lines[0] == "CONST = 3" and lines[1] == "" and lines[2] == ""  # driver lines blanked, not shifted
    assert lines[4].startswith("def f")
    assert "while True" not in "".join(c for _, c in sub.cells)


def test_classes_are_graded_like_their_constructor(tmp_path):
    nb = write_notebook(tmp_path / "c.ipynb", [
        solution_cell("Net", "class Net:\n    def __init__(self, width=4, *, depth=2):\n        self.w = width\n\n"
                             "class Plain:\n    pass"),
    ])
    sub = extract_submission(nb)
    assert sub.functions["Net"].params == ["width", "depth"] and sub.functions["Net"].cell == "Net"
    assert sub.functions["Plain"].params == []


def test_syntax_error_is_a_problem_not_a_crash(tmp_path):
    nb = write_notebook(tmp_path / "b.ipynb", [solution_cell("g", "def g(:\n    pass")])
    sub = extract_submission(nb)
    assert sub.functions == {}
    assert "cell 'g' has a syntax error on line 1" in sub.problems[0]


@pytest.mark.parametrize("content, words", [
    ("{not json", "not valid notebook JSON"),
    ("", "not valid notebook JSON"),
])
def test_invalid_notebooks_raise_with_next_step(tmp_path, content, words):
    path = tmp_path / "broken.ipynb"
    path.write_text(content)
    with pytest.raises(NotebookError, match=words):
        extract_submission(path)


def test_missing_and_wrong_suffix(tmp_path):
    with pytest.raises(NotebookError, match="does not exist"):
        extract_submission(tmp_path / "none.ipynb")
    (tmp_path / "x.py").write_text("pass")
    with pytest.raises(NotebookError, match="not a notebook"):
        extract_submission(tmp_path / "x.py")


def test_helpers_in_cells_the_student_added_are_kept_later_definitions_win(tmp_path):
    """The kernel sees every cell: a helper in an added cell must be there at grading too."""
    nb = write_notebook(tmp_path / "c.ipynb", [
        solution_cell("loss", "def loss(x):\n    return helper(x)"),
        "def helper(x):\n    return x + 1\nprint(helper(1))",
        "def helper(x):\n    return x + 2",
    ])
    sub = extract_submission(nb)
    namespace = {}
    for filename, code in sub.cells:
        exec(compile(code, filename, "exec"), namespace)
    assert namespace["loss"](1) == 3  # the later helper, as in the kernel
    assert "print" not in "".join(code for _, code in sub.cells)


def test_each_function_gets_the_definitions_it_reaches_with_their_decorators(tmp_path):
    from vizgen.course.notebook import extract_submission

    source = ("import functools\nimport torch\n\nLIMIT = 3\n\n@functools.lru_cache(maxsize=None)\ndef helper(n):\n"
              "    return min(n, LIMIT)\n\ndef graded(x):\n    return helper(x)\n\n"
              "def other(x):\n    return torch.zeros(x)\n")
    submission = extract_submission(write_notebook(tmp_path / "n.ipynb", [solution_cell("cell", source)]))
    (filename, code), = submission.cells_for("graded")
    assert "@functools.lru_cache" in code and "LIMIT = 3" in code and "def helper" in code
    assert "def other" not in code and "import torch" not in code
    assert code.count("\n") == source.rstrip().count("\n")  # line numbers stay true
