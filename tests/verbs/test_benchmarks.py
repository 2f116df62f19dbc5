"""The benchmark scripts still run: a few iterations of the DCGAN recipe study on the CPU."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_dcgan_recipe_judges_g_and_its_average_at_each_checkpoint(monkeypatch):
    recipes = _load("dcgan_recipe")
    monkeypatch.setitem(recipes.RECIPES, "tiny", recipes.Recipe(4, batch_size=16, decay_from=0.5, instance_noise=0.1))
    points = recipes.run("tiny", 0, "cpu", every=2, samples=64)
    assert [(p["iteration"], p["judged"]) for p in points] == [
        (i, j) for i in (0, 2, 4) for j in ("G", "EMA")
    ]
    for p in points:
        assert 0.0 <= p["confident"] <= 1.0 and 0 <= p["digits"] <= 10 and p["frechet"] >= 0.0


def test_stored_recipe_results_summarize(capsys):
    recipes = _load("dcgan_recipe")
    stored = json.loads((BENCHMARKS / "dcgan_recipe_h100.json").read_text())
    assert {p["recipe"] for p in stored["points"]} <= set(recipes.RECIPES), "results of a recipe no longer defined"
    recipes.main(["--summarize", str(BENCHMARKS / "dcgan_recipe_h100.json")])
    assert "constant-6000 [EMA, 3 seeds]" in capsys.readouterr().out


def test_notebook_benchmark_names_its_slowest_cells(tmp_path):
    import nbformat

    notebook = tmp_path / "two-cells.ipynb"
    cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("import time\ntime.sleep(0.5)")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook)
    total, slowest = _load("run").time_notebook(notebook, slowest=1)
    assert [(c["cell"], c["first_line"]) for c in slowest] == [(1, "import time")]
    assert 0.5 <= slowest[0]["seconds"] <= total


def test_notebook_targets_read_the_lines_the_notebooks_print():
    import nbformat

    notebooks = _load("notebooks")
    lines = ["class visualization bell pepper: survives blur+downscale yes",
             "class visualization gorilla: survives blur+downscale no",
             *(f"class visualization c{k}: survives blur+downscale yes" for k in range(3))]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(...)")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines))]
    [survives] = notebooks.TARGETS["network_visualization"]
    assert survives.judge(notebooks._printed(nb)) == {"promise": survives.promise, "lines": lines, "met": True}
    assert not survives.judge("\n".join(lines[1:]))["met"]  # 3 of 4 classes: too few classes
    assert not survives.judge("\n".join([lines[0].replace("yes", "no"), *lines[1:]]))["met"]  # 3 of 5

    keeps, speed = notebooks.TARGETS["style_transfer"]
    assert keeps.judge("fast style keeps the class of 5/6 photos; optimisation-based: 5/6")["met"]
    assert not keeps.judge("fast style keeps the class of 2/6 photos; optimisation-based: 5/6")["met"]
    line = "per 128 x 128 image: optimisation 13.08 s, fast network 10.3 ms (training excluded): {}x faster"
    assert speed.judge(line.format(1270))["met"]
    assert not speed.judge(line.format(42))["met"]
    assert not speed.judge("nothing printed")["met"]

    [nll] = notebooks.TARGETS["pixelcnn"]
    line = "PixelCNN(channels=32, blocks=2), {} epochs: test NLL {} nats per image = 0.1803 bits per dimension"
    assert nll.judge(line.format(3, "96.10"))["met"] and not nll.judge(line.format(1, "100.52"))["met"]


def test_a_notebook_over_its_budget_or_missing_a_target_fails():
    notebooks = _load("notebooks")
    fine = {"ran": True, "seconds": 100.0, "budget_s": 600, "targets": [{"met": True}]}
    assert notebooks.passed(fine)
    assert not notebooks.passed({**fine, "seconds": 601.0})
    assert not notebooks.passed({**fine, "targets": [{"met": True}, {"met": False}]})
    assert not notebooks.passed({**fine, "ran": False})
