"""Read a student's functions out of a notebook without running the notebook.

Every code cell but the test cells contributes, and from it only imports, function and class
definitions and literal constants; driver and training code never runs. Imports are kept when
the definitions use the names they bind.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from vizgen.errors import NotebookError

STUDENT_PREFIX = "<cell "  # filenames of student code: "<cell GRADE_ID>"
REFERENCE_PREFIX = "<reference "  # the solution's definitions a function is given ([given]): "<reference NAME>"


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
    # The assignment the notebook's metadata names (``vizgen.assignment``, written by the release): student-editable,
    # so only ever used to explain a hand-in of the wrong notebook, never to choose what grades it.
    names_assignment: str = ""

    def statements(self) -> list[tuple[str, ast.stmt]]:
        """(cell filename, statement) of every top-level statement grading runs, in notebook order (parsed once)."""
        if not hasattr(self, "_statements"):
            self._statements = [(filename, node) for filename, code in self.cells
                                for node in ast.parse(code, filename).body]
        return self._statements

    def cells_for(self, function: str) -> list[tuple[str, str]]:
        """The cells ``function`` needs, cut down to the definitions and imports it reaches (line numbers
        kept): its process runs only these, so code that runs when another definition is made (a class
        body, a default argument, a decorator) costs only the functions that need that definition."""
        spans: dict[str, set[int]] = {}
        for filename, node in needed_nodes(self, function):
            spans.setdefault(filename, set()).update(lines_of(node))
        return [(filename, "\n".join(line if i in spans[filename] else "" for i, line in enumerate(code.splitlines())))
                for filename, code in self.cells if filename in spans]


def lines_of(node: ast.stmt) -> range:
    """The 0-based line numbers a top-level statement spans, its decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return range(first - 1, node.end_lineno)


def bound_names(node: ast.stmt) -> list[str]:
    """The names a top-level statement binds (an import's, a definition's, an assignment's targets)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def needed_nodes(sub: Submission, function: str) -> list[tuple[str, ast.stmt]]:
    """(cell filename, statement) of every top-level statement ``function`` reaches by name, transitively
    (helpers, classes, constants, imports), in notebook order. A definition bound twice resolves to its
    last binding, as in the kernel; every import of a needed name is kept, so that a cell that uses the
    name before a later cell imports it again still finds it. Star imports are always kept."""
    nodes = sub.statements()
    last: dict[str, tuple[str, ast.stmt]] = {}
    imports: dict[str, list[ast.stmt]] = {}
    for filename, node in nodes:
        for name in bound_names(node):
            last[name] = (filename, node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.setdefault(name, []).append(node)
    seen: set[int] = {id(n) for _, n in nodes if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)}
    pending = [function]
    while pending:
        name = pending.pop()
        for node in [last[name][1]] + imports.get(name, []) if name in last else []:
            if id(node) not in seen:
                seen.add(id(node))
                pending += [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    return [(filename, node) for filename, node in nodes if id(node) in seen]


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


MAX_NOTEBOOK_BYTES = 50 * 2**20  # a notebook with outputs stays well below; a bigger file is refused unread
MAX_CELL_CHARS = 2 * 2**20  # a cell's source; a longer one is skipped (and said) rather than parsed


def _cell(raw) -> Cell:
    """One cell of the JSON; anything not shaped like a notebook cell raises TypeError."""
    if not isinstance(raw, dict) or not isinstance(raw.get("cell_type"), str):
        raise TypeError("a cell that is not an object with a cell_type")
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, dict):
        raise TypeError(f"a cell whose metadata is a {type(metadata).__name__}")
    source = raw.get("source", "")
    if not isinstance(source, (str, list)) or (isinstance(source, list)
                                               and not all(isinstance(s, str) for s in source)):
        raise TypeError("a cell whose source is not text")
    nbgrader = metadata.get("nbgrader", {})
    if not isinstance(nbgrader, dict):
        metadata = {k: v for k, v in metadata.items() if k != "nbgrader"}  # not nbgrader's: not a graded cell
    return Cell(raw["cell_type"], _text(source), dict(metadata))


def read_notebook(path: Path) -> Notebook:
    """Parse a notebook's JSON (nbformat 4); raises NotebookError with the next step for missing,
    invalid or non-notebook files, whatever they hold (deeply nested, huge, cells of the wrong shape).
    Plain ``json``: nbformat's schema validation costs ~1 s of imports."""
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path} does not exist: give the path of your .ipynb file.")
    if path.suffix != ".ipynb":
        raise NotebookError(f"{path} is not a notebook (.ipynb): submit the notebook file itself.")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path} is {path.stat().st_size / 2**20:.0f} MB, more than grading reads "
                            f"({MAX_NOTEBOOK_BYTES // 2**20} MB): clear the outputs (Edit > Clear all outputs) "
                            "and save.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError, MemoryError) as error:
        raise NotebookError(
            f"{path} is not valid notebook JSON "
            f"({type(error).__name__}: {str(error).splitlines()[0][:120] if str(error) else ''}): "
            "open it in Jupyter and save it again, or restore it from your last good copy."
        ) from None
    try:
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            raise TypeError("no list of cells")
        metadata = data.get("metadata", {})
        return Notebook([_cell(c) for c in data["cells"]], dict(metadata) if isinstance(metadata, dict) else {})
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as error:
        raise NotebookError(
            f"{path} is JSON but not a notebook ({str(error)[:120]}): save it again from Jupyter."
        ) from None


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


