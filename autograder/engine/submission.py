"""A submission's private copy before and after nbgrader runs on it (in a grading worker).

Before: every expected notebook is there, not empty, not too large and parses
(:func:`check_notebooks`), and is cleaned of students' HTML, attachments and metadata
(:func:`clean_notebooks`, :mod:`autograder.engine.sanitize`); a submission time nbgrader cannot
read is dropped (:func:`clean_timestamp`). After: the cells the grader had to
stop, for the instructor's table (:func:`stopped_cells`).
"""

from __future__ import annotations

from pathlib import Path

from autograder.course import read
from autograder.engine.sanitize import clean_file

__all__ = ["MAX_NOTEBOOK_BYTES", "check_notebooks", "clean_notebooks", "clean_timestamp", "stopped_cells"]

MAX_NOTEBOOK_BYTES = 32 << 20  # larger submitted notebooks are not parsed (memory)
FAILURE_NAMES = {
    "KernelKilled": "killed",
    "KernelDied": "died",
    "CellTimeoutError": "timed out",
    "NotRun": "not run",
}


def check_notebooks(folder: Path, expected: dict[str, str]) -> tuple[list[str], list[str]]:
    """Problems that stop notebooks from being graded, and notes on those that will be.

    Unreadable notebooks are removed from ``folder`` (nbgrader then scores them zero as missing).

    Args:
        folder: the submission's private copy.
        expected: notebook name -> the course's kernel name.
    """
    problems, notes = [], []
    for name, kernel in expected.items():
        path = folder / f"{name}.ipynb"
        if not path.exists():
            problems.append(f"missing notebook {name}.ipynb")
            continue
        if path.stat().st_size == 0:
            problems.append(f"{name}.ipynb is an empty file")
            path.unlink()
            continue
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            problems.append(f"{name}.ipynb has {path.stat().st_size >> 20} MiB, more than the "
                            f"{MAX_NOTEBOOK_BYTES >> 20} MiB a notebook may have")
            path.unlink()
            continue
        try:
            nb = read(path)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("no list of cells")
        except Exception as error:  # any parse failure: JSON, schema, encoding
            problems.append(
                f"{name}.ipynb is not a readable notebook ({type(error).__name__}: "
                f"{str(error).splitlines()[0][:80] if str(error) else ''})"
            )
            path.unlink()
            continue
        found = nb.metadata.get("kernelspec", {}).get("name")
        if found != kernel:
            notes.append(f"{name}.ipynb asks for kernel {repr(found)[:80]}; graded with the course's "
                         f"{kernel!r}")
    return problems, notes


def clean_notebooks(folder: Path) -> list[str]:
    """Clean every notebook of the private copy ``folder`` before grading (:mod:`autograder.engine.sanitize`).

    Runs after :func:`check_notebooks`: what is left parses. A notebook that still cannot be cleaned
    is removed (nbgrader scores it zero as missing). Returns notes for the instructor.
    """
    notes = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            note = clean_file(path)
        except Exception as error:  # any parse or write failure of a hostile file
            path.unlink()
            note = f"{path.name} could not be cleaned and was not graded ({type(error).__name__})"
        if note:
            notes.append(note)
    return notes


def clean_timestamp(folder: Path) -> list[str]:
    """Notes on ``timestamp.txt`` (what ``nbgrader submit`` writes): one nbgrader cannot read is
    removed, so the submission is graded without a submission time instead of failing whole
    (nbgrader's own error there is ``'CourseDirectory' object has no attribute 'fail'``)."""
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    if not path.is_file():
        return []
    try:
        text = path.read_bytes()[:200].decode().strip()
        if text:
            parse_utc(text)
        return []
    except (ValueError, UnicodeDecodeError, OverflowError) as error:
        path.unlink()
        return [f"timestamp.txt is not a time nbgrader can read ({type(error).__name__}): graded without a "
                "submission time"]


def stopped_cells(folder: Path) -> list[str]:
    """Cells the grader had to stop: ``test_x killed``, ``x_answer died``..."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        for cell in read(path).cells:
            names = {o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"}
            for ename in sorted(names & FAILURE_NAMES.keys()):
                grade_id = str(cell.metadata.get("nbgrader", {}).get("grade_id", "a cell"))[:80]
                found.append(f"{grade_id} {FAILURE_NAMES[ename]}")
    return found
