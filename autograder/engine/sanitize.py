"""What a student controls in a notebook, cleaned before it is graded (Sections 7.1-8.6 problem sets).

The grader copies a submission into a private folder and cleans that copy (never the student's
submitted file) before anything runs or reaches ``autograded/``: formgrader and
``nbgrader generate_feedback`` render the autograded notebook as HTML, on the instructor's Jupyter
origin and in the student's feedback page, and nbgrader's templates render markdown unsanitized.
The rules, for every cell (locked cells are restored from the gradebook by nbgrader afterwards):

- markdown and raw cells: HTML goes through nbconvert's own sanitizer
  (:class:`nbconvert.preprocessors.sanitize.SanitizeHTML`, bleach's allowed tags and attributes, unsafe
  markup stripped) when the source holds a ``<``; ``javascript:``, ``vbscript:`` and ``livescript:``
  URLs, also spelled with entities or whitespace, are defused (markdown links bypass bleach);
  attachments are dropped, and so are references to them (nbconvert fails a whole
  ``generate_feedback`` run on a missing attachment).
- sources are capped in UTF-8 bytes: :data:`MAX_CELL_SOURCE` per cell and :data:`MAX_SOURCE` per
  notebook, in order. Markdown and raw cells keep what fits and say what was cut; a code cell that
  does not fit is *not run*: its source becomes a comment saying so (truncated code would run
  something the student never wrote). Honest notebooks have under 40 KB of source, cells under 4 KB.
- cell metadata keeps ``nbgrader`` (its known keys, scalar values) and ``tags`` (short strings);
  notebook metadata keeps ``kernelspec``, ``language_info`` and a small ``nbgrader``. Code cells
  lose their submitted outputs (nbgrader clears them anyway) and cells get a valid id.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat import NotebookNode

__all__ = ["MAX_CELL_SOURCE", "MAX_SOURCE", "Cleaning", "clean_notebook", "clean_file", "clean_html"]

MAX_CELL_SOURCE = 100_000  # bytes of source one cell keeps
MAX_SOURCE = 1_000_000  # bytes of source one notebook keeps
MAX_METADATA_STRING = 200  # characters of a kept metadata string (grade_id, tag, kernel name)
MAX_TAGS = 32
NBGRADER_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution", "task",
                 "checksum", "cell_type")
KERNELSPEC_KEYS = ("name", "display_name", "language")
LANGUAGE_INFO_KEYS = ("name", "version", "mimetype", "file_extension", "pygments_lexer",
                      "nbconvert_exporter", "codemirror_mode")
NOTED_METADATA = 10_000  # bytes of dropped metadata worth a note to the instructor
_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_GAP = r"[\s\x00-\x1f]*"  # browsers ignore tabs, newlines and control characters inside a scheme
_SCRIPT_URL = re.compile(
    "|".join(_GAP.join(word) + _GAP + ":" for word in ("javascript", "vbscript", "livescript")), re.I
)
_ATTACHMENT = re.compile(r"attachment:", re.IGNORECASE)
_SANITIZER = SanitizeHTML(strip=True)  # nbconvert's defaults: bleach's tags, attributes, protocols


@dataclass
class Cleaning:
    """What :func:`clean_notebook` changed, for the instructor's notes."""

    sanitized: int = 0  # cells whose HTML or URLs were changed
    cut: int = 0  # markdown and raw cells cut short
    not_run: int = 0  # code cells replaced by a note
    attachments: int = 0  # bytes of attachments dropped
    metadata: int = 0  # bytes of metadata dropped
    repeats: int = 0  # cells repeating a later cell's grade_id, graded as plain cells

    def describe(self, name: str) -> str:
        """One line for the grading report ('' when nothing worth saying changed)."""
        parts = [f"HTML or script URLs removed from {self.sanitized} cell(s)" if self.sanitized else "",
                 f"{self.cut} text cell(s) cut to size" if self.cut else "",
                 f"{self.not_run} code cell(s) over the size limit not run" if self.not_run else "",
                 f"{self.attachments:,} bytes of attachments dropped" if self.attachments else "",
                 f"{self.metadata:,} bytes of metadata dropped" if self.metadata >= NOTED_METADATA else "",
                 f"{self.repeats} cell(s) repeating a later cell's grade_id made plain cells (the last "
                 "of each is graded)" if self.repeats else ""]
        parts = [p for p in parts if p]
        return f"{name}: cleaned before grading: {', '.join(parts)}" if parts else ""


