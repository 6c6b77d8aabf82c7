"""Start-up problems are said once, before grading (issue 17).

Before the batch, ``grade`` sends each worker a *warm-up* task (:func:`warm_task`): the worker
starts its test kernel exactly as grading will (launcher, bubblewrap, the read-only paths, the
course's limits, the interpreter at its real path) and imports the grading library in it
(:func:`warm_up`); that kernel is then kept for its first notebook, so the check costs no extra
kernel. When a kernel cannot start (a path the sandbox does not bind, a memory limit too small
for Python, a library the kernel cannot import), :func:`check_started` raises
:class:`StartupFailed` with the kernel's own last words, and nothing is graded: no row says
FAILED for a student whose notebook was never the problem.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.engine.sandbox import interpreter, run_uid

__all__ = ["StartupFailed", "unreachable", "warm_task", "warm_up", "check_started", "WARM_TIMEOUT"]

WARM_TIMEOUT = 300  # seconds a worker may take to import nbgrader and start its test kernel


class StartupFailed(RuntimeError):
    """No grading kernel can start here (the message says why); nothing was graded."""


def unreachable(readonly: tuple[str, ...] | list[str]) -> str | None:
    """Why the interpreter cannot start inside a sandbox binding ``readonly`` (None: it can)."""
    path = Path(interpreter())
    if any(path.is_relative_to(root) for root in ["/usr", "/bin", *readonly]):
        return None
    return (f"the interpreter {path} is not on a path the sandbox binds ({', '.join(readonly) or 'none'}); "
            "install the grader's Python under /usr or in a virtual environment on sys.path")


def warm_task(assignment: str, course: Path, isolate: bool, readonly: list[str], timeout: int | None,
              limits: dict) -> dict:
    """The warm-up task (a worker adds its ``private`` folder): the options a grading task has."""
    return {"warm": True, "assignment": assignment, "student": "", "config_dir": str(course),
            "isolate": isolate, "readonly": readonly, "timeout": timeout, "limits": limits,
            "uid": run_uid(0)}


def warm_up(task: dict) -> dict:
    """In a worker: start its test kernel as grading will and keep it. ``{"problem": reason or ""}``."""
    from autograder.engine.execute import SandboxedExecute
    from autograder.engine.worker import MAX_LOG_LINE, task_config

    private = Path(task["private"])
    shutil.rmtree(private, ignore_errors=True)
    (private / "s").mkdir(parents=True)
    if task["isolate"] and (problem := unreachable(task["readonly"])):
        return {"problem": problem}
    try:
        executor = SandboxedExecute(config=task_config(task, private / "course"))
        return {"problem": executor.warm_test_kernel()}
    except Exception as error:  # the configuration itself is broken
        return {"problem": f"{type(error).__name__}: {str(error)[:MAX_LOG_LINE]}"}


def check_started(started: list, warming: list) -> None:
    """Wait for the warm-up answer of every worker in ``warming`` (``WorkerProcess``es).

    Raises:
        StartupFailed: with the first reason a worker gave, or its log's end when it died.
    """
    for worker in started:
        answer = worker.receive(timeout=WARM_TIMEOUT) if worker in warming else None
        if answer is None:
            problem = f"the grading worker died while starting ({worker.tail()})"
        else:
            problem = str(answer.get("problem", ""))
        if problem:
            raise StartupFailed(f"a grading kernel cannot start, so no submission was graded: {problem}")
