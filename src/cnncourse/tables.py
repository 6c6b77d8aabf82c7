"""Plain-text tables for what the library prints: layer shapes (Section 7.6) and costs (Sections 8.1-8.4).

One formatter serves every printed table, so they all read alike: columns separated by two
spaces, a rule under the header, and optional footer rows (totals) below a second rule.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table"]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
                 footer: Sequence[Sequence[object]] = (), align: str | None = None) -> str:
    """Lay ``rows`` out under ``headers`` in aligned columns (Sections 7.6, 8.1-8.4).

    Args:
        headers: one title per column.
        rows: the body; each row has one cell per column (cells are turned into text with ``str``).
        footer: rows shown below a second rule, e.g. totals.
        align: one character per column, ``"<"`` (left) or ``">"`` (right); default all left.

    Returns:
        The table as one string, lines without trailing spaces.

    Raises:
        ValueError: a row or ``align`` does not have one entry per column.
    """
    align = "<" * len(headers) if align is None else align
    if len(align) != len(headers) or set(align) - {"<", ">"}:
        raise ValueError(f"format_table: align must be one '<' or '>' per column ({len(headers)}), "
                         f"got {align!r}")
    text = [[str(cell) for cell in row] for row in [headers, *rows, *footer]]
    for row in text:
        if len(row) != len(headers):
            raise ValueError(f"format_table: every row must have {len(headers)} cells like the header, "
                             f"got {len(row)}: {row!r}")
    widths = [max(len(row[i]) for row in text) for i in range(len(headers))]
    lines = ["  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths, strict=True)).rstrip()
             for row in text]
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    body = [lines[0], rule, *lines[1:1 + len(rows)]]
    if footer:
        body += [rule, *lines[1 + len(rows):]]
    return "\n".join(body)