def _cell_id(grade_id, index: int) -> str:
    """A cell's name in messages and file names: its nbgrader grade_id (student-editable metadata, so
    reduced to a short word), else its position."""
    if isinstance(grade_id, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", grade_id):
        return grade_id
    return f"cell {index + 1}"


def extract_submission(path: Path) -> Submission:
    """Build the module source of a submission; problems (syntax errors, ...) are recorded, not raised.

    Every code cell that is not a test cell contributes, in notebook order (later definitions win,
    as in the kernel): helpers a student defines in a cell of their own are there when the graded
    function calls them. Imports are kept where a definition uses the names they bind.
    """
    nb = read_notebook(path)
    named = nb.metadata.get("vizgen", {})
    named = named.get("assignment", "") if isinstance(named, dict) else ""
    sub = Submission(Path(path), names_assignment=named if isinstance(named, str) and len(named) <= 64 else "")
    parsed: list[tuple[str, str, list[ast.stmt]]] = []  # (filename, source, kept nodes)
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = _nbgrader(cell)
        cell_id = _cell_id(meta.get("grade_id"), index)
        if meta.get("grade") and not meta.get("solution"):
            sub.test_cells[cell_id] = cell.source
            continue
        filename = f"{STUDENT_PREFIX}{cell_id}>"
        filename = filename if filename not in seen else f"{STUDENT_PREFIX}{cell_id} ({index + 1})>"
        seen.add(filename)
        if len(cell.source) > MAX_CELL_CHARS:
            sub.problems.append(f"cell '{cell_id}' holds {len(cell.source):,} characters, more than grading reads: "
                                "move data out of the code")
            continue
        source = _strip_magics(cell.source)
        try:
            tree = ast.parse(source, filename=filename)
        except SyntaxError as error:
            sub.problems.append(f"cell '{cell_id}' has a syntax error on line {error.lineno}: {error.msg}")
            continue
        except (ValueError, RecursionError, MemoryError) as error:  # null bytes, nesting deeper than Python parses
            sub.problems.append(f"cell '{cell_id}' cannot be parsed ({type(error).__name__}): simplify it")
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
        wanted = {i for n in keep for i in lines_of(n)}
        for i in range(len(lines)):
            if i not in wanted:
                lines[i] = ""  # dropped: driver code never runs, line numbers stay true
        sub.cells.append((filename, "\n".join(lines)))
    return sub
