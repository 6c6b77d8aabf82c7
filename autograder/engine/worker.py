"""A grading worker: autogrades one submission at a time in a private course copy.

``python -m autograder.engine.worker`` reads one JSON task per line on stdin and answers one JSON line
per task on its original stdout (nbgrader's log goes to stderr, every line clipped). A task with
``"warm": true`` comes first: the worker starts its test kernel the way grading will and answers
``{"problem": ""}`` or why that kernel cannot start (:func:`autograder.engine.startup.warm_up`). A task
names the assignment, the student, the submitted folder, a private folder, the template gradebook
and the options; the answer carries the scores (:func:`autograder.engine.gradebook.read_scores`), a status
and notes.
The worker imports nbgrader once and runs its ``Autograde`` converter in-process, with
:class:`autograder.engine.execute.SandboxedExecute` in place of nbgrader's Execute step.
:class:`WorkerProcess` is the parent's handle on one such process.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings
from pathlib import Path

from traitlets.config import Config, PyFileConfigLoader

from autograder.course import read
from autograder.engine.files import copy_regular_files
from autograder.engine.sanitize import clean_file

__all__ = ["grade_task", "task_config", "check_notebooks", "clean_notebooks", "WorkerProcess", "main",
           "MAX_LOG_LINE"]

MAX_NOTEBOOK_BYTES = 32 << 20  # larger submitted notebooks are not parsed (memory)
MAX_LOG_LINE = 2000  # characters of one log record (they may quote student output)
FAILURE_NAMES = {
    "KernelKilled": "killed",
    "KernelDied": "died",
    "CellTimeoutError": "timed out",
    "NotRun": "not run",
}


def check_notebooks(folder: Path, expected: dict[str, str]) -> tuple[list[str], list[str]]:
    """Problems that stop notebooks from being graded, and notes on those that will be.

    Unreadable notebooks are removed from ``folder`` (nbgrader then scores them zero as missing).

    Args:
        folder: the submission's private copy.
        expected: notebook name -> the course's kernel name.
    """
    problems, notes = [], []
    for name, kernel in expected.items():
        path = folder / f"{name}.ipynb"
        if not path.exists():
            problems.append(f"missing notebook {name}.ipynb")
            continue
        if path.stat().st_size == 0:
            problems.append(f"{name}.ipynb is an empty file")
            path.unlink()
            continue
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            problems.append(f"{name}.ipynb has {path.stat().st_size >> 20} MiB, more than the "
                            f"{MAX_NOTEBOOK_BYTES >> 20} MiB a notebook may have")
            path.unlink()
            continue
        try:
            nb = read(path)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("no list of cells")
        except Exception as error:  # any parse failure: JSON, schema, encoding
            problems.append(
                f"{name}.ipynb is not a readable notebook ({type(error).__name__}: "
                f"{str(error).splitlines()[0][:80] if str(error) else ''})"
            )
            path.unlink()
            continue
        found = nb.metadata.get("kernelspec", {}).get("name")
        if found != kernel:
            notes.append(f"{name}.ipynb asks for kernel {repr(found)[:80]}; graded with the course's "
                         f"{kernel!r}")
    return problems, notes


def clean_notebooks(folder: Path) -> list[str]:
    """Clean every notebook of the private copy ``folder`` before grading (:mod:`autograder.engine.sanitize`).

    Runs after :func:`check_notebooks`: what is left parses. A notebook that still cannot be cleaned
    is removed (nbgrader scores it zero as missing). Returns notes for the instructor.
    """
    notes = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            note = clean_file(path)
        except Exception as error:  # any parse or write failure of a hostile file
            path.unlink()
            note = f"{path.name} could not be cleaned and was not graded ({type(error).__name__})"
        if note:
            notes.append(note)
    return notes


def task_config(task: dict, course: Path) -> Config:
    """nbgrader's configuration for ``task`` in the private course copy ``course``."""
    from nbgrader.preprocessors import Execute

    from autograder.engine.execute import SandboxedExecute

    config = PyFileConfigLoader("nbgrader_config.py", path=str(task["config_dir"])).load_config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.CourseDirectory.assignment_id = task["assignment"]
    config.CourseDirectory.student_id = task["student"]
    config.Autograde.create_student = True
    from nbgrader.converters import Autograde

    steps = list(
        config.Autograde.get(
            "autograde_preprocessors", Autograde.class_traits()["autograde_preprocessors"].default()
        )
    )
    config.Autograde.autograde_preprocessors = [
        SandboxedExecute if step in (Execute, "nbgrader.preprocessors.Execute") else step for step in steps
    ]
    if task.get("timeout"):
        config.Execute.timeout = task["timeout"]
    sandbox = config.SandboxedExecute
    sandbox.isolate = task["isolate"]
    sandbox.uid = task["uid"]
    sandbox.readonly = os.pathsep.join(task["readonly"])
    sandbox.scratch = str(Path(task["private"]) / "s")
    for name, value in task.get("limits", {}).items():
        setattr(sandbox, name, value)
    return config


