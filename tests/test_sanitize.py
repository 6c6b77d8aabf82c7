"""The cleaning of what a student controls in a notebook before it is graded (autograder/engine/sanitize.py).

Formgrader and ``nbgrader generate_feedback`` render markdown with ``markdown2html`` and no sanitizer
(nbgrader's own templates), so what reaches ``autograded/`` must already be inert.
"""

from __future__ import annotations

import html
import re

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbconvert.filters import markdown2html
from traitlets.config import PyFileConfigLoader

from autograder.course import COURSE, read
from autograder.engine.sanitize import MAX_CELL_SOURCE, MAX_SOURCE, clean_html, clean_notebook
from autograder.engine.submission import clean_notebooks
from autograder.gates.hostile.attacks import XSS_MARKDOWN

EXECUTABLE = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=|<script|<i?frame\b|<svg|(?:java|vb)script\s*:",
                        re.IGNORECASE)
PAYLOADS = [
    XSS_MARKDOWN,
    "[a](jav&#97;script:alert(1)) [b](jav&amp;#97;script:alert(2)) [c](JaVa\tScRiPt:alert(3))",
    "&lt;script&gt;alert(1)&lt;/script&gt; <IMG SRC=x OnError=alert(1)> <a href='vbscript:x'>v</a>",
    "<details open ontoggle=alert(1)>x</details> <math><mtext><script>alert(1)</script></mtext></math>",
]


def _notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=list(cells), metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python", "x": "y" * 999},
        "language_info": {"name": "python"}, "widgets": {"junk": "w" * 5000}})


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_markdown_renders_without_executable_html_as_formgrader_renders_it(payload):
    assert EXECUTABLE.search(markdown2html(payload)), "the payload should be dangerous uncleaned"
    nb, report = clean_notebook(_notebook(nbformat.v4.new_markdown_cell(payload),
                                          nbformat.v4.new_raw_cell(payload)))
    for cell in nb.cells:
        assert not EXECUTABLE.search(markdown2html(cell.source)), cell.source
        assert not EXECUTABLE.search(cell.source), cell.source
    assert report.sanitized == 2


def test_clean_html_keeps_honest_markdown():
    text = "> a quote\n\nWhy $a < b$ & **bold** [docs](https://pytorch.org) `x`"
    assert clean_html(text.replace("<", "less than")) == text.replace("<", "less than")
    assert html.unescape(clean_html(text)) == text  # only escaped: still renders the same


def test_markdown_over_the_cap_is_cut_with_a_note_and_code_over_it_is_not_run():
    huge = "My notes\n\n" + "& < " * 6_000_000  # 24 MB
    nb, report = clean_notebook(_notebook(nbformat.v4.new_markdown_cell(huge),
                                          nbformat.v4.new_code_cell("# " + "x" * 2_000_000),
                                          nbformat.v4.new_code_cell("y = 1")))
    text, code, small = nb.cells
    assert len(text.source.encode()) < MAX_CELL_SOURCE + 300
    assert "this cell had 24,000,010 bytes; only the first 100,000 were kept" in text.source
    assert code.source.startswith("# [grader: this cell had 2,000,002 bytes of code")
    assert "it was not run" in code.source
    assert len(code.source.splitlines()) == 1  # a comment: nothing of the student's code runs
    assert small.source == "y = 1"
    assert (report.cut, report.not_run) == (1, 1)


def test_the_notebook_budget_applies_in_order():
    cells = [nbformat.v4.new_markdown_cell("m" * (MAX_CELL_SOURCE - 1)) for _ in range(12)]
    nb, report = clean_notebook(_notebook(*cells, nbformat.v4.new_code_cell("x = 1")))
    assert sum(len(c.source.encode()) for c in nb.cells) < MAX_SOURCE + 2000
    assert nb.cells[-1].source.startswith("# [grader:")  # no room left: not run
    assert report.cut >= 2