def _size(value: object) -> int:
    return len(json.dumps(value, default=str).encode())


def _cut(text: str, limit: int) -> str:
    """The longest prefix of ``text`` with at most ``limit`` UTF-8 bytes."""
    return text.encode()[:max(limit, 0)].decode(errors="ignore")


def clean_html(text: str) -> str:
    """``text`` (markdown or raw HTML) with unsafe tags, attributes and script URLs made inert.

    Markup goes through nbconvert's :class:`~nbconvert.preprocessors.sanitize.SanitizeHTML` only
    when the text holds a ``<`` (bleach escapes ``>`` too, which would break a markdown quote).
    Script URLs are looked for after entities are decoded (the markdown renderer decodes them in
    link targets, more than once); a text that spells one is decoded, defused and sanitized again.
    """
    if "<" in text:
        text = _SANITIZER.sanitize_html_tags(text)
    for _ in range(3):
        decoded = _decoded(text)
        if not _SCRIPT_URL.search(decoded):
            return text
        text = _SCRIPT_URL.sub("blocked-script-url:", decoded)
        if "<" in text:  # decoding may have turned escaped markup back into markup
            text = _SANITIZER.sanitize_html_tags(text)
    return "[grader: this cell kept spelling script URLs and was removed]"


def _decoded(text: str) -> str:
    """``text`` with HTML entities decoded until none is left (``&amp;#97;`` -> ``a``)."""
    for _ in range(5):
        text, before = html.unescape(text), text
        if text == before:
            break
    return text


def _metadata(cell: NotebookNode) -> dict:
    """``nbgrader`` (known keys, scalar values) and ``tags`` (short strings) of a cell."""
    found = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    kept: dict = {}
    nbgrader = found.get("nbgrader")
    if isinstance(nbgrader, dict):
        kept["nbgrader"] = _scalars(nbgrader, NBGRADER_KEYS)
    tags = found.get("tags")
    if isinstance(tags, list):
        short = [t for t in tags if isinstance(t, str) and len(t) <= MAX_METADATA_STRING]
        kept["tags"] = list(dict.fromkeys(short))[:MAX_TAGS]  # nbformat wants them unique
    return kept


def _scalars(found: dict, keys: tuple[str, ...]) -> dict:
    """The ``keys`` of ``found`` whose values are booleans, numbers, None or short strings."""
    return {k: found[k] for k in keys if k in found and (
        found[k] is None or isinstance(found[k], bool | int | float)
        or (isinstance(found[k], str) and len(found[k]) <= MAX_METADATA_STRING))}


def _notebook_metadata(found: object) -> dict:
    found = found if isinstance(found, dict) else {}
    kept = {}
    for key, keys in (("kernelspec", KERNELSPEC_KEYS), ("language_info", LANGUAGE_INFO_KEYS)):
        if isinstance(found.get(key), dict):
            kept[key] = _scalars(found[key], keys)
            mode = found[key].get("codemirror_mode")
            if key == "language_info" and isinstance(mode, dict) and _size(mode) <= MAX_METADATA_STRING:
                kept[key]["codemirror_mode"] = mode
    for key, required in (("kernelspec", ("name", "display_name")), ("language_info", ("name",))):
        if key in kept and not all(isinstance(kept[key].get(r), str) for r in required):
            del kept[key]  # invalid without them; nbgrader puts the gradebook's kernelspec back anyway
    if isinstance(found.get("nbgrader"), dict) and _size(found["nbgrader"]) <= 1000:
        kept["nbgrader"] = found["nbgrader"]
    return kept


