"""``python -m autograder grade ASSIGNMENT``: every submission, on Dask workers, sandboxed, resumable.

The client (this module) finds the submissions under ``<course>/submitted/<student>/<assignment>``,
sends each Dask worker the run's :class:`~autograder.engine.task.Shared` once (a worker plugin,
:mod:`autograder.engine.worker`) and one :class:`~autograder.engine.task.Task` per submission,
at most a few per worker at a time, and alone writes the course's gradebook
(:mod:`autograder.engine.gradebook`; SQLite or PostgreSQL through nbgrader's ``db_url``),
``<course>/autograded/`` and the log of each submission, after
:func:`~autograder.engine.task.refusal` accepted the worker's result. What it graded is
remembered in ``<course>/.autograder/<assignment>/`` (:mod:`autograder.engine.records`), so a
second run, or a run after an interrupted one, grades only what is new or changed; ``force``
regrades everything.

Start-up problems are said once, before any submission: every worker first starts its test kernel
exactly as grading will (:mod:`autograder.engine.startup`); when one cannot, the run stops with
the kernel's own words (:class:`StartupFailed`) instead of failing every student.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm
from traitlets.config import PyFileConfigLoader

from autograder.course import COURSE, read
from autograder.engine import gradebook
from autograder.engine.cluster import ALLOWED_FAILURES, Where, grading_client
from autograder.engine.files import read_regular_files
from autograder.engine.records import STATE, Outcome, done_before, fingerprint, finish, submissions
from autograder.engine.sandbox import MAX_WORKERS, Limits, SandboxUnavailable, unavailable_reason
from autograder.engine.startup import WARM_TIMEOUT, StartupFailed
from autograder.engine.task import Result, Shared, Task, refusal

__all__ = ["Options", "grade_assignment", "grade_course", "collect"]

IN_FLIGHT = 2  # tasks per worker sent ahead: a worker never waits for the client to record a result


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
    scheduler: str | None = None  # a Dask scheduler's address; None: the course config's, else local


def _course_config(course: Path):
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def _where(config, options: Options) -> Where:
    """The cluster: ``--scheduler`` first, then ``c.Grading.scheduler``, else a LocalCluster."""
    section = config.Grading
    return Where(workers=options.workers, scheduler=options.scheduler or section.get("scheduler") or None,
                 tls_ca_file=section.get("tls_ca_file"), tls_cert=section.get("tls_cert"),
                 tls_key=section.get("tls_key"))


def _describe(config, options: Options, where: Where) -> str:
    """Which cluster, which isolation and which limits apply (the course config's, then the options')."""
    traits = {name: config.SandboxedExecute.get(name, default) for name, default in
              [("memory_limit", Limits.memory), ("process_limit", Limits.processes),
               ("file_size_limit", Limits.file_size), ("tmp_size", Limits.tmp_size)]} | options.limits
    names = ("memory_limit", "process_limit", "file_size_limit", "tmp_size")
    limits = Limits(*(traits[name] for name in names))
    how = ("bubblewrap sandbox, one unprivileged uid per kernel" if options.sandbox
           else "NO SANDBOX (--no-sandbox): limits only")
    return f"{where.describe()}; {how}; per kernel: {limits.describe()}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def collect(future, task: Task, shared: Shared) -> Result:  # noqa: ANN001  (a distributed.Future)
    """The worker's result for ``task``, or a FAILED one saying why there is none."""
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        return Result(task.student, shared.assignment, problems=[
            f"its grading worker died {ALLOWED_FAILURES + 1} times while grading it (the cluster's "
            f"allowed-failures is {ALLOWED_FAILURES}); nothing was recorded from those tries"])
    except Exception as error:  # the task itself failed: a bug or a lost cluster, never the student's
        return Result(task.student, shared.assignment,
                      problems=[f"the grading task failed: {type(error).__name__}: {str(error)[:200]}"])


