"""Read a student's functions out of a notebook without running the notebook.

Every code cell but the test cells contributes, and from it only imports, function and class
definitions and literal constants; driver and training code never runs. Imports are kept when
the definitions use the names they bind.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from vizgen.errors import NotebookError

STUDENT_PREFIX = "<cell "  # filenames of student code: "<cell GRADE_ID>"


@dataclass
class FunctionInfo:
    name: str
    cell: str  # the nbgrader grade_id of the cell that defines it
    params: list[str]
    graded: bool = True  # defined in an nbgrader solution cell (a helper in another cell is not graded)


@dataclass
class Submission:
    path: Path
    cells: list[tuple[str, str]] = field(default_factory=list)  # (filename, code) run in order
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # e.g. a syntax error in a cell
    test_cells: dict[str, str] = field(default_factory=dict)  # grade_id -> source


@dataclass
class Cell:
    cell_type: str
    source: str
    metadata: dict


@dataclass
class Notebook:
    cells: list[Cell]
    metadata: dict


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def read_notebook(path: Path) -> Notebook:
    """Parse a notebook's JSON (nbformat 4); raises NotebookError with the next step for missing,
    invalid or non-notebook files. Plain ``json``: nbformat's schema validation costs ~1 s of imports."""
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path} does not exist: give the path of your .ipynb file.")
    if path.suffix != ".ipynb":
        raise NotebookError(f"{path} is not a notebook (.ipynb): submit the notebook file itself.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cells = [Cell(c["cell_type"], _text(c.get("source", "")), dict(c.get("metadata", {}))) for c in data["cells"]]
        return Notebook(cells, dict(data.get("metadata", {})))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise NotebookError(
            f"{path} is not valid notebook JSON ({str(error).splitlines()[0][:120]}): "
            "open it in Jupyter and save it again, or restore it from your last good copy."
        ) from error
    except (KeyError, TypeError, AttributeError) as error:
        raise NotebookError(
            f"{path} is JSON but not a notebook (missing or malformed {error}): save it again from Jupyter."
        ) from error


def _nbgrader(cell: Cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _kept(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        try:
            ast.literal_eval(node.value)
            return True
        except ValueError:
            return False
    return False


def _strip_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _init_params(node: ast.ClassDef) -> list[str]:
    """The parameters of a class's ``__init__`` after ``self`` (none when it defines no ``__init__``)."""
    init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None:
        return []
    return [a.arg for a in init.args.posonlyargs + init.args.args + init.args.kwonlyargs][1:]


def _bound_names(node: ast.stmt) -> set[str]:
    return {(a.asname or a.name).split(".")[0] for a in node.names}


def extract_submission(path: Path) -> Submission:
    """Build the module source of a submission; problems (syntax errors, ...) are recorded, not raised.

    Every code cell that is not a test cell contributes, in notebook order (later definitions win,
    as in the kernel): helpers a student defines in a cell of their own are there when the graded
    function calls them. Imports are kept where a definition uses the names they bind.
    """
    nb = read_notebook(path)
    sub = Submission(Path(path))
    parsed: list[tuple[str, str, list[ast.stmt]]] = []  # (filename, source, kept nodes)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = _nbgrader(cell)
        cell_id = meta.get("grade_id", f"cell {index + 1}")
        if meta.get("grade") and not meta.get("solution"):
            sub.test_cells[cell_id] = cell.source
            continue
        filename = f"{STUDENT_PREFIX}{cell_id}>"
        source = _strip_magics(cell.source)
        try:
            tree = ast.parse(source, filename=filename)
        except SyntaxError as error:
            sub.problems.append(f"cell '{cell_id}' has a syntax error on line {error.lineno}: {error.msg}")
            continue
        kept = [node for node in tree.body if _kept(node)]
        for node in kept:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
                sub.functions[node.name] = FunctionInfo(node.name, cell_id, params, bool(meta.get("solution")))
            elif isinstance(node, ast.ClassDef):  # a graded class (an nn.Module): called like its __init__
                sub.functions[node.name] = FunctionInfo(node.name, cell_id, _init_params(node),
                                                        bool(meta.get("solution")))
        parsed.append((filename, source, kept))
    definitions = [n for _, _, kept in parsed for n in kept if not isinstance(n, (ast.Import, ast.ImportFrom))]
    used = {n.id for d in definitions for n in ast.walk(d) if isinstance(n, ast.Name)}
    for filename, source, kept in parsed:
        keep = [n for n in kept if not isinstance(n, (ast.Import, ast.ImportFrom)) or _bound_names(n) & used]
        if not keep:
            continue
        lines = source.splitlines()
        wanted = {i for n in keep for i in range(n.lineno - 1, n.end_lineno)}
        for i in range(len(lines)):
            if i not in wanted:
                lines[i] = ""  # dropped: driver code never runs, line numbers stay true
        sub.cells.append((filename, "\n".join(lines)))
    return sub
