"""The two gradebooks of ``grade``: a private SQLite copy per submission, and the course's.

Workers autograde each submission in a private course copy whose gradebook holds only the
assignment (:func:`make_template`), so N workers never write one database at once. Only the
parent process writes the course's gradebook (SQLite or PostgreSQL, nbgrader's ``db_url``):
:func:`read_scores` takes a worker's results out of its private copy, :func:`record` puts them
in, exactly where ``nbgrader autograde`` would (auto scores, auto comments, late penalty,
timestamp; manual scores stay).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from autograder.workspace import tools_on_path

__all__ = ["make_template", "read_scores", "record", "has_submission", "max_score"]


def make_template(db_url: str, course_id: str, assignment: str, target: Path) -> None:
    """Write a SQLite gradebook at ``target`` holding only ``assignment`` from ``db_url``.

    Raises:
        SystemExit: when the course gradebook does not know the assignment.
    """
    tools_on_path()
    with Gradebook(db_url, course_id) as main:
        try:
            source = main.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(
                f"grade: the gradebook {db_url} has no assignment {assignment!r}; "
                f"run `nbgrader generate_assignment {assignment}` in the course folder first"
            ) from None
        with Gradebook(f"sqlite:///{target}", course_id) as copy:
            copy.add_assignment(assignment, duedate=source.duedate)
            for nb in source.notebooks:
                copy.add_notebook(nb.name, assignment, kernelspec=nb.kernelspec)
                for cell in nb.grade_cells:
                    copy.add_grade_cell(
                        cell.name, nb.name, assignment, max_score=cell.max_score, cell_type=cell.cell_type
                    )
                for cell in nb.task_cells:
                    copy.add_task_cell(
                        cell.name, nb.name, assignment, max_score=cell.max_score, cell_type=cell.cell_type
                    )
                for cell in nb.solution_cells:
                    copy.add_solution_cell(cell.name, nb.name, assignment)
                for cell in nb.source_cells:
                    copy.add_source_cell(
                        cell.name,
                        nb.name,
                        assignment,
                        cell_type=cell.cell_type,
                        locked=cell.locked,
                        source=cell.source,
                        checksum=cell.checksum,
                    )


def read_scores(db_url: str, assignment: str, student: str) -> dict:
    """One submission of a private gradebook as plain data (see :func:`record`)."""
    tools_on_path()
    with Gradebook(db_url) as gb:
        submission = gb.find_submission(assignment, student)
        notebooks = {}
        for nb in submission.notebooks:
            notebooks[nb.name] = {
                "grades": {
                    g.name: [
                        None if g.auto_score is None else float(g.auto_score),
                        bool(g.needs_manual_grade),
                    ]
                    for g in nb.grades
                },
                "comments": {c.name: c.auto_comment for c in nb.comments},
                "late_penalty": nb.late_submission_penalty,
            }
        return {
            "timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
            "score": float(submission.score),
            "max_score": float(submission.max_score),
            "notebooks": notebooks,
        }


def record(db_url: str, course_id: str, assignment: str, student: str, scores: dict | None) -> float:
    """Write one submission's auto scores into the course gradebook; return its score.

    ``scores=None`` records a submission that could not be graded: every cell scores zero.
    """
    tools_on_path()
    with Gradebook(db_url, course_id) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush notices, as in autograde
        gb.update_or_create_student(student)
        kwargs = {"timestamp": scores["timestamp"]} if scores and scores.get("timestamp") else {}
        submission = gb.update_or_create_submission(assignment, student, **kwargs)
        for nb in submission.notebooks:
            mine = (scores or {}).get("notebooks", {}).get(nb.name)
            for grade in nb.grades:
                auto, manual = (mine or {}).get("grades", {}).get(grade.name, [0.0, False])
                grade.auto_score = 0.0 if mine is None and auto is None else auto
                grade.needs_manual_grade = manual
            for comment in nb.comments:
                comment.auto_comment = (mine or {}).get("comments", {}).get(comment.name)
            nb.late_submission_penalty = (mine or {}).get("late_penalty")
        gb.db.commit()
        return float(gb.find_submission(assignment, student).score)


def has_submission(db_url: str, course_id: str, assignment: str, student: str) -> bool:
    tools_on_path()
    with Gradebook(db_url, course_id) as gb:
        try:
            gb.find_submission(assignment, student)
        except MissingEntry:
            return False
        return True


def max_score(db_url: str, course_id: str, assignment: str) -> float:
    tools_on_path()
    with Gradebook(db_url, course_id) as gb:
        return float(gb.find_assignment(assignment).max_score)
