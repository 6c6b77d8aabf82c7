"""``python -m autograder grade ASSIGNMENT``: every submission, N at a time, sandboxed, resumable.

The parent process finds the submissions under ``<course>/submitted/<student>/<assignment>``,
hands them to N long-lived workers (:mod:`autograder.engine.worker`; each autogrades in a private
course copy with its own SQLite gradebook and its own sandbox uid), and alone writes the course's
gradebook (:mod:`autograder.engine.gradebook`; SQLite or PostgreSQL through nbgrader's ``db_url``) and
``<course>/autograded/``. What it graded is remembered in ``<course>/.autograder/<assignment>/``
(a fingerprint of each submitted folder), so a second run, or a run after an interrupted one,
grades only what is new or changed; ``force`` regrades everything.

Start-up problems are said once, before any submission: every worker first starts its test kernel
exactly as grading will (:mod:`autograder.engine.startup`); when one cannot, the run stops with
the kernel's own words (:class:`StartupFailed`) instead of failing every student.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm
from traitlets.config import PyFileConfigLoader

from autograder.course import COURSE, read
from autograder.engine import gradebook
from autograder.engine.files import copy_regular_files, regular_files
from autograder.engine.sandbox import (
    MAX_WORKERS,
    Limits,
    SandboxUnavailable,
    readonly_paths,
    run_uid,
    unavailable_reason,
)
from autograder.engine.startup import StartupFailed, check_started, warm_task
from autograder.engine.worker import WorkerProcess

__all__ = ["Outcome", "Options", "StartupFailed", "grade_assignment", "grade_course", "submissions",
           "fingerprint", "STATE"]

STATE = ".autograder"  # <course>/.autograder/<assignment>/<student>.json: what was graded


@dataclass
class Options:
    """How to grade (the command line's flags)."""

    workers: int = os.cpu_count() or 1
    students: list[str] | None = None
    force: bool = False
    sandbox: bool = True
    timeout: int | None = None  # per-cell seconds; None: the course config's Execute.timeout
    limits: dict = field(default_factory=dict)  # SandboxedExecute traits, e.g. {"memory_limit": 2 << 30}
    progress: bool = True


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


def _course_config(course: Path):
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def _state_path(course: Path, assignment: str, student: str) -> Path:
    return course / STATE / assignment / f"{student}.json"


def _done_before(
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


def _finish(
    course: Path,
    assignment: str,
    student: str,
    result: dict | None,
    mark: str,
    db_url: str,
    course_id: str,
    max_score: float,
) -> Outcome:
    """Write one worker result into the gradebook, autograded/ and the state file (parent only)."""
    if result is None:
        result = {"problems": ["the grading worker died or hung"], "notes": [], "scores": None,
                  "seconds": 0.0}
    score = gradebook.record(db_url, course_id, assignment, student, result["scores"])
    autograded = Path(result.get("autograded", ""))
    target = course / "autograded" / student / assignment
    if result["scores"] is not None and autograded.is_dir():
        shutil.rmtree(target, ignore_errors=True)
        copy_regular_files(autograded, target)
    failed = bool(result["problems"]) or result["scores"] is None
    outcome = Outcome(
        student,
        score,
        max_score,
        "FAILED" if failed else "graded",
        result["seconds"],
        "; ".join(result["problems"] + result["notes"]),
        mark,
    )
    state = _state_path(course, assignment, student)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(asdict(outcome)))
    return outcome


def _describe(config, options: Options) -> str:
    """Which isolation and which limits apply (the course config's values, then the options')."""
    traits = {name: config.SandboxedExecute.get(name, default) for name, default in
              [("memory_limit", Limits.memory), ("process_limit", Limits.processes),
               ("file_size_limit", Limits.file_size), ("tmp_size", Limits.tmp_size)]} | options.limits
    names = ("memory_limit", "process_limit", "file_size_limit", "tmp_size")
    limits = Limits(*(traits[name] for name in names))
    where = ("bubblewrap sandbox, one unprivileged uid per worker" if options.sandbox
             else "NO SANDBOX (--no-sandbox): limits only")
    return f"{options.workers} worker(s); {where}; per kernel: {limits.describe()}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def grade_assignment(assignment: str, course: Path = COURSE, options: Options | None = None) -> list[Outcome]:
    """Grade every (chosen) submission of ``assignment``; return one outcome per student.

    Raises:
        SandboxUnavailable: sandboxing was asked for and cannot work here (the message says why).
        StartupFailed: a grading kernel cannot start (the message quotes it); nothing was graded.
        SystemExit: the gradebook does not know the assignment.
    """
    options = options or Options()
    course = course.resolve()
    if not 1 <= options.workers <= MAX_WORKERS:
        raise ValueError(f"grade_assignment: workers must be in 1..{MAX_WORKERS}, got {options.workers}")
    if options.sandbox and (reason := unavailable_reason()):
        raise SandboxUnavailable(reason)
    config = _course_config(course)
    db_url = config.CourseDirectory.get("db_url", f"sqlite:///{course / 'gradebook.db'}")
    course_id = config.CourseDirectory.get("course_id", "default_course")
    found = submissions(course, assignment)
    if options.progress:
        print(f"grade {assignment}: {_describe(config, options)}")
    chosen = options.students if options.students is not None else list(found)
    salt = json.dumps(
        [options.timeout, options.limits, options.sandbox, (course / "nbgrader_config.py").read_text()]
    )
    scratch = Path(tempfile.mkdtemp(prefix="cnncourse-grade-"))
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:  # `kill` ends a run like Ctrl-C: workers stopped, finished submissions kept
        previous = signal.signal(signal.SIGTERM, _interrupt)
    os.chmod(scratch, 0o755)
    outcomes: dict[str, Outcome] = {}
    workers: list[WorkerProcess] = []
    started: list[WorkerProcess] = []
    try:
        readonly = list(readonly_paths(protect=course)) if options.sandbox else []
        # Workers start now and start their test kernels: that overlaps with the preparation below.
        started += [WorkerProcess(slot, scratch / f"worker-{slot}.log")
                    for slot in range(min(options.workers, max(1, len(chosen))))]
        workers.extend(started)
        warm = warm_task(assignment, course, options.sandbox, readonly, options.timeout, options.limits)
        warming = [w for w in started if w.send(dict(warm, private=str(scratch / "w" / str(w.slot))))]
        template = scratch / "template.db"
        gradebook.make_template(db_url, course_id, assignment, template, cache=course / STATE / ".templates")
        top = gradebook.max_score(f"sqlite:///{template}", course_id, assignment)
        notebooks = _kernels(course, assignment, template, course_id)
        pending = queue.Queue()
        for student in chosen:
            if student not in found:
                result = {
                    "problems": [f"no submission folder submitted/{student}/{assignment}"],
                    "notes": [],
                    "scores": None,
                    "seconds": 0.0,
                }
                outcomes[student] = _finish(course, assignment, student, result, "", db_url, course_id, top)
                continue
            mark = fingerprint(found[student], salt)
            earlier = (
                None if options.force else _done_before(course, assignment, student, mark, db_url, course_id)
            )
            if earlier is not None:
                outcomes[student] = earlier
            else:
                pending.put((student, mark))
        check_started(started, warming)
        base = {
            "assignment": assignment,
            "config_dir": str(course),
            "template": str(template),
            "source": str(course / "source" / assignment),
            "notebooks": notebooks,
            "isolate": options.sandbox,
            "readonly": readonly,
            "timeout": options.timeout,
            "limits": options.limits,
        }
        # Every notebook has its own wall limit; a worker silent for longer than all of them is stuck.
        watchdog = config.SandboxedExecute.get("notebook_timeout", 900) * max(1, len(notebooks)) + 300
        lock = threading.Lock()
        numbers = itertools.count()  # next() is atomic under the GIL
        bar = tqdm(
            total=pending.qsize(),
            desc=f"grade {assignment}",
            unit="submission",
            file=sys.stdout,
            disable=not options.progress,
        )

        def serve(slot: int) -> None:
            worker = workers[slot]
            while True:
                try:
                    student, mark = pending.get_nowait()
                except queue.Empty:
                    return
                task = dict(
                    base,
                    student=student,
                    submitted=str(found[student]),
                    uid=run_uid(next(numbers)),
                    # Short: socket paths inside it must stay under the 107-byte limit of Unix sockets.
                    private=str(scratch / "w" / str(slot)),
                )
                result = worker.run(task, timeout=watchdog)
                if result is None:  # the worker died or hung: record it and start a fresh one
                    worker.stop()
                    worker = workers[slot] = WorkerProcess(slot, scratch / f"worker-{slot}.log")
                with lock:
                    outcomes[student] = _finish(
                        course, assignment, student, result, mark, db_url, course_id, top
                    )
                    shutil.rmtree(scratch / "w" / str(slot), ignore_errors=True)
                    bar.update(1)
                    bar.set_postfix_str(student)

        workers = workers[: max(1, min(len(workers), pending.qsize()))]
        for spare in started[len(workers):]:
            spare.stop()
        threads = [threading.Thread(target=serve, args=(slot,), daemon=True) for slot in range(len(workers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
        bar.close()
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        for worker in {id(w): w for w in [*started, *workers]}.values():
            worker.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return [outcomes[s] for s in chosen if s in outcomes]


def _kernels(course: Path, assignment: str, template: Path, course_id: str) -> dict[str, str]:
    """notebook name -> the kernel its source asks for (python3 when unknown)."""
    from nbgrader.api import Gradebook

    kernels = {}
    with Gradebook(f"sqlite:///{template}", course_id) as gb:
        for nb in gb.find_assignment(assignment).notebooks:
            spec = json.loads(nb.kernelspec) if nb.kernelspec else {}
            kernels[nb.name] = spec.get("name", "python3")
    for name in kernels:
        path = course / "source" / assignment / f"{name}.ipynb"
        if kernels[name] == "python3" and path.exists():
            kernels[name] = read(path).metadata.get("kernelspec", {}).get("name", "python3")
    return kernels


def grade_course(
    course: Path,
    assignment: str,
    workers: int = os.cpu_count() or 1,
    students: list[str] | None = None,
    force: bool = False,
    sandbox: bool = True,
) -> list[Outcome]:
    """:func:`grade_assignment` with the command line's flags as keywords (no progress bar)."""
    options = Options(workers=workers, students=students, force=force, sandbox=sandbox, progress=False)
    return grade_assignment(assignment, Path(course), options)
