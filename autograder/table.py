"""Plain-text summary tables for the command line."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table", "verdict"]


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header."""
    text = [[str(h) for h in headers]] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in text) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in text]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
