"""Student feedback without hidden tests: an nbgrader preprocessor and an HTML leak check.

Feedback on the assignments of Sections 7.2-8.6. It lives in the installed package so that a
copied course folder gives feedback with only ``cnncourse`` installed. nbgrader 0.9.6 puts the
full source of every test cell back into the autograded notebook, so its feedback HTML would show
the hidden tests (jupyter/nbgrader#917). ``course/nbgrader_config.py`` adds
:class:`HideHiddenTests` to ``GenerateFeedback.preprocessors``: in every test cell that had a
hidden region, the region is replaced by a one-line note and an error's traceback (which
quotes the failing line and its neighbours) is cut down to ``ErrorName: message``. Scores and
the messages that explain a failure stay.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

HIDDEN = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")  # the markers of nbgrader's ClearHiddenTests

__all__ = ["HIDDEN", "HideHiddenTests", "html_text"]


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden test source, and the tracebacks that quote it, from autograded test cells."""

    note = Unicode(
        "# (hidden tests: not shown; their messages appear below when they fail)",
        help="The line that replaces a hidden test region in the feedback.",
    ).tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type != "code" or not utils.is_grade(cell) or HIDDEN[0] not in cell.source:
            return cell, resources
        kept, within = [], False
        for line in cell.source.split("\n"):
            if HIDDEN[0] in line:
                within = True
                kept.append(line[: line.index("#")] + self.note if "#" in line else self.note)
            elif HIDDEN[1] in line:
                within = False
            elif not within:
                kept.append(line)
        cell.source = "\n".join(kept)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                message = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
                output.traceback = [f"\x1b[0;31m{output.ename}\x1b[0m" + message[len(output.ename):]]
        return cell, resources


_INVISIBLE = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


def html_text(path: Path) -> str:
    """The visible text of an HTML file: scripts, styles and tags removed, entities decoded."""
    page = _INVISIBLE.sub(" ", path.read_text(encoding="utf-8"))
    return html.unescape(_TAG.sub("", page))
