"""What the client keeps of a grading run: the course's gradebook row, ``autograded/``, and the
state that makes ``grade`` resumable (:mod:`autograder.engine.client` is the only caller).

``<course>/.autograder/<assignment>/<student>.json`` holds the :class:`Outcome` and the fingerprint
of the submitted folder it was graded from; ``<student>.log`` beside it nbgrader's log of that
grading. A submission whose fingerprint and gradebook row are unchanged is not graded again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.engine import gradebook
from autograder.engine.files import regular_files, write_files
from autograder.engine.task import Result

__all__ = ["STATE", "Outcome", "submissions", "fingerprint", "done_before", "finish"]

STATE = ".autograder"  # <course>/.autograder/<assignment>/<student>.json: what was graded


@dataclass
class Outcome:
    """One row of the table: a student's result."""

    student: str
    score: float
    max_score: float
    status: str  # "graded", "unchanged" (done by an earlier run) or "FAILED"
    seconds: float
    reason: str = ""  # failures, and notes such as killed cells or a replaced kernel
    fingerprint: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"


def submissions(course: Path, assignment: str) -> dict[str, Path]:
    """student -> submitted folder, for every ``submitted/<student>/<assignment>``."""
    found = {}
    for folder in sorted((course / "submitted").glob(f"*/{assignment}")):
        if folder.is_dir():
            found[folder.parent.name] = folder
    return found


def fingerprint(folder: Path, salt: str) -> str:
    """sha256 of the relative path and bytes of every file the grader uses from ``folder``."""
    digest = hashlib.sha256(salt.encode())
    for relative in regular_files(folder)[0]:
        digest.update(str(relative).encode() + b"\0" + (folder / relative).read_bytes() + b"\0")
    return digest.hexdigest()


def _state_path(course: Path, assignment: str, student: str) -> Path:
    return course / STATE / assignment / f"{student}.json"


def done_before(
    course: Path, assignment: str, student: str, mark: str, db_url: str, course_id: str
) -> Outcome | None:
    path = _state_path(course, assignment, student)
    if not path.exists():
        return None
    try:
        state = Outcome(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None
    if state.fingerprint != mark or not gradebook.has_submission(db_url, course_id, assignment, student):
        return None
    state.status, state.seconds = ("unchanged" if not state.failed else "FAILED"), 0.0
    return state


def finish(course: Path, result: Result, mark: str, db_url: str, course_id: str,
            max_score: float) -> Outcome:
    """Write one accepted result into the gradebook, autograded/, the log and the state file."""
    assignment, student = result.assignment, result.student
    score = gradebook.record(db_url, course_id, assignment, student, result.scores)
    target = course / "autograded" / student / assignment
    if result.scores is not None and result.autograded:
        shutil.rmtree(target, ignore_errors=True)
        write_files(result.autograded, target)
    failed = bool(result.problems) or result.scores is None
    outcome = Outcome(student, score, max_score, "FAILED" if failed else "graded", result.seconds,
                      "; ".join(result.problems + result.notes), mark)
    state = _state_path(course, assignment, student)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.with_suffix(".log").write_text("\n".join(result.log) + "\n")
    state.write_text(json.dumps(asdict(outcome)))
    return outcome
