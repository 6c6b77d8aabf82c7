"""The gradebook on a real PostgreSQL server (nbgrader's ``db_url``), graded with 2 workers.

The test starts its own server (Debian's ``postgresql``, which ``.ci/run`` installs) in a
temporary folder on 127.0.0.1 and a free port, grades a small ps1 batch (correct, wrong,
blank and a hostile submission) with ``python -m autograder grade --workers 2``, checks the
rows and scores equal those of the same batch graded into SQLite, then stops the server and
checks that none of its processes is left.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.gates.hostile.corpus import cases
from autograder.gates.hostile.run import Batch, grade_engine, listener, outcomes, prepare
from autograder.gates.workspace import workspace

pytestmark = pytest.mark.slow

HOSTILE = ("h-grading-no-ops", "h-os-exit")  # one that cheats, one whose kernel dies


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is missing: install Debian's postgresql (.ci/run does)")
    return found[-1]


def _run_as() -> dict:
    """The server refuses to run as root: when we are root, run it as the ``postgres`` user."""
    return {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _processes_using(folder: Path) -> list[int]:
    """Live processes whose command line names ``folder`` (the server and its workers)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (cmdline.parent / "stat").read_text().split(") ", 1)[1][0]
        except OSError:
            continue
        if str(folder) in text and state != "Z":
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of our own with an empty database ``gradebook``; yields its URL."""
    root = Path(tempfile.mkdtemp(prefix="cnncourse-postgres-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = _free_port()
    subprocess.run([_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "grader", "--no-sync"],
                   check=True, capture_output=True, cwd=root, **_run_as())
    server = subprocess.Popen([_bin("postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets),
                               "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root, **_run_as())
    try:
        import psycopg2

        for _ in range(100):
            try:
                connection = psycopg2.connect(host="127.0.0.1", port=port, user="grader", dbname="postgres")
                break
            except psycopg2.OperationalError:
                time.sleep(0.1)
        else:
            pytest.fail(f"the PostgreSQL server on port {port} did not accept connections within 10 s")
        connection.autocommit = True
        connection.cursor().execute("CREATE DATABASE gradebook")
        connection.close()
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/gradebook"
    finally:
        server.send_signal(signal.SIGINT)  # "fast shutdown": disconnect clients, stop cleanly
        server.wait(timeout=60)
        left = _processes_using(data)
        shutil.rmtree(root, ignore_errors=True)
        assert not left, f"PostgreSQL processes {left} outlived the server"


def _graded(db_url: str | None) -> Batch:
    """The small batch graded into ``db_url`` (None: the course copy's SQLite gradebook)."""
    hostile = [c for c in cases("ps1") if c.name in HOSTILE]
    with listener() as (port, _), workspace(["ps1"], timeout=15) as ws:
        if db_url is not None:
            with (ws.course / "nbgrader_config.py").open("a") as config:
                config.write(f"c.CourseDirectory.db_url = {db_url!r}\n")
        honest = prepare(ws, "ps1", hostile, port)
        names = [*honest, *(c.name for c in hostile)]
        code, log = grade_engine(ws, "ps1", 2)
        return outcomes(ws, "ps1", names, code, log, db_url=db_url)


@pytest.fixture(scope="module")
def both(postgres_url: str) -> tuple[Batch, Batch]:
    return _graded(postgres_url), _graded(None)


def test_every_submission_has_a_postgres_row(both):
    postgres, _ = both
    missing = [name for name, result in postgres.results.items() if result.score is None]
    assert not missing, f"no PostgreSQL gradebook row for {missing}; grader log:\n{postgres.log[-3000:]}"


def test_postgres_scores_and_cells_equal_sqlite(both):
    postgres, sqlite = both
    assert postgres.max_score == sqlite.max_score
    differ = {name: (postgres.results[name].score, sqlite.results[name].score)
              for name in sqlite.results
              if (postgres.results[name].score, postgres.results[name].cells)
              != (sqlite.results[name].score, sqlite.results[name].cells)}
    assert not differ, f"student: (PostgreSQL, SQLite) scores differ: {differ}"


def test_correct_submission_gets_full_marks_in_postgres(both):
    postgres, _ = both
    assert postgres.results["a-solution"].score == postgres.max_score
    assert postgres.results["s-blank"].score == 0
