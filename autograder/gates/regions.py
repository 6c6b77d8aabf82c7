"""Solution and hidden-test regions of a source notebook, and the text that must stay secret."""

from __future__ import annotations

from collections.abc import Iterable

from nbformat import NotebookNode

from cnncourse.grading.feedback import HIDDEN

SOLUTION = ("BEGIN SOLUTION", "END SOLUTION")
MIN_SECRET_CHARS = 8  # shorter lines ("pass", "return x") are too common to count as a leak

__all__ = ["SOLUTION", "HIDDEN", "partition", "reference_source", "visible_text",
           "region_lines", "secret_lines", "leaks"]


def partition(source: str, markers: tuple[str, str]) -> tuple[list[str], list[str]]:
    """Split ``source`` into the lines outside and inside the marked regions (markers dropped)."""
    begin, end = markers
    outside, inside, within = [], [], False
    for line in source.splitlines():
        if begin in line:
            within = True
        elif end in line:
            within = False
        elif within:
            inside.append(line)
        else:
            outside.append(line)
    return outside, inside


def reference_source(source: str) -> str:
    """The reference answer of a solution cell: its source with the marker lines removed."""
    return "\n".join(line for line in source.splitlines()
                     if SOLUTION[0] not in line and SOLUTION[1] not in line)


def visible_text(nb: NotebookNode, regions: tuple[tuple[str, str], ...], ordinary_code: bool) -> str:
    """The text of a source notebook with the given regions removed.

    Args:
        regions: the marker pairs whose regions to drop, e.g. ``(SOLUTION, HIDDEN)``.
        ordinary_code: include code cells without nbgrader metadata. The release check leaves
            them out: solution code pasted into an ordinary cell is a leak, not a display.
    """
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "code" and not ordinary_code and "nbgrader" not in cell.metadata:
            continue
        lines = cell.source.splitlines()
        for markers in regions:
            lines = partition("\n".join(lines), markers)[0]
        parts.append("\n".join(lines))
    return "\n".join(parts)


def region_lines(nb: NotebookNode, markers: tuple[str, str]) -> list[str]:
    """All lines inside the given regions of the notebook's cells."""
    lines = []
    for cell in nb.cells:
        lines += partition(cell.source, markers)[1]
    return lines


def secret_lines(lines: Iterable[str], allowed_text: str) -> list[str]:
    """The distinctive lines (stripped) that do not also occur in text that may be shown."""
    found = []
    for line in lines:
        text = line.strip()
        if len(text) >= MIN_SECRET_CHARS and text not in allowed_text and text not in found:
            found.append(text)
    return found


def leaks(secrets: Iterable[str], text: str) -> list[str]:
    """The secrets that occur in ``text``."""
    return [secret for secret in secrets if secret in text]
