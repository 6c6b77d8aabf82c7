"""Grading on dask.distributed (issue 20): what the client accepts from a worker, where it grades,
and that a worker killed mid-batch loses no submission and changes no grade."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from nbgrader.api import Gradebook

from autograder.course import ROOT, read
from autograder.engine.client import collect
from autograder.engine.cluster import ALLOWED_FAILURES, Where, grading_client, security
from autograder.engine.files import read_regular_files, write_files
from autograder.engine.records import STATE
from autograder.engine.task import Result, Shared, Task, refusal
from autograder.engine.worker import GradingPlugin, grade
from autograder.gates.students import Student, _submission, reference_answers
from tests.test_grade import NOTEBOOK, _course, _submit

MAXIMA = {"cross_correlation": {"test_a": 2.0, "test_b": 1.0}}
SHARED = Shared(run="r", assignment="ps1", course_id="c", config="", template=b"", source={},
                notebooks={"cross_correlation": "python3"})
TASK = Task("ada", {})


def _result(**changes) -> Result:
    scores = {"timestamp": "2025-01-06T09:00:00", "score": 3.0, "max_score": 3.0,
              "notebooks": {"cross_correlation": {"grades": {"test_a": [2.0, False], "test_b": [1.0, False]},
                                                  "comments": {}, "late_penalty": None}}}
    return Result(**{"student": "ada", "assignment": "ps1", "scores": scores,
                     "autograded": {"cross_correlation.ipynb": b"{}"}} | changes)


def _with_grade(cell: str, value: object) -> Result:
    result = _result()
    result.scores["notebooks"]["cross_correlation"]["grades"][cell] = [value, False]
    return result


# ----------------------------------------------------------------------------- what the client accepts

def test_an_honest_result_and_an_ungraded_one_are_accepted():
    assert refusal(_result(), TASK, SHARED, MAXIMA) == ""
    assert refusal(_result(scores=None, autograded={}), TASK, SHARED, MAXIMA) == ""


@pytest.mark.parametrize("result, says", [
    (_result(student="bob"), "was sent 'ada'/'ps1'"),
    (_result(assignment="ps2"), "was sent 'ada'/'ps1'"),
    ({"student": "ada"}, "not a Result"),
    (_with_grade("test_a", 2.5), "outside 0..2"),
    (_with_grade("test_b", -1.0), "outside 0..1"),
    (_with_grade("test_a", math.nan), "outside 0..2"),
    (_with_grade("test_a", math.inf), "outside 0..2"),
    (_with_grade("test_a", True), "outside 0..2"),
    (_with_grade("test_a", "2"), "outside 0..2"),
    (_with_grade("test_extra", 1.0), "no such graded cell"),
    (_result(autograded={"../../gradebook.db": b""}), "outside the submission's folder"),
    (_result(autograded={"/etc/passwd": b""}), "outside the submission's folder"),
    (_result(autograded={"a.ipynb": "text"}), "not bytes"),
])
def test_a_result_for_another_student_or_beyond_a_maximum_is_refused(result, says):
    assert says in refusal(result, TASK, SHARED, MAXIMA)


def test_a_negative_late_penalty_or_an_unknown_notebook_is_refused():
    result = _result()
    result.scores["notebooks"]["cross_correlation"]["late_penalty"] = -5.0
    assert "late penalty" in refusal(result, TASK, SHARED, MAXIMA)
    result = _result()
    result.scores["notebooks"]["solutions"] = result.scores["notebooks"]["cross_correlation"]
    assert "does not have" in refusal(result, TASK, SHARED, MAXIMA)


def test_files_travel_as_bytes_and_land_only_inside_their_folder(tmp_path):
    (tmp_path / "sub" / "data").mkdir(parents=True)
    (tmp_path / "sub" / "a.ipynb").write_text("{}")
    (tmp_path / "sub" / "data" / "x.csv").write_text("1,2")
    (tmp_path / "sub" / "link").symlink_to("/etc/passwd")
    files, notes = read_regular_files(tmp_path / "sub")
    assert files == {"a.ipynb": b"{}", "data/x.csv": b"1,2"}
    assert any("link" in note for note in notes)
    assert read_regular_files(tmp_path / "sub", skip_suffix=".ipynb")[0] == {"data/x.csv": b"1,2"}
    write_files(files, tmp_path / "copy")
    assert (tmp_path / "copy" / "data" / "x.csv").read_text() == "1,2"
    for bad in ("../escape", "/abs/path", "data/../../escape"):
        with pytest.raises(ValueError, match="not a path inside"):
            write_files({bad: b""}, tmp_path / "copy")
    assert not (tmp_path / "escape").exists()


# ----------------------------------------------------------------------------- where it grades

def test_tls_needs_all_three_files_and_a_tls_address():
    assert security(Where(scheduler="tcp://10.0.0.5:8786")) is None
    with pytest.raises(ValueError, match="tls_ca_file, tls_cert and tls_key"):
        security(Where(scheduler="tls://10.0.0.5:8786", tls_ca_file="ca.pem"))
    with pytest.raises(ValueError, match="does not start with tls://"):
        security(Where(scheduler="tcp://10.0.0.5:8786", tls_ca_file="a", tls_cert="b", tls_key="c"))


def test_the_command_line_scheduler_comes_before_the_course_configs(tmp_path):
    from traitlets.config import Config

    from autograder.engine.client import Options, _where

    config = Config()
    assert _where(config, Options(workers=3)) == Where(workers=3)
    config.Grading.scheduler = "tls://10.0.0.1:8786"
    config.Grading.tls_ca_file = "ca.pem"
    assert _where(config, Options()).scheduler == "tls://10.0.0.1:8786"
    assert _where(config, Options()).tls_ca_file == "ca.pem"
    assert _where(config, Options(scheduler="tcp://127.0.0.1:9")).scheduler == "tcp://127.0.0.1:9"


@pytest.mark.slow
def test_the_local_cluster_listens_on_loopback_and_a_task_that_keeps_killing_its_worker_fails():
    """distributed retries a task whose worker died; after ALLOWED_FAILURES deaths the client records
    a FAILED result saying so instead of waiting for ever."""
    with grading_client(Where(workers=1)) as client:
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert all(a.startswith("tcp://127.0.0.1:") for a in client.scheduler_info()["workers"])
        pids = [os.getpid(), *client.run(os.getpid).values()]
        listening = [c.laddr for pid in pids for c in psutil.Process(pid).net_connections("inet")
                     if c.status == psutil.CONN_LISTEN]
        assert listening and all(address.ip == "127.0.0.1" for address in listening), listening
        future = client.submit(os._exit, 1, pure=False)
        result = collect(future, TASK, SHARED)
    assert result.scores is None and result.student == "ada"
    assert f"died {ALLOWED_FAILURES + 1} times" in result.problems[0], result.problems


@pytest.mark.slow
def test_a_cluster_whose_close_fails_is_stopped_anyway_without_an_error(monkeypatch, caplog):
    """distributed's close can fail while a nanny restarts a worker that just died (CI saw
    ``AssertionError: can only join a started process`` after the test above). Here every nanny
    forgets its worker and then fails so: the run must still end quietly, with its worker process
    killed and its scheduler no longer listening."""
    from distributed.nanny import Nanny

    original = Nanny.close

    async def failing_close(self, *args, **kwargs):
        self.process = None  # the nanny no longer knows its worker process
        await original(self, *args, **kwargs)
        raise AssertionError("can only join a started process")

    with grading_client(Where(workers=1)) as client:
        port = int(client.scheduler.address.rsplit(":", 1)[1])
        worker = next(iter(client.run(os.getpid).values()))
        monkeypatch.setattr(Nanny, "close", failing_close)
    assert "did not stop cleanly (AssertionError: can only join a started process)" in caplog.text
    assert not psutil.pid_exists(worker) or psutil.Process(worker).status() == psutil.STATUS_ZOMBIE
    listening = [c.laddr.port for c in psutil.Process().net_connections("inet")
                 if c.status == psutil.CONN_LISTEN]
    assert port not in listening, listening


class StuckPlugin(GradingPlugin):
    """A grading thread that never finishes a submission (a grader bug, never a student's doing)."""

    def _warm_up(self) -> str:
        return ""

    def grade(self, task: Task) -> Result:
        time.sleep(8)
        return Result(task.student, self.shared.assignment)


@pytest.mark.slow
def test_a_worker_stuck_on_one_submission_answers_hung_after_the_watchdog():
    shared = Shared(**{**SHARED.__dict__, "run": "stuck", "watchdog": 1.0})
    with grading_client(Where(workers=1)) as client:
        client.register_plugin(StuckPlugin(shared))
        start = time.monotonic()
        result = client.submit(grade, TASK, "stuck", pure=False).result(timeout=20)
        assert time.monotonic() - start < 10
        assert result.hung and result.worker in client.scheduler_info()["workers"]
        assert "still busy after 1 s" in result.problems[0] and result.scores is None
        stuck = client.run(os.getpid)[result.worker]
        client.restart_workers([result.worker])  # what the client does next: a fresh worker process
        assert not psutil.pid_exists(stuck) or psutil.Process(stuck).status() == psutil.STATUS_ZOMBIE
        assert client.submit(os.getpid, pure=False).result(timeout=30) != stuck


# ----------------------------------------------------------------------------- nothing lost with a worker

def _rows(course: Path) -> dict[str, tuple[float, dict[str, float]]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        found = {}
        for submission in gradebook.assignment_submissions("ps1"):
            cells = {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}
            found[submission.student.id] = (float(submission.score), cells)
        return found


def _grading_workers(pid: int) -> list[psutil.Process]:
    """The Dask worker processes a grading client started (spawned children running Python)."""
    found = []
    for child in psutil.Process(pid).children(recursive=False):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:  # a short-lived helper that has already gone
            continue
    return found


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_no_submission_and_changes_no_grade(tmp_path):
    course = _course(tmp_path)
    release = read(course / "release" / "ps1" / NOTEBOOK)
    solution = _submission(release, Student("solution", reference_answers("ps1", course / "source")))
    students = {f"right-{i}": solution for i in range(3)} | {f"blank-{i}": release for i in range(3)}
    for name, nb in students.items():
        _submit(course, name, nb)
    command = [sys.executable, "-m", "autograder", "grade", "ps1", "--course", str(course), "--workers", "2"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    state = course / STATE / "ps1"
    deadline = time.monotonic() + 300
    while run.poll() is None and time.monotonic() < deadline and not list(state.glob("*.json")):
        time.sleep(0.1)
    workers = _grading_workers(run.pid)
    assert len(workers) == 2, [w.cmdline() for w in workers]
    workers[0].send_signal(signal.SIGKILL)  # mid-batch: one graded, the rest queued or running
    out, _ = run.communicate(timeout=600)
    assert run.returncode == 0, out[-4000:]
    rows = _rows(course)
    assert sorted(rows) == sorted(students), out[-3000:]
    full = max(score for score, _ in rows.values())
    assert {name: score for name, (score, _) in rows.items()} == {
        name: (full if name.startswith("right") else 0.0) for name in students}, out[-3000:]
    states = {p.stem: json.loads(p.read_text()) for p in state.glob("*.json")}
    assert {name: s["status"] for name, s in states.items()} == dict.fromkeys(students, "graded")
    assert all((state / f"{name}.log").read_text().strip() for name in students)
