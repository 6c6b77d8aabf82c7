"""Grading across machines (issue 20), on loopback: a Dask scheduler and two workers started as
separate commands (``dask scheduler``, ``dask worker``), over TLS, into a real PostgreSQL gradebook.

The test makes a certificate authority and one certificate with ``openssl``, starts its own
PostgreSQL server (Debian's ``postgresql``, which ``.ci/run`` installs) in a temporary folder on
127.0.0.1 and a free port, then a ``tls://`` scheduler and two workers, each in its own temporary
folder that is not the course: they get the submissions only through their tasks. A small ps1
batch (correct, wrong, blank and hostile submissions) is graded with ``python -m autograder grade``
on that cluster into PostgreSQL, and the same batch with the default LocalCluster into SQLite:
rows and cell scores must be equal. Afterwards no process of the server or the cluster is left.
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

from autograder.engine.cluster import Where, commands_cluster, security
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


def _certificates(folder: Path) -> dict[str, str]:
    """A throw-away certificate authority and one certificate for 127.0.0.1 signed by it."""
    folder.mkdir()
    ca, key, cert = folder / "ca.pem", folder / "node.key", folder / "node.pem"
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl = shutil.which("openssl") or pytest.fail("openssl is missing: install Debian's openssl "
                                                      "(.ci/run does)")
    for command in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", str(ca), "-days", "2",
         "-subj", "/CN=cnncourse test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", "node.csr",
         "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", "node.csr", "-CA", str(ca), "-CAkey", "ca.key", "-CAcreateserial", "-out",
         str(cert), "-days", "2", "-extfile", "san.cnf"],
    ):
        subprocess.run([openssl, *command], cwd=folder, check=True, capture_output=True)
    return {"tls_ca_file": str(ca), "tls_cert": str(cert), "tls_key": str(key)}


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[dict[str, str]]:
    """``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 over TLS, each in its own
    temporary folder; yields the course config's ``c.Grading`` settings."""
    from distributed import Client

    root = Path(tempfile.mkdtemp(prefix="cnncourse-dask-"))
    tls = _certificates(root / "tls")
    try:
        with commands_cluster(root / "cluster", workers=2, tls=tls) as address:
            with Client(address, security=security(Where(scheduler=address, **tls)), timeout=60) as client:
                assert all(w.startswith("tls://127.0.0.1:") for w in client.scheduler_info()["workers"])
            with pytest.raises(OSError):  # without the certificates the scheduler does not talk
                Client(address.replace("tls://", "tcp://"), timeout=5)
            yield {"scheduler": address, **tls}
    finally:
        left = _processes_using(root)
        shutil.rmtree(root, ignore_errors=True)
        assert not left, f"Dask processes {left} outlived the cluster"


def _graded(db_url: str | None, grading: dict[str, str] | None = None) -> Batch:
    """The small batch graded into ``db_url`` (None: the course copy's SQLite gradebook), on the
    cluster ``grading`` names (None: the default LocalCluster of 2 workers)."""
    hostile = [c for c in cases("ps1") if c.name in HOSTILE]
    with listener() as (port, _), workspace(["ps1"], timeout=15) as ws:
        with (ws.course / "nbgrader_config.py").open("a") as config:
            if db_url is not None:
                config.write(f"c.CourseDirectory.db_url = {db_url!r}\n")
            for name, value in (grading or {}).items():
                config.write(f"c.Grading.{name} = {value!r}\n")
        honest = prepare(ws, "ps1", hostile, port)
        names = [*honest, *(c.name for c in hostile)]
        code, log = grade_engine(ws, "ps1", 2)
        return outcomes(ws, "ps1", names, code, log, db_url=db_url)


@pytest.fixture(scope="module")
def both(postgres_url: str, tls_cluster: dict[str, str]) -> tuple[Batch, Batch]:
    return _graded(postgres_url, tls_cluster), _graded(None)


def test_the_cluster_graded_over_tls_and_the_local_run_did_not(both, tls_cluster):
    cluster, local = both
    assert f"the Dask cluster at {tls_cluster['scheduler']}" in cluster.log, cluster.log[-2000:]
    assert "2 local Dask worker process(es)" in local.log, local.log[-2000:]


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
