"""Grade a hostile batch (plain ``nbgrader autograde`` or ``python -m autograder grade``) and read it back."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograder.course import ROOT
from autograder.engine.records import STATE
from autograder.gates.hostile.corpus import Case, Context, floor, test_order_of, twins, write
from autograder.gates.students import Student
from autograder.gates.workspace import NbgraderFailed, Workspace, tools_on_path

TARGET = "HOSTILE_TARGET"  # the marker file that attacks.FIND_COURSES looks for before writing

__all__ = ["TARGET", "Outcome", "Batch", "listener", "prepare", "grade_plain", "grade_engine", "outcomes",
           "fair"]


@dataclass
class Outcome:
    """What the gradebook (and the grader's log) says about one student."""

    score: float | None  # None: no gradebook row
    cells: dict[str, float]
    autograded: list[Path]
    feedback: list[Path]
    status: str = ""  # the engine's status and reason (from its state file), "" with plain nbgrader


@dataclass
class Batch:
    """One graded batch: the grader's exit status and log, and each student's outcome."""

    returncode: int
    log: str
    max_score: float
    results: dict[str, Outcome]


@contextlib.contextmanager
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on 127.0.0.1 that records what any connection sends; yields (port, received)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(1)
                with contextlib.suppress(OSError):
                    received.append(connection.recv(100) or b"<connected>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], received
    finally:
        stop.set()
        thread.join()
        server.close()


def prepare(ws: Workspace, assignment: str, hostile: list[Case], port: int) -> dict[str, Student]:
    """Release ``assignment`` in ``ws`` and write its honest and hostile submissions."""
    marker = ws.course / TARGET
    if not marker.exists():  # write attacks of autograder.gates.hostile aim only at this course copy
        marker.write_text(secrets.token_hex(8))
    ws.nbgrader("generate_assignment", assignment, "--force")
    honest = twins(ws, assignment)
    write(Context(ws, assignment, port, marker.read_text()), honest, hostile)
    return honest


def grade_plain(ws: Workspace, assignment: str) -> tuple[int, str]:
    """``nbgrader autograde`` as course/README.md tells instructors (the "before" column)."""
    try:
        return 0, ws.nbgrader("autograde", assignment, "--force")
    except NbgraderFailed as error:
        return 1, str(error)


def grade_engine(ws: Workspace, assignment: str, workers: int = 2, *extra: str) -> tuple[int, str]:
    """``python -m autograder grade ASSIGNMENT --workers N --course <copy> --force``."""
    tools_on_path()
    command = [sys.executable, "-m", "autograder", "grade", assignment, "--workers", str(workers),
               "--course", str(ws.course), "--force", *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    log = done.stdout + done.stderr
    (ws.root / f"grade-{assignment}.log").write_text(log)
    return done.returncode, log


def outcomes(ws: Workspace, assignment: str, names: list[str], returncode: int, log: str,
             db_url: str | None = None) -> Batch:
    """Read each student's score and test-cell points back from the gradebook (``ws``'s SQLite one
    unless ``db_url`` names another)."""
    tools_on_path()
    results = {}
    with Gradebook(db_url or ws.db_url) as gradebook:
        max_score = float(gradebook.find_assignment(assignment).max_score)
        for name in names:
            try:
                submission = gradebook.find_submission(assignment, name)
                score = float(submission.score)
                grades = {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}
            except MissingEntry:
                score, grades = None, {}
            state = ws.course / STATE / assignment / f"{name}.json"
            status = json.loads(state.read_text()) if state.exists() else {}
            results[name] = Outcome(score, grades,
                                    sorted(ws.path("autograded", name, assignment).glob("*.ipynb")),
                                    sorted(ws.path("feedback", name, assignment).glob("*.html")),
                                    f"{status.get('status', '')} {status.get('reason', '')}".strip())
    return Batch(returncode, log, max_score, results)


def fair(ws: Workspace, assignment: str, case: Case, alone: Batch) -> tuple[float, float]:
    """(floor, fair): the twin's points before the runaway cell, and the twin's whole score."""
    twin = alone.results[case.twin]
    assert twin.score is not None, f"the honest twin {case.twin} has no grade"
    return floor(test_order_of(assignment, ws.course / "source"), case.runaway, twin.cells), twin.score
