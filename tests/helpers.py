"""Building test notebooks: nbgrader-style solution cells from plain source strings."""

from __future__ import annotations

from pathlib import Path

import nbformat


def solution_cell(grade_id: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True, "task": False,
    }
    return cell


def write_notebook(path: Path, cells: list, metadata: dict | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [c if isinstance(c, nbformat.NotebookNode) else nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata.update(metadata or {})
    nbformat.write(nb, path)
    return path


def replace_solution(nb_path: Path, out: Path, grade_id: str, source: str | None) -> Path:
    """Copy a notebook with one solution cell's source replaced (or the cell removed when source is None)."""
    nb = nbformat.read(nb_path, as_version=4)
    kept = []
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            if source is None:
                continue
            cell.source = source
        kept.append(cell)
    nb.cells = kept
    nbformat.write(nb, out)
    return out


def scenario_maker(solution: Path, folder: Path, scenarios: dict):
    """``make(name)`` writes `submitted-<name>.ipynb`: ``solution`` with the cell of ``scenarios[name]``'s
    function replaced by its source; returns (path, function)."""

    def make(scenario: str) -> tuple[Path, str]:
        function, source = scenarios[scenario]
        return replace_solution(solution, folder / f"submitted-{scenario}.ipynb", function, source), function

    return make