def _failures(folder: Path) -> list[str]:
    """Cells the grader had to stop: ``test_x killed``, ``x_answer died``..."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        for cell in read(path).cells:
            names = {o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"}
            for ename in sorted(names & FAILURE_NAMES.keys()):
                grade_id = str(cell.metadata.get("nbgrader", {}).get("grade_id", "a cell"))[:80]
                found.append(f"{grade_id} {FAILURE_NAMES[ename]}")
    return found


class _ErrorLines(logging.Handler):
    """Keeps the last line of each error nbgrader logs (its exceptions only say "see above")."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage().strip()
        if text:
            self.lines.append(text.splitlines()[-1][:160])

    def cause(self) -> str:
        """The first logged error that is not nbgrader's generic summary."""
        generic = ("There was an error processing", "Please see the", "Removing failed")
        return next((line for line in self.lines if not line.startswith(generic)), "")


class _ClippedLines(logging.Filter):
    """Cuts every log record to :data:`MAX_LOG_LINE` characters (a record may quote student output)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if len(text) > MAX_LOG_LINE:
            record.msg = f"{text[:MAX_LOG_LINE]} [... {len(text) - MAX_LOG_LINE} characters]"
            record.args = None
        return True


def grade_task(task: dict) -> dict:
    """Autograde one submission; never raises (a failure is a status with a reason)."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    from autograder.engine.gradebook import read_scores

    start = time.perf_counter()
    private = Path(task["private"])
    course = private / "course"
    shutil.rmtree(private, ignore_errors=True)
    folder = course / "submitted" / task["student"] / task["assignment"]
    copy_notes = copy_regular_files(Path(task["submitted"]), folder)
    source = Path(task["source"])
    if source.is_dir():
        shutil.copytree(
            source, course / "source" / task["assignment"], ignore=shutil.ignore_patterns("*.ipynb")
        )
    shutil.copy(task["template"], course / "gradebook.db")
    (private / "s").mkdir(parents=True)
    problems, notes = check_notebooks(folder, task["notebooks"])
    notes += clean_notebooks(folder) + copy_notes  # student HTML, sizes, metadata: before anything runs
    result = {
        "student": task["student"],
        "problems": problems,
        "notes": notes,
        "scores": None,
        "autograded": str(course / "autograded" / task["student"] / task["assignment"]),
    }
    errors = _ErrorLines()
    logging.getLogger("traitlets").addHandler(errors)
    for handler in logging.getLogger("traitlets").handlers:  # nbgrader's own log handler
        if not any(isinstance(f, _ClippedLines) for f in handler.filters):
            handler.addFilter(_ClippedLines())
    try:
        config = task_config(task, course)
        converter = Autograde(coursedir=CourseDirectory(config=config), config=config)
        converter.force = True
        converter.start()
        result["scores"] = read_scores(config.CourseDirectory.db_url, task["assignment"], task["student"])
        result["notes"] += _failures(Path(result["autograded"]))
    except Exception as error:  # nbgrader raises NbGraderException after logging the cause
        logging.getLogger("autograder").error("%s", traceback.format_exc())
        cause = errors.cause() or f"{type(error).__name__}: {str(error)[:120]}"
        problems.append(f"nbgrader failed: {cause}")
    finally:
        logging.getLogger("traitlets").removeHandler(errors)
    result["seconds"] = time.perf_counter() - start
    return result


class WorkerProcess:
    """One ``python -m autograder.engine.worker`` process in its own session (so Ctrl-C reaches only us)."""

    def __init__(self, slot: int, log: Path) -> None:
        self.slot = slot
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]), PYTHONUNBUFFERED="1")
        self.log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.engine.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
            start_new_session=True,
        )
        # Answers arrive through a reader thread (select() on pipes is POSIX-only); an empty
        # string means the worker closed its stdout (it died).
        self.answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_answers, daemon=True).start()

    def _read_answers(self) -> None:
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put("")

    def send(self, task: dict) -> bool:
        try:
            self.process.stdin.write(json.dumps(task) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def receive(self, timeout: float) -> dict | None:
        """The worker's answer; None when it died or gave none within ``timeout`` seconds."""
        try:
            line = self.answers.get(timeout=timeout)
        except queue.Empty:
            return None
        return json.loads(line) if line else None

    def run(self, task: dict, timeout: float) -> dict | None:
        """The worker's answer to ``task``; None when it died or gave none within ``timeout`` seconds."""
        return self.receive(timeout) if self.send(task) else None

    def tail(self, size: int = 2000) -> str:
        """The end of this worker's log, for a message."""
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace")[-size:].strip()
        return " | ".join(text.splitlines()[-8:]) or "its log is empty"

    def stop(self) -> None:
        try:
            if hasattr(os, "killpg"):  # the worker leads its own session: end what it started too
                os.killpg(self.process.pid, signal.SIGKILL)
            else:  # Windows (self-grading without a sandbox): no process groups
                self.process.kill()
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()


def main() -> None:
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything printed by nbgrader or its tools goes to the log, not the protocol
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's autoflush notices
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="[worker %(process)d] %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_ClippedLines())
    import nbgrader.converters  # noqa: F401  (about 1 s: paid while the parent prepares, not per task)

    import autograder.engine.execute  # noqa: F401
    for line in sys.stdin:
        if line.strip():
            task = json.loads(line)
            if task.get("warm"):
                from autograder.engine.startup import warm_up

                answers.write(json.dumps(warm_up(task)) + "\n")
            else:
                answers.write(json.dumps(grade_task(task)) + "\n")


if __name__ == "__main__":
    main()
