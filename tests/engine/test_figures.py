"""A failed check on an image shows it: in the check cell, in `vizgen check`, in results.json, in the store."""

import base64
import json
import struct

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from helpers import replace_solution
from vizgen.author.matching import image_figure
from vizgen.author.messages import Figure
from vizgen.cli import main
from vizgen.engine.figures import render_png
from vizgen.engine.results import FIGURE_BUDGET, CheckResult, GradeReport
from vizgen.grade.store import from_record, to_record

NO_ABS = ("def compute_saliency_maps(X, y, model):\n"
          "    X = X.clone().requires_grad_()\n"
          "    model(X).gather(1, y.view(-1, 1)).sum().backward()\n"
          "    return X.grad.amax(dim=1)  # forgot the absolute value\n")


def _png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", data[16:20])[0]


@pytest.fixture(scope="module")
def no_abs(assignment, tmp_path_factory):
    return replace_solution(assignment.solution_notebook, tmp_path_factory.mktemp("fig") / "no_abs.ipynb",
                            "compute_saliency_maps", NO_ABS)


def test_image_figure_shows_the_item_that_differs_most():
    want = torch.zeros(3, 16, 16)
    got = want.clone()
    got[2, 4, 4] = 1.0
    figure = image_figure(got, want)
    assert [title for title, _ in figure.panels] == ["yours (item 2)", "expected", "|difference|"]
    assert figure.panels[2][1].max() == 1.0 and figure.expected == ("expected",)
    assert image_figure(torch.zeros(3, 4, 4), torch.ones(3, 4, 4)) is None  # a table of numbers, not a picture
    assert image_figure(torch.zeros(2, 16, 16), torch.zeros(3, 16, 16)) is None
    rgb = image_figure(torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32))
    assert rgb.panels[0][1].shape == (32, 32, 3)


def test_a_hidden_checks_figure_leaves_out_the_expected_output():
    figure = Figure((("yours", np.random.rand(224, 224)), ("expected", np.zeros((224, 224))),
                     ("|difference|", np.ones((224, 224)))), expected=("expected",))
    public, hidden = render_png(figure, hidden=False), render_png(figure, hidden=True)
    assert _png_width(hidden) < _png_width(public) and len(public) < 40_000  # thumbnails only


def test_a_wrong_saliency_map_fails_with_its_figure_everywhere(assignment, grade, no_abs, tmp_path):
    report = grade(no_abs, assignment, hidden=True)
    drawn = [c for c in report.checks if c.figure]
    assert drawn and all(not c.passed and c.function == "compute_saliency_maps" for c in drawn)
    assert {c.hidden for c in drawn} == {False, True}
    for check in drawn:
        assert _png_width(base64.b64decode(check.figure)) > 0

    result = report.to_gradescope()
    shown = [t for t in result["tests"] if t.get("output_format") == "html"]
    assert len(shown) == len(drawn) and all('src="data:image/png;base64,' in t["output"] for t in shown)
    assert all(t["output"].startswith("<pre>saliency") for t in shown)  # the message, escaped, above the image
    assert len(json.dumps(result)) < 1_000_000
    kept = from_record(to_record(report, "ada", "abc", True)).checks  # the store keeps message and figure
    assert [(c.name, c.message, c.figure) for c in kept] == [(c.name, c.message, c.figure) for c in report.checks]


def test_figures_never_make_results_json_larger_than_a_megabyte():
    big = base64.b64encode(bytes(60_000)).decode()
    report = GradeReport("x.ipynb", "x", [CheckResult(f"f: {i}", "f", 1, 0, "wrong", False, figure=big)
                                          for i in range(40)])
    result = report.to_gradescope()
    assert len(json.dumps(result)) < 1_000_000
    assert sum(t.get("output_format") == "html" for t in result["tests"]) == FIGURE_BUDGET // len(big)


def test_vizgen_check_saves_the_figure_and_says_where(paths, assignment, no_abs, capsys, monkeypatch):
    monkeypatch.setenv("VIZGEN_COURSE_ROOT", str(paths.root))
    assert main(["check", str(no_abs)]) == 1
    out = capsys.readouterr().out
    saved = [line.split("figure: ", 1)[1] for line in out.splitlines() if "figure: " in line]
    assert saved and all(path.endswith(".png") for path in saved)
    assert all(open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for path in saved)


@pytest.mark.slow
def test_the_check_cell_shows_the_figure_in_a_real_kernel(assignment, tmp_path):
    cells = [nbformat.v4.new_code_cell("import torch"), nbformat.v4.new_code_cell(NO_ABS),
             nbformat.v4.new_code_cell('from vizgen.check import run_cell\n'
                                       'run_cell("network_visualization", "compute_saliency_maps", globals())')]
    nb = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(assignment.solution_notebook.parent)}}).execute()
    outputs = nb.cells[2].outputs
    assert any(o.output_type == "stream" and "likely bug" in o.text for o in outputs)
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert images and _png_width(base64.b64decode(images[0].data["image/png"])) > 0
