"""The two gradebooks of ``grade``: a private SQLite copy per submission, and the course's.

Workers autograde each submission in a private course copy whose gradebook holds only the
assignment (:func:`make_template`), so N workers never write one database at once. Only the
parent process writes the course's gradebook (SQLite or PostgreSQL, nbgrader's ``db_url``):
:func:`read_scores` takes a worker's results out of its private copy, :func:`record` puts them
in, exactly where ``nbgrader autograde`` would (auto scores, auto comments, late penalty,
timestamp; manual scores stay).
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import warnings
from pathlib import Path

from autograder.gates.workspace import tools_on_path

__all__ = ["make_template", "read_scores", "record", "has_submission", "max_score", "cell_maxima",
           "quiet_new_submission"]

# What SQLAlchemy 2 says while nbgrader's Gradebook.add_submission builds a new submission (below).
NEW_SUBMISSION_NOTICE = (r"Object of type <Submitted(Assignment|Notebook)> not in session, "
                         r"add operation along '\w+\.submissions' will not proceed")


def _nbgrader() -> tuple:
    """nbgrader's Gradebook and MissingEntry, imported when first needed (about 0.8 s: ``grade`` starts its
    workers first, so their imports and this one overlap)."""
    from nbgrader.api import Gradebook, MissingEntry

    return Gradebook, MissingEntry


@contextlib.contextmanager
def quiet_new_submission():
    """Silence only SQLAlchemy's notices about a submission nbgrader is still building.

    ``Gradebook.add_submission`` (nbgrader/api.py, lines 2222-2242 in nbgrader 0.9) creates the
    ``SubmittedAssignment`` with its assignment and student, then reads
    ``submission.assignment.notebooks`` (line 2229) and each notebook's ``grade_cells`` (line 149)
    to create its notebooks and grades, and only then calls ``self.db.add(submission)``. Those reads
    autoflush the session while the new objects are linked to stored rows but not yet added, and
    SQLAlchemy 2 (which no longer adds objects along backrefs) warns that it does not add them then.
    """
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        # harmless: add_submission's own db.add(submission) adds all of them before its commit
        warnings.filterwarnings("ignore", message=NEW_SUBMISSION_NOTICE, category=SAWarning)
        yield


def _signature(source) -> str:
    """A digest of everything :func:`make_template` copies from an assignment."""
    parts = [repr(source.duedate)]
    for nb in source.notebooks:
        parts.append(f"{nb.name}|{nb.kernelspec}")
        parts += [f"g|{c.name}|{c.max_score}|{c.cell_type}" for c in nb.grade_cells]
        parts += [f"t|{c.name}|{c.max_score}|{c.cell_type}" for c in nb.task_cells]
        parts += [f"s|{c.name}" for c in nb.solution_cells]
        parts += [f"c|{c.name}|{c.cell_type}|{c.locked}|{c.checksum}|{c.source}" for c in nb.source_cells]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def make_template(db_url: str, course_id: str, assignment: str, target: Path,
                  cache: Path | None = None) -> None:
    """Write a SQLite gradebook at ``target`` holding only ``assignment`` from ``db_url``.

    The template starts with nbgrader's schema version (:func:`_stamp`), so nbgrader does not run
    ``alembic heads`` to find it (a subprocess of about 3 s). With ``cache`` (a folder),
    the template is kept there and reused while the assignment stays the same.

    Raises:
        SystemExit: when the course gradebook does not know the assignment.
    """
    Gradebook, MissingEntry = _nbgrader()
    tools_on_path()
    with Gradebook(db_url, course_id) as main:
        try:
            source = main.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(
                f"grade: the gradebook {db_url} has no assignment {assignment!r}; "
                f"run `nbgrader generate_assignment {assignment}` in the course folder first"
            ) from None
        kept = cache / f"{assignment}-{_signature(source)[:16]}.db" if cache else None
        if kept is not None and kept.exists():
            shutil.copyfile(kept, target)
            return
        _stamp(target)
        _copy_assignment(source, assignment, course_id, target)
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        for old in kept.parent.glob(f"{assignment}-*.db"):
            old.unlink()
        shutil.copyfile(target, kept)


def _stamp(target: Path) -> None:
    """Start the SQLite file ``target`` with the schema version nbgrader would give it.

    For a database without tables, nbgrader's Gradebook runs ``alembic heads`` (a new process, about
    3 s) and writes the answer into an ``alembic_version`` table; the same answer comes from
    nbgrader's migration scripts in this process (0.1 s), and a database that has the table skips
    the subprocess.
    """
    import sqlite3

    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    head = ScriptDirectory(ALEMBIC_DIR).get_heads()[0]
    with contextlib.closing(sqlite3.connect(target)) as db, db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (head,))


def _copy_assignment(source, assignment: str, course_id: str, target: Path) -> None:
    """Create the gradebook at ``target`` and copy ``source`` (an Assignment row) into it."""
    Gradebook = _nbgrader()[0]
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
    Gradebook = _nbgrader()[0]
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
    Gradebook = _nbgrader()[0]
    tools_on_path()
    with Gradebook(db_url, course_id) as gb:
        gb.update_or_create_student(student)
        kwargs = {"timestamp": scores["timestamp"]} if scores and scores.get("timestamp") else {}
        with quiet_new_submission():  # a new student's submission: see quiet_new_submission
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
    Gradebook, MissingEntry = _nbgrader()
    tools_on_path()
    with Gradebook(db_url, course_id) as gb:
        try:
            gb.find_submission(assignment, student)
        except MissingEntry:
            return False
        return True


def max_score(db_url: str, course_id: str, assignment: str) -> float:
    Gradebook = _nbgrader()[0]
    tools_on_path()
    with Gradebook(db_url, course_id) as gb:
        return float(gb.find_assignment(assignment).max_score)


def cell_maxima(db_url: str, course_id: str, assignment: str) -> dict[str, dict[str, float]]:
    """notebook -> graded cell (grade and task cells) -> its maximum score: what a result may claim."""
    Gradebook = _nbgrader()[0]
    tools_on_path()
    with Gradebook(db_url, course_id) as gb:
        return {nb.name: {cell.name: float(cell.max_score) for cell in [*nb.grade_cells, *nb.task_cells]}
                for nb in gb.find_assignment(assignment).notebooks}
