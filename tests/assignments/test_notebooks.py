"""The solution notebook runs top to bottom, and each of its test cells reports full marks."""

import nbformat
import pytest
from nbclient import NotebookClient


@pytest.mark.slow
def test_solution_notebook_runs_end_to_end(assignment):
    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(assignment.solution_notebook.parent)}}).execute()
    errors = [c for c in nb.cells if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]
    assert not errors
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert float(results[-1].data["text/plain"]) == meta["points"], meta["grade_id"]
            assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
    figures = sum(o.output_type == "display_data" and "image/png" in o.data for c in nb.cells
                  if c.cell_type == "code" for o in c.outputs)
    assert figures >= 6, "the notebook should teach with figures"