def _shared(course: Path, assignment: str, template: Path, course_id: str, options: Options,
            watchdog: float) -> Shared:
    return Shared(
        run=uuid.uuid4().hex[:12], assignment=assignment, course_id=course_id,
        config=(course / "nbgrader_config.py").read_text(), template=template.read_bytes(),
        source=read_regular_files(course / "source" / assignment, skip_suffix=".ipynb")[0],
        notebooks=_kernels(course, assignment, template, course_id), isolate=options.sandbox,
        timeout=options.timeout, limits=dict(options.limits), protect=(str(course),), watchdog=watchdog)


def _check_started(client, shared: Shared, workers: int | None) -> None:  # noqa: ANN001
    """Every worker's test kernel has started; else :class:`StartupFailed` with the first reason."""
    from autograder.engine.worker import warm_problem

    if workers:
        client.wait_for_workers(workers, timeout=WARM_TIMEOUT)
    addresses = list(client.scheduler_info(n_workers=-1)["workers"])
    checks = [client.submit(warm_problem, shared.run, workers=[a], allow_other_workers=False, pure=False,
                            key=f"warm-{shared.run}-{i}") for i, a in enumerate(addresses)]
    for check in checks:
        try:
            problem = check.result(timeout=WARM_TIMEOUT)
        except Exception as error:  # the worker died while starting
            problem = f"the grading worker died while starting ({type(error).__name__}: {error})"
        if problem:
            raise StartupFailed(f"a grading kernel cannot start, so no submission was graded: {problem}")


def _sort(course: Path, assignment: str, chosen: list[str], found: dict[str, Path], salt: str, force: bool,
          db_url: str, course_id: str, top: float) -> tuple[dict[str, Outcome], deque[tuple[str, str]]]:
    """Outcomes known without grading (no folder: FAILED; graded before, unchanged), and the
    (student, fingerprint) pairs left to grade."""
    outcomes: dict[str, Outcome] = {}
    pending: deque[tuple[str, str]] = deque()
    for student in chosen:
        if student not in found:
            missing = Result(student, assignment,
                             problems=[f"no submission folder submitted/{student}/{assignment}"])
            outcomes[student] = finish(course, missing, "", db_url, course_id, top)
            continue
        mark = fingerprint(found[student], salt)
        earlier = None if force else done_before(course, assignment, student, mark, db_url, course_id)
        if earlier is not None:
            outcomes[student] = earlier
        else:
            pending.append((student, mark))
    return outcomes, pending


def _accepted(client, result: Result, task: Task, shared: Shared,  # noqa: ANN001
              maxima: dict[str, dict[str, float]]) -> Result:
    """``result`` as the client records it: refused results become FAILED ones; a hung worker is
    restarted; a worker whose kernel cannot start stops the run."""
    if isinstance(result, Result) and result.startup:
        raise StartupFailed(f"a grading kernel cannot start, so no submission was graded: {result.startup}")
    if isinstance(result, Result) and result.hung:
        client.restart_workers([result.worker], raise_for_error=False)
    if problem := refusal(result, task, shared, maxima):
        return Result(task.student, shared.assignment,
                      problems=[f"the worker's result was refused: {problem}"])
    return result


def _dispatch(client, shared: Shared, pending: deque[tuple[str, str]], found: dict[str, Path],  # noqa: ANN001
              maxima: dict[str, dict[str, float]], record, progress: bool) -> None:  # noqa: ANN001
    """Grade ``pending`` on the cluster: a few tasks per worker in flight, each result recorded
    (``record(result, mark)``) as it arrives, the next task sent in its place."""
    from distributed import as_completed

    from autograder.engine.worker import grade

    window = IN_FLIGHT * max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    bar = tqdm(total=len(pending), desc=f"grade {shared.assignment}", unit="submission", file=sys.stdout,
               disable=not progress)
    sent: dict[str, tuple[Task, str]] = {}
    numbers = itertools.count()
    running = as_completed(loop=client.loop)

    def send() -> None:
        student, mark = pending.popleft()
        files, notes = read_regular_files(found[student])  # read now: memory holds a window of submissions
        task = Task(student, files, tuple(notes))
        future = client.submit(grade, task, shared.run, pure=False, key=f"grade-{shared.run}-{next(numbers)}")
        sent[future.key] = (task, mark)
        running.add(future)

    for _ in range(min(window, len(pending))):
        send()
    for future in running:
        task, mark = sent.pop(future.key)
        result = _accepted(client, collect(future, task, shared), task, shared, maxima)
        future.release()
        record(result, mark)
        bar.update(1)
        bar.set_postfix_str(task.student)
        if pending:
            send()
    bar.close()


