"""A Dask worker's side of grading: the run's plugin, and one submission autograded in a private course.

The client registers a :class:`GradingPlugin` carrying the run's :class:`~autograder.engine.task.Shared`
(one copy per worker). Its ``setup`` makes a private course folder on the worker's machine (the
course config, the template gradebook, the assignment's data files), starts one grading thread
and, in it, the test kernel exactly as grading will start it (:mod:`autograder.engine.startup`).
Each :func:`grade` task hands its :class:`~autograder.engine.task.Task` to that thread, which
runs nbgrader's ``Autograde`` converter in-process with
:class:`autograder.engine.execute.SandboxedExecute` in place of nbgrader's Execute step, and
answers with a :class:`~autograder.engine.task.Result`. One thread per worker keeps the test
kernel (and the event loop it is bound to) alive between submissions. Student code runs only in
the sandboxed kernels, never in a Dask process.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from distributed import WorkerPlugin, get_worker
from traitlets.config import Config, PyFileConfigLoader

from autograder.engine.files import read_regular_files, write_files
from autograder.engine.sandbox import SandboxUnavailable, readonly_paths, run_uid
from autograder.engine.submission import check_notebooks, clean_notebooks, clean_timestamp, stopped_cells
from autograder.engine.task import Result, Shared, Task

__all__ = ["GradingPlugin", "grade", "warm_problem", "plugin_name", "task_config", "MAX_LOG_LINE",
           "MAX_LOG_LINES"]

MAX_LOG_LINE = 2000  # characters of one log record (they may quote student output)
MAX_LOG_LINES = 400  # log records one result carries (the last ones)


def plugin_name(run: str) -> str:
    """The worker plugin's name for grading run ``run``."""
    return f"cnncourse-grading-{run}"


