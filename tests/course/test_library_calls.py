"""The library names a graded function's code uses, read without running it (``[forbidden]``)."""

import pytest

from helpers import solution_cell, write_notebook
from vizgen.course.library_calls import library_uses, live_uses
from vizgen.course.notebook import extract_submission

FORBIDDEN = ("instance_norm", "InstanceNorm2d", "layer_norm")
HEAD = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n"

USES = {
    "attribute": ("def instance_norm(x, eps=1e-5):\n    return F.instance_norm(x, eps=eps)\n", ["instance_norm"]),
    "imported-as": ("from torch.nn.functional import instance_norm as norm\n\n"
                    "def instance_norm(x, eps=1e-5):\n    return norm(x, eps=eps)\n", ["instance_norm"]),
    "module": ("def instance_norm(x, eps=1e-5):\n    return nn.InstanceNorm2d(x.shape[1], eps=eps)(x)\n",
               ["InstanceNorm2d"]),
    "aten": ("def instance_norm(x, eps=1e-5):\n"
             "    return torch.ops.aten.instance_norm(x, None, None, None, None, True, 0.1, eps, False)\n",
             ["instance_norm"]),
    "getattr-string": ("def instance_norm(x, eps=1e-5):\n    return getattr(F, 'instance_norm')(x, eps=eps)\n",
                       ["instance_norm"]),
    "in-a-helper": ("def _normalise(x, eps):\n    return F.layer_norm(x, x.shape[1:], eps=eps)\n\n"
                    "def instance_norm(x, eps=1e-5):\n    return _normalise(x, eps)\n", ["layer_norm"]),
    "own-helper-of-that-name": ("def layer_norm(x, eps):\n    mu = x.mean((2, 3), keepdim=True)\n"
                                "    return (x - mu) / (x.var((2, 3), keepdim=True, unbiased=False) + eps).sqrt()\n\n"
                                "def instance_norm(x, eps=1e-5):\n    return layer_norm(x, eps)\n", []),
    "by-hand": ("def instance_norm(x, eps=1e-5):\n    mu = x.mean((2, 3), keepdim=True)\n"
                "    var = ((x - mu) ** 2).mean((2, 3), keepdim=True)\n    return (x - mu) / (var + eps).sqrt()\n", []),
}


@pytest.mark.parametrize("case", USES)
def test_the_grader_reads_each_use_from_the_notebook(case, tmp_path):
    source, expected = USES[case]
    notebook = write_notebook(tmp_path / "n.ipynb", [solution_cell("norm", HEAD + source)])
    assert library_uses(extract_submission(notebook), "instance_norm", FORBIDDEN) == expected


@pytest.mark.parametrize("case", USES)
def test_the_self_check_reads_the_same_from_a_live_notebook(case):
    source, expected = USES[case]
    namespace = {"__name__": "__main__"}
    exec(compile(HEAD + source, "<cell norm>", "exec"), namespace)
    assert live_uses(namespace, "instance_norm", FORBIDDEN) == expected


def test_nothing_forbidden_reads_nothing(tmp_path):
    notebook = write_notebook(tmp_path / "n.ipynb", [solution_cell("norm", HEAD + USES["attribute"][0])])
    assert library_uses(extract_submission(notebook), "instance_norm", ()) == []
