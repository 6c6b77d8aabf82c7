"""Synthetic students: submissions built from {answer grade_id: source} maps, graded in one run.

``simulate`` and ``mutants`` both describe their students as :class:`Student` values and call
:func:`grade`, which writes every submission, grades the batch through the same engine as
``python -m autograder grade`` (optionally ``generate_feedback`` and ``export`` too) and reads
the scores back from the gradebook.
"""

from __future__ import annotations

import copy
import csv
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from autograder.course import cells, read, source_notebooks
from autograder.engine.client import Options, grade_assignment
from autograder.engine.sandbox import unavailable_reason
from autograder.gates.regions import reference_source
from autograder.gates.workspace import NbgraderFailed, Workspace, tools_on_path

__all__ = ["Student", "Result", "Batch", "reference_answers", "answer_ids", "grade"]

TIMESTAMP = "2025-01-06 09:00:00.000000 UTC"
# Ways to tamper with a submission, each aimed at one test cell (see Student.tamper).
TAMPERING = ("pass", "delete", "points")


@dataclass(frozen=True)
class Student:
    """A synthetic submission.

    Attributes:
        name: the nbgrader student id (letters, digits, ``_`` and ``-``).
        answers: answer grade_id -> the whole source of that cell; other cells keep the release.
        tamper: (action, test grade_id) pairs: ``"pass"`` replaces the test with ``pass``,
            ``"delete"`` removes the cell, ``"points"`` claims 1000 points for it.
    """

    name: str
    answers: dict[str, str] = field(default_factory=dict)
    tamper: tuple[tuple[str, str], ...] = ()


@dataclass
class Result:
    """What the gradebook says about one student."""

    score: float
    max_score: float
    cells: dict[str, float]  # test grade_id -> points scored
    autograded: list[Path]  # the autograded notebooks
    feedback: list[Path]  # the feedback HTML files (empty without feedback)
    csv_score: float | None = None  # the score in the exported CSV (None without export)


@dataclass
class Batch:
    """The outcome of grading a list of students on one assignment."""

    assignment: str
    max_score: float
    results: dict[str, Result]


def reference_answers(assignment: str, source: Path) -> dict[str, str]:
    """Answer grade_id -> reference source (the solution cell without its marker lines)."""
    answers = {}
    for path in source_notebooks(assignment, source):
        for cell in cells(read(path)):
            if cell.is_answer:
                answers[cell.grade_id] = reference_source(cell.source)
    return answers


def answer_ids(assignment: str, source: Path) -> list[str]:
    """The answer grade_ids of an assignment, in notebook order."""
    return list(reference_answers(assignment, source))


def _submission(release_nb: nbformat.NotebookNode, student: Student) -> nbformat.NotebookNode:
    nb = copy.deepcopy(release_nb)
    deleted = {grade_id for action, grade_id in student.tamper if action == "delete"}
    kept = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if grade_id in deleted:
            continue
        if grade_id in student.answers:
            cell.source = student.answers[grade_id]
        for action, target in student.tamper:
            if target == grade_id and action == "pass":
                cell.source = "pass"
            elif target == grade_id and action == "points":
                meta["points"] = 1000
        kept.append(cell)
    nb.cells = kept
    return nb


def _check_targets(students: list[Student], release: dict[str, nbformat.NotebookNode]) -> None:
    known = {c.grade_id: c for nb in release.values() for c in cells(nb)}
    for student in students:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", student.name):
            raise ValueError(f"student name {student.name!r}: use letters, digits, '_' and '-' only")
        for grade_id in student.answers:
            if grade_id not in known or not known[grade_id].is_answer:
                raise ValueError(f"student {student.name}: {grade_id!r} is not an answer cell of the release")
        for action, grade_id in student.tamper:
            if action not in TAMPERING or grade_id not in known or not known[grade_id].is_test:
                raise ValueError(f"student {student.name}: cannot {action!r} {grade_id!r}")


def _write_submissions(ws: Workspace, assignment: str, students: list[Student]) -> None:
    release_dir = ws.path("release", assignment)
    release = {p.name: read(p) for p in sorted(release_dir.glob("*.ipynb"))}
    _check_targets(students, release)
    for student in students:
        folder = ws.path("submitted", student.name, assignment)
        shutil.copytree(release_dir, folder, ignore=shutil.ignore_patterns("*.ipynb"))
        for name, nb in release.items():
            nbformat.write(_submission(nb, student), folder / name)
        (folder / "timestamp.txt").write_text(TIMESTAMP)


def _read_csv(path: Path, assignment: str) -> dict[str, float]:
    with path.open(newline="") as handle:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)
                if row["assignment"] == assignment}


def grade(ws: Workspace, assignment: str, students: list[Student], feedback: bool = False,
          export: bool = False) -> Batch:
    """Grade all ``students`` with ``python -m autograder grade``'s engine (the release must exist in ``ws``).

    The synthetic students are the instructor's own code, so where bubblewrap is unavailable they
    are graded unsandboxed (with a note) rather than not at all.

    Args:
        feedback: also run ``generate_feedback`` for the assignment.
        export: also run ``nbgrader export`` and record each student's CSV score.
    """
    _write_submissions(ws, assignment, students)
    reason = unavailable_reason()
    if reason:
        print(f"note: grading the synthetic students without a sandbox ({reason})")
    outcomes = grade_assignment(assignment, ws.course, Options(students=[s.name for s in students],
                                                               force=True, sandbox=reason is None))
    failed = [f"{o.student}: {o.reason}" for o in outcomes if o.failed]
    if failed:
        raise NbgraderFailed(f"grade {assignment} could not grade: {'; '.join(failed)}")
    if feedback:
        ws.nbgrader("generate_feedback", assignment)
    csv_scores = {}
    if export:
        ws.nbgrader("export")
        csv_scores = _read_csv(ws.course / "grades.csv", assignment)

    tools_on_path()  # Gradebook runs the alembic executable
    results = {}
    with Gradebook(ws.db_url) as gradebook:
        max_score = float(gradebook.find_assignment(assignment).max_score)
        for student in students:
            submission = gradebook.find_submission(assignment, student.name)
            grades = {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}
            results[student.name] = Result(
                score=float(submission.score), max_score=float(submission.max_score), cells=grades,
                autograded=sorted(ws.path("autograded", student.name, assignment).glob("*.ipynb")),
                feedback=sorted(ws.path("feedback", student.name, assignment).glob("*.html")),
                csv_score=csv_scores.get(student.name),
            )
    return Batch(assignment=assignment, max_score=max_score, results=results)