def task_config(shared: Shared, course: Path, student: str, uid: int, readonly: tuple[str, ...],
                scratch: Path) -> Config:
    """nbgrader's configuration for grading ``student`` in the private course copy ``course``."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from autograder.engine.execute import SandboxedExecute

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.CourseDirectory.assignment_id = shared.assignment
    config.CourseDirectory.student_id = student
    config.Autograde.create_student = True
    steps = list(
        config.Autograde.get(
            "autograde_preprocessors", Autograde.class_traits()["autograde_preprocessors"].default()
        )
    )
    config.Autograde.autograde_preprocessors = [
        SandboxedExecute if step in (Execute, "nbgrader.preprocessors.Execute") else step for step in steps
    ]
    if shared.timeout:
        config.Execute.timeout = shared.timeout
    sandbox = config.SandboxedExecute
    sandbox.isolate = shared.isolate
    sandbox.uid = uid
    sandbox.readonly = os.pathsep.join(readonly)
    sandbox.scratch = str(scratch)
    for name, value in shared.limits.items():
        setattr(sandbox, name, value)
    return config


def _clip(text: str) -> str:
    if len(text) <= MAX_LOG_LINE:
        return text
    return f"{text[:MAX_LOG_LINE]} [... {len(text) - MAX_LOG_LINE} characters]"


class _Log(logging.Handler):
    """Collects one submission's log records (clipped: a record may quote student output) and the
    last line of each error (nbgrader's exceptions only say "see above")."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage().strip()
        self.lines.append(_clip(f"[{record.levelname}] {text}"))
        del self.lines[:-MAX_LOG_LINES]
        if record.levelno >= logging.ERROR and text:
            self.errors.append(text.splitlines()[-1][:160])

    def cause(self) -> str:
        """The first logged error that is not nbgrader's generic summary."""
        generic = ("There was an error processing", "Please see the", "Removing failed")
        return next((line for line in self.errors if not line.startswith(generic)), "")


_LOGGERS = ("traitlets", "autograder")  # nbgrader's converter logs through traitlets' logger


def _collecting() -> tuple[_Log, list[tuple[logging.Logger, int, bool]]]:
    handler = _Log()
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.setLevel(logging.INFO)
        logger.propagate = False  # into the result, not the worker's own log
        logger.addHandler(handler)
    return handler, saved


def _restore(handler: _Log, saved: list[tuple[logging.Logger, int, bool]]) -> None:
    for logger, level, propagate in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


class GradingPlugin(WorkerPlugin):
    """One grading run's state on one Dask worker: a private course, a grading thread, a test kernel."""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.name = plugin_name(shared.run)

    # ------------------------------------------------------------------ lifetime (worker's event loop)
    def setup(self, worker) -> None:  # noqa: ANN001  (a distributed.Worker)
        self.address = worker.address
        # Short: Unix socket paths inside it must stay under 107 bytes.
        self.private = Path(tempfile.mkdtemp(prefix="cnncourse-w-"))
        os.chmod(self.private, 0o755)  # sandbox uids traverse it to their kernels' socket folders
        self.course = self.private / "course"
        self.numbers = itertools.count()
        self.readonly: tuple[str, ...] = ()
        self.thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="cnncourse-grading")
        self.warm = self.thread.submit(self._warm_up)

    def teardown(self, worker) -> None:  # noqa: ANN001
        from autograder.engine.test_kernel import kill_kept

        self.thread.submit(kill_kept)
        self.thread.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.private, ignore_errors=True)

    # ------------------------------------------------------------------ in the grading thread
    def _warm_up(self) -> str:
        """Write the private course and start the test kernel as grading will ("" or why it cannot)."""
        from autograder.engine.execute import SandboxedExecute
        from autograder.engine.startup import unreachable

        shared = self.shared
        self.course.mkdir()
        (self.course / "nbgrader_config.py").write_text(shared.config)
        write_files(shared.source, self.course / "source" / shared.assignment)
        try:
            if shared.isolate:
                protect = next((Path(p) for p in shared.protect if Path(p).exists()), None)
                self.readonly = readonly_paths(protect=protect)
                if problem := unreachable(self.readonly):
                    return problem
            scratch = self.private / "warm"
            scratch.mkdir()
            config = task_config(shared, self.course, "", run_uid(next(self.numbers)), self.readonly, scratch)
            return SandboxedExecute(config=config).warm_test_kernel()
        except SandboxUnavailable as error:
            return str(error)
        except Exception as error:  # the configuration itself is broken
            return _clip(f"{type(error).__name__}: {error}")

    def grade(self, task: Task) -> Result:
        """Autograde ``task``; never raises (a failure is a problem with a reason)."""
        shared = self.shared
        result = Result(task.student, shared.assignment, worker=self.address)
        if problem := self.warm.result():
            result.startup = problem
            return result
        start = time.perf_counter()
        number = next(self.numbers)
        for folder in ("submitted", "autograded", "feedback"):
            shutil.rmtree(self.course / folder, ignore_errors=True)
        (self.course / "gradebook.db").write_bytes(shared.template)
        scratch = self.private / f"s{number}"
        scratch.mkdir()
        folder = self.course / "submitted" / task.student / shared.assignment
        handler, saved = _collecting()
        try:
            write_files(task.files, folder)
            problems, notes = check_notebooks(folder, shared.notebooks)
            # student HTML, sizes, metadata: cleaned before anything runs
            result.problems = problems
            result.notes = notes + clean_notebooks(folder) + clean_timestamp(folder) + list(task.notes)
            self._autograde(task.student, result, run_uid(number), scratch, handler)
        except Exception as error:  # a bug of the grader's; the submission is FAILED, not lost
            logging.getLogger("autograder").error("%s", traceback.format_exc())
            result.problems.append(f"the grader failed: {type(error).__name__}: {str(error)[:160]}")
        finally:
            _restore(handler, saved)
            shutil.rmtree(scratch, ignore_errors=True)
        result.log = handler.lines
        result.seconds = time.perf_counter() - start
        return result

    def _autograde(self, student: str, result: Result, uid: int, scratch: Path, log: _Log) -> None:
        from nbgrader.converters import Autograde
        from nbgrader.coursedir import CourseDirectory

        from autograder.engine.gradebook import quiet_new_submission, read_scores

        try:
            config = task_config(self.shared, self.course, student, uid, self.readonly, scratch)
            converter = Autograde(coursedir=CourseDirectory(config=config), config=config)
            converter.force = True
            with quiet_new_submission():  # Autograde makes the submission's row with add_submission
                converter.start()
            result.scores = read_scores(config.CourseDirectory.db_url, self.shared.assignment, student)
        except Exception as error:  # nbgrader raises NbGraderException after logging the cause
            logging.getLogger("autograder").error("%s", traceback.format_exc())
            cause = log.cause() or f"{type(error).__name__}: {str(error)[:120]}"
            result.problems.append(f"nbgrader failed: {cause}")
            return
        autograded = self.course / "autograded" / student / self.shared.assignment
        result.notes += stopped_cells(autograded)
        result.autograded = read_regular_files(autograded)[0]


# ---------------------------------------------------------------------- Dask tasks (worker's task thread)
def _plugin(run: str) -> GradingPlugin:
    return get_worker().plugins[plugin_name(run)]


def warm_problem(run: str) -> str:
    """Why this worker's test kernel cannot start ("" when it started)."""
    return _plugin(run).warm.result()


def grade(task: Task, run: str) -> Result:
    """The Dask task: grade ``task`` in this worker's grading thread (see :class:`GradingPlugin`)."""
    plugin = _plugin(run)
    future = plugin.thread.submit(plugin.grade, task)
    try:
        return future.result(timeout=plugin.shared.watchdog)
    except concurrent.futures.TimeoutError:
        return Result(task.student, plugin.shared.assignment, worker=plugin.address, hung=True,
                      problems=[f"the grading worker was still busy after {plugin.shared.watchdog:g} s "
                                "(every notebook's time limit, and more); it is restarted"])