def _source(cell: NotebookNode) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def _text_cell(kind: str, source: str, room: int, report: Cleaning) -> str:
    """A markdown or raw cell's source: cut to ``room`` bytes, sanitized, with a note of the cut."""
    size = len(source.encode())
    text = _cut(source, room)
    cleaned = clean_html(text)
    if len(cleaned.encode()) > room:  # escaping made it longer: cut again, sanitize the new end
        cleaned = clean_html(_cut(cleaned, room))
    # Attachments are dropped, and nbconvert fails a whole feedback run on a missing one.
    cleaned = _ATTACHMENT.sub("attachment-removed:", cleaned)
    if html.unescape(cleaned) != html.unescape(text):  # more than escaping: markup or a URL removed
        report.sanitized += 1
    if size > room:
        report.cut += 1
        note = (f"[grader: this cell had {size:,} bytes; only the first {room:,} were kept "
                f"(at most {MAX_CELL_SOURCE:,} per cell, {MAX_SOURCE:,} per notebook)]")
        cleaned += f"\n\n*{note}*" if kind == "markdown" else f"\n\n{note}"
    return cleaned


def clean_notebook(nb: NotebookNode) -> tuple[NotebookNode, Cleaning]:
    """A copy of ``nb`` with what a student controls cleaned (the rules are in the module docstring).

    Args:
        nb: a submitted notebook as :func:`nbformat.read` returns it (possibly hostile).

    Returns:
        The cleaned notebook (nbformat 4.5) and what was changed.
    """
    report = Cleaning()
    used = 0
    cells, ids = [], set()
    found_cells = nb.get("cells") if isinstance(nb.get("cells"), list) else []
    for cell in found_cells:
        if not isinstance(cell, dict):
            continue
        kind = cell.get("cell_type") if cell.get("cell_type") in ("markdown", "code") else "raw"
        metadata = _metadata(cell)
        report.metadata += max(0, _size(cell.get("metadata", {})) - _size(metadata))
        if isinstance(cell.get("attachments"), dict):
            report.attachments += _size(cell["attachments"])
        source = _source(cell)
        room = min(MAX_CELL_SOURCE, MAX_SOURCE - used)
        if kind == "code":
            size = len(source.encode())
            if size > room:
                report.not_run += 1
                source = (f"# [grader: this cell had {size:,} bytes of code, more than the "
                          f"{MAX_CELL_SOURCE:,} a cell may have ({MAX_SOURCE:,} in a notebook): "
                          "it was not run]\n")
            new = nbformat.v4.new_code_cell(source, metadata=metadata)
        else:
            source = _text_cell(kind, source, room, report)
            new = (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_raw_cell)(
                source, metadata=metadata)
        used += len(new.source.encode())
        if isinstance(cell.get("id"), str) and _CELL_ID.fullmatch(cell["id"]) and cell["id"] not in ids:
            new.id = cell["id"]  # otherwise the fresh random id nbformat gave it
        ids.add(new.id)
        cells.append(new)
    report.repeats = _unrepeat(cells)
    metadata = _notebook_metadata(nb.get("metadata"))
    report.metadata += max(0, _size(nb.get("metadata", {})) - _size(metadata))
    return nbformat.v4.new_notebook(cells=cells, metadata=metadata), report


def _unrepeat(cells: list[NotebookNode]) -> int:
    """Make every cell whose grade_id a later cell repeats a plain cell; return how many.

    nbgrader grades the last cell of a grade_id too, but it leaves the earlier ones an empty
    ``nbgrader`` dict that its own metadata check then rejects (``KeyError: 'grade_id'``): one
    copied cell would fail the whole notebook. A copied test then runs as a plain cell, in the
    student's kernel, and the graded one stays where the last copy is.
    """
    seen: set[str] = set()
    repeats = 0
    for cell in reversed(cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            repeats += 1
        seen.add(grade_id)
    return repeats


def clean_file(path: Path) -> str:
    """Clean the notebook at ``path`` in place; a note for the instructor ('' when nothing notable).

    Only ever called on the grader's private copy of a submission.
    """
    nb, report = clean_notebook(nbformat.read(path, as_version=4))
    nbformat.write(nb, path)
    return report.describe(path.name)
