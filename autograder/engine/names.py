"""Which names a test cell takes from the student's kernel, and which cells run where.

The clean test kernel runs the instructor's setup cells and the test cells; the student's kernel
runs everything else. A test cell's *free names* (read but never bound in the cell: not assigned,
imported, defined or a parameter) are fetched from the student's kernel, unless the setup cells
already defined them there.
"""

from __future__ import annotations

import ast

from nbformat import NotebookNode

__all__ = ["free_names", "run_first", "is_test_cell", "is_setup_cell"]


def free_names(source: str) -> list[str]:
    """Names ``source`` reads without binding them anywhere in it, sorted ([] when it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    loaded: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return sorted(loaded - bound)


# Statements after which another may follow on the same line (``a; b``), never ``from __future__``
_SIMPLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Assert, ast.Pass, ast.Delete, ast.Raise,
           ast.Import, ast.ImportFrom, ast.Global)


def run_first(call: str, source: str) -> str:
    """``source`` with the one-line ``call`` run before it, on its first line when Python allows.

    ``call; <line 1>`` keeps the cell's line numbers (a traceback names the line the instructor
    wrote) when line 1 is blank, a comment or one simple statement; a cell that starts with a
    compound statement, a decorator, a statement over several lines, an IPython-only line or a
    ``__future__`` import gets ``call`` on a line of its own instead.
    """
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return f"{call}\n{source}"
    line = source.split("\n", 1)[0].strip()
    first = body[0] if body else None
    if isinstance(first, ast.ImportFrom) and first.module == "__future__":
        return f"{call}\n{source}"
    simple = (isinstance(first, _SIMPLE) and first.lineno == first.end_lineno == 1 and first.col_offset == 0)
    return f"{call}; {source}" if simple or not line or line.startswith("#") else f"{call}\n{source}"


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograded test cell: graded code that is not a student's answer."""
    meta = _nbgrader(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_setup_cell(cell: NotebookNode) -> bool:
    """An instructor's read-only code cell (imports, given data), as nbgrader restored it.

    After nbgrader's OverwriteCells step a cell keeps its ``grade_id`` only when the gradebook
    knows it, and a locked cell's source is the gradebook's: student code cannot pose as one.
    """
    meta = _nbgrader(cell)
    return (cell.cell_type == "code" and bool(meta.get("locked")) and bool(meta.get("grade_id"))
            and not meta.get("grade") and not meta.get("solution"))
