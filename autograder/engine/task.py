"""What travels between the grading client and a Dask worker: :class:`Shared`, :class:`Task`, :class:`Result`.

The client (:mod:`autograder.engine.client`) sends every worker one :class:`Shared` (through the
worker plugin, once) and one :class:`Task` per submission; the worker
(:mod:`autograder.engine.worker`) answers with a :class:`Result`. They carry bytes, never paths of
the client's machine: a worker needs no shared filesystem and no access to the course folder.
Only the client writes the course's gradebook and ``autograded/``, and only after
:func:`refusal` found nothing wrong with a result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import PurePosixPath

__all__ = ["Shared", "Task", "Result", "refusal", "MAX_RESULT_BYTES"]

MAX_RESULT_BYTES = 256 << 20  # autograded files one result may carry (outputs: at most 1 MB a notebook)


@dataclass(frozen=True)
class Shared:
    """What every submission of one grading run needs: sent to each worker once.

    Attributes:
        run: a name unique to this grading run (the worker plugin's name).
        assignment: the assignment's name.
        course_id: nbgrader's course id.
        config: the text of the course's ``nbgrader_config.py``.
        template: a SQLite gradebook holding only this assignment (:func:`gradebook.make_template`).
        source: the assignment's source files other than notebooks (data files tests read), by
            relative path.
        notebooks: notebook name -> the kernel its source asks for.
        isolate: run kernels in the bubblewrap sandbox (False: resource limits only).
        timeout: per-cell seconds; None: the course config's ``Execute.timeout``.
        limits: ``SandboxedExecute`` traits, e.g. ``{"memory_limit": 2 << 30}``.
        protect: folders of the client's machine no sandbox may bind (the course), where they exist
            on the worker's machine too.
        watchdog: seconds after which a worker silent on one submission counts as hung.
    """

    run: str
    assignment: str
    course_id: str
    config: str
    template: bytes
    source: dict[str, bytes]
    notebooks: dict[str, str]
    isolate: bool = True
    timeout: int | None = None
    limits: dict[str, int] = field(default_factory=dict)
    protect: tuple[str, ...] = ()
    watchdog: float = 3900.0


@dataclass(frozen=True)
class Task:
    """One submission to grade: the student's name and the files of ``submitted/<student>/<assignment>``.

    Attributes:
        student: nbgrader's student id.
        files: relative path -> bytes, as :func:`autograder.engine.files.read_regular_files` found them.
        notes: what the client left out of ``files`` (links, floods), for the instructor.
    """

    student: str
    files: dict[str, bytes]
    notes: tuple[str, ...] = ()


@dataclass
class Result:
    """What a worker made of one :class:`Task`.

    Attributes:
        student, assignment: whose submission this is (checked against the task by the client).
        scores: :func:`autograder.engine.gradebook.read_scores` of the private gradebook, or None
            when the submission could not be graded.
        autograded: the files of ``autograded/<student>/<assignment>``, by relative path.
        problems: why the submission could not be graded (it is then FAILED).
        notes: remarks for the instructor: killed cells, a replaced kernel, cleaned markdown.
        log: nbgrader's and the grader's log lines for this submission, each clipped.
        seconds: wall time on the worker.
        worker: the Dask worker's address.
        hung: the worker gave up waiting for its own grading thread (it must be restarted).
        startup: the worker's test kernel cannot start (nothing of this task was graded).
    """

    student: str
    assignment: str
    scores: dict | None = None
    autograded: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0
    worker: str = ""
    hung: bool = False
    startup: str = ""


def _safe_path(name: object) -> bool:
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "." not in path.parts


def _bad_number(value: object, top: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return not math.isfinite(value) or not 0 <= value <= top + 1e-9


def refusal(result: object, task: Task, shared: Shared, maxima: dict[str, dict[str, float]]) -> str:
    """Why the client must not record ``result`` for ``task`` ("" when it may).

    A worker may be on another machine: the client accepts only a :class:`Result` for the student
    and assignment it sent, scores for cells the assignment has, each within its cell's maximum,
    and autograded files with relative paths of bounded total size.

    Args:
        maxima: notebook -> grade cell -> max score (:func:`autograder.engine.gradebook.cell_maxima`).
    """
    if not isinstance(result, Result):
        return f"the worker answered a {type(result).__name__}, not a Result"
    if (result.student, result.assignment) != (task.student, shared.assignment):
        return (f"the worker answered for {result.student!r}/{result.assignment!r}, but was sent "
                f"{task.student!r}/{shared.assignment!r}")
    if not isinstance(result.autograded, dict) or not all(
            _safe_path(k) and isinstance(v, bytes) for k, v in result.autograded.items()):
        return "the autograded files have a path outside the submission's folder or are not bytes"
    if sum(len(v) for v in result.autograded.values()) > MAX_RESULT_BYTES:
        return f"the autograded files exceed {MAX_RESULT_BYTES >> 20} MiB"
    scores = result.scores
    if scores is None:
        return ""
    if not isinstance(scores, dict) or not isinstance(scores.get("notebooks"), dict):
        return "the scores are not nbgrader's per-notebook scores"
    for notebook, mine in scores["notebooks"].items():
        if notebook not in maxima:
            return f"a score for notebook {str(notebook)[:80]!r}, which {shared.assignment} does not have"
        grades = mine.get("grades") if isinstance(mine, dict) else None
        if not isinstance(grades, dict):
            return f"the scores of {notebook} have no grades"
        for cell, value in grades.items():
            if cell not in maxima[notebook]:
                return f"a score for cell {str(cell)[:80]!r} of {notebook}, which has no such graded cell"
            if not (isinstance(value, list | tuple) and len(value) == 2):
                return f"the score of {notebook}/{cell} is not [score, needs_manual_grade]"
            auto, _manual = value
            if auto is not None and _bad_number(auto, maxima[notebook][cell]):
                top = maxima[notebook][cell]
                return f"the score {str(auto)[:40]} of {notebook}/{cell} is outside 0..{top:g}"
        penalty = mine.get("late_penalty")
        if penalty is not None and _bad_number(penalty, sum(maxima[notebook].values())):
            return f"the late penalty {str(penalty)[:40]} of {notebook} is outside 0..its maximum"
        comments = mine.get("comments", {})
        if not isinstance(comments, dict) or not all(
                isinstance(c, str | type(None)) and len(c or "") <= 100_000 for c in comments.values()):
            return f"the comments of {notebook} are not short texts"
    stamp = scores.get("timestamp")
    if stamp is not None and not (isinstance(stamp, str) and len(stamp) <= 64):
        return "the timestamp is not an ISO date"
    return ""