def grade_assignment(assignment: str, course: Path = COURSE, options: Options | None = None) -> list[Outcome]:
    """Grade every (chosen) submission of ``assignment``; return one outcome per student.

    Raises:
        SandboxUnavailable: sandboxing was asked for and cannot work here (the message says why).
        StartupFailed: a grading kernel cannot start (the message quotes it); nothing was graded.
        SystemExit: the gradebook does not know the assignment.
    """
    from autograder.engine.worker import GradingPlugin

    options = options or Options()
    course = course.resolve()
    if not 1 <= options.workers <= MAX_WORKERS:
        raise ValueError(f"grade_assignment: workers must be in 1..{MAX_WORKERS}, got {options.workers}")
    if options.sandbox and (reason := unavailable_reason()):
        raise SandboxUnavailable(reason)
    config = _course_config(course)
    where = _where(config, options)
    db_url = config.CourseDirectory.get("db_url", f"sqlite:///{course / 'gradebook.db'}")
    course_id = config.CourseDirectory.get("course_id", "default_course")
    found = submissions(course, assignment)
    if options.progress:
        print(f"grade {assignment}: {_describe(config, options, where)}")
    chosen = options.students if options.students is not None else list(found)
    salt = json.dumps(
        [options.timeout, options.limits, options.sandbox, (course / "nbgrader_config.py").read_text()]
    )
    scratch = Path(tempfile.mkdtemp(prefix="cnncourse-grade-"))
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:  # `kill` ends a run like Ctrl-C: workers stopped, finished submissions kept
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        template = scratch / "template.db"
        gradebook.make_template(db_url, course_id, assignment, template, cache=course / STATE / ".templates")
        top = gradebook.max_score(f"sqlite:///{template}", course_id, assignment)
        maxima = gradebook.cell_maxima(f"sqlite:///{template}", course_id, assignment)
        # Every notebook has its own wall limit; a worker busy for longer than all of them is stuck.
        watchdog = config.SandboxedExecute.get("notebook_timeout", 900) * max(1, len(maxima)) + 300
        outcomes, pending = _sort(course, assignment, chosen, found, salt, options.force, db_url,
                                  course_id, top)
        if pending:
            if not where.scheduler:
                where = Where(workers=min(where.workers, len(pending)))
            plugin = GradingPlugin(_shared(course, assignment, template, course_id, options, watchdog))
            # A local cluster's workers start with the run's plugin: their test kernels warm up while the
            # cluster starts. An existing cluster's workers get it now and forget it at the end.
            with grading_client(where, plugins=() if where.scheduler else (plugin,)) as client:
                if where.scheduler:
                    client.register_plugin(plugin)
                try:
                    _check_started(client, plugin.shared, None if where.scheduler else where.workers)

                    def record(result: Result, mark: str) -> None:
                        outcomes[result.student] = finish(course, result, mark, db_url, course_id, top)

                    _dispatch(client, plugin.shared, pending, found, maxima, record, options.progress)
                finally:
                    if where.scheduler:
                        client.unregister_worker_plugin(plugin.name)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
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
    scheduler: str | None = None,
) -> list[Outcome]:
    """:func:`grade_assignment` with the command line's flags as keywords (no progress bar)."""
    options = Options(workers=workers, students=students, force=force, sandbox=sandbox, progress=False,
                      scheduler=scheduler)
    return grade_assignment(assignment, Path(course), options)
