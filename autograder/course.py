"""Where the course lives and what its notebooks contain (cells by grade_id)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat takes a second to import: `grade` loads it in its workers first
    from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "course"
SOURCE = COURSE / "source"

__all__ = ["ROOT", "COURSE", "SOURCE", "assignments", "source_notebooks", "Cell", "cells", "read"]


def assignments(course: Path = COURSE) -> list[str]:
    """Every assignment folder under ``<course>/source``, sorted."""
    source = course / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith("."))


def source_notebooks(assignment: str, source: Path = SOURCE) -> list[Path]:
    """The notebooks of one assignment, sorted by name."""
    folder = source / assignment
    if not folder.is_dir():
        raise SystemExit(f"no assignment {assignment!r} in {source}")
    return sorted(folder.glob("*.ipynb"))


def read(path: Path) -> NotebookNode:
    import nbformat

    return nbformat.read(path, as_version=4)


@dataclass(frozen=True)
class Cell:
    """One nbgrader cell of a notebook, in notebook order."""

    grade_id: str
    index: int
    cell_type: str
    source: str
    grade: bool
    solution: bool
    locked: bool
    points: float

    @property
    def is_test(self) -> bool:
        return self.grade and not self.solution and self.cell_type == "code"

    @property
    def is_answer(self) -> bool:
        return self.solution


def cells(nb: NotebookNode) -> list[Cell]:
    """The cells of ``nb`` that carry an nbgrader grade_id."""
    found = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if "grade_id" not in meta:
            continue
        found.append(Cell(
            grade_id=meta["grade_id"], index=index, cell_type=cell.cell_type, source=cell.source,
            grade=bool(meta.get("grade")), solution=bool(meta.get("solution")),
            locked=bool(meta.get("locked")), points=float(meta.get("points", 0) or 0),
        ))
    return found