def test_metadata_and_attachments_are_reduced_to_what_nbgrader_and_jupyter_need():
    answer = nbformat.v4.new_code_cell("x = 1", metadata={
        "nbgrader": {"grade": False, "solution": True, "locked": False, "grade_id": "x_answer",
                     "schema_version": 3, "junk": "z" * 1000, "points": {"nested": 1}},
        "tags": ["skip-execution", "t" * 500], "junk": "z" * 25_000_000, "jupyter": {"source_hidden": True}})
    answer.outputs = [nbformat.v4.new_output("stream", text="forged")]
    picture = nbformat.v4.new_markdown_cell("![n](attachment:n.png)",
                                            attachments={"n.png": {"image/png": "A" * 20_000_000}})
    nb, report = clean_notebook(_notebook(answer, picture))
    assert nb.cells[0].metadata == {"tags": ["skip-execution"], "nbgrader": {
        "grade": False, "solution": True, "locked": False, "grade_id": "x_answer", "schema_version": 3}}
    assert nb.cells[0].outputs == [] and "attachments" not in nb.cells[1]
    assert "attachment:" not in nb.cells[1].source
    page, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)  # a missing one would raise
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    assert nb.metadata == {"kernelspec": kernelspec, "language_info": {"name": "python"}}
    assert len(nbformat.writes(nb)) < 5000
    assert report.metadata > 25_000_000 and report.attachments > 20_000_000
    assert "bytes of metadata dropped" in report.describe("n.ipynb")


@pytest.mark.parametrize("path", sorted((COURSE / "source").glob("ps*/*.ipynb")), ids=lambda p: p.name)
def test_honest_notebooks_keep_their_cells_ids_and_nbgrader_metadata(path):
    nb = read(path)
    cleaned, report = clean_notebook(nb)
    assert [html.unescape(c.source) for c in cleaned.cells] == [c.source for c in nb.cells]
    pairs = list(zip(nb.cells, cleaned.cells, strict=True))
    assert all(c.get("id", n.id) == n.id for c, n in pairs)  # kept where there was one
    assert all(c.metadata.get("nbgrader") == n.metadata.get("nbgrader") for c, n in pairs)
    assert report.describe(path.name) == ""


def test_the_worker_cleans_its_private_copy_and_removes_what_cannot_be_cleaned(tmp_path):
    nbformat.write(_notebook(nbformat.v4.new_markdown_cell(XSS_MARKDOWN)), tmp_path / "a.ipynb")
    (tmp_path / "b.ipynb").write_text('{"cells": [')
    notes = clean_notebooks(tmp_path)
    assert not EXECUTABLE.search((tmp_path / "a.ipynb").read_text())
    assert not (tmp_path / "b.ipynb").exists()
    assert notes[0].startswith("a.ipynb: cleaned before grading: HTML or script URLs removed from 1 cell")
    assert notes[1].startswith("b.ipynb could not be cleaned")


def test_the_course_config_makes_formgrader_and_feedback_sanitize_outputs():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    assert "sanitize_html" in HTMLExporter.class_trait_names()  # the pinned nbconvert has the trait
    assert config.HTMLExporter.sanitize_html is True
    cell = nbformat.v4.new_code_cell("display(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<img src=x onerror=alert('XSS-OUT')>", "application/javascript": "alert('XSS-JS')",
        "text/plain": "img"})]
    kernelspec = {"name": "python3", "display_name": "Python 3"}
    nb = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": kernelspec})
    page, _ = HTMLExporter(config=config, template_name="classic").from_notebook_node(nb)
    assert "XSS-OUT" not in page and "XSS-JS" not in page


def test_cells_repeating_a_later_grade_id_become_plain_cells_and_the_last_is_graded():
    """nbgrader would leave the earlier copies an empty nbgrader dict that its own metadata check
    rejects (KeyError: 'grade_id'), failing the whole notebook for one copied cell."""
    test = {"nbgrader": {"grade": True, "grade_id": "test_a", "locked": True, "points": 1,
                         "schema_version": 3, "solution": False}}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("copy", metadata=test),
                                         nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("original", metadata=test)])
    cleaned, report = clean_notebook(nb)
    assert "nbgrader" not in cleaned.cells[0].metadata
    assert cleaned.cells[2].metadata["nbgrader"]["grade_id"] == "test_a"
    assert report.repeats == 1 and "1 cell(s) repeating a later cell's grade_id" in report.describe("nb")
