"""Start-up problems are said once, before grading (issue 17).

Each Dask worker's grading plugin starts its test kernel as soon as the worker has it
(:meth:`autograder.engine.worker.GradingPlugin.setup`), exactly as grading will (launcher,
bubblewrap, the read-only paths, the course's limits, the interpreter at its real path), and imports
the grading library in it; that kernel is then kept for its first notebook, so the check costs no
extra kernel. Before the batch the client asks every worker how that went; when a kernel cannot
start (a path the sandbox does not bind, a memory limit too small for Python, a library the kernel
cannot import), it raises :class:`StartupFailed` with the kernel's own last words, and nothing is
graded: no row says FAILED for a student whose notebook was never the problem.
"""

from __future__ import annotations

from pathlib import Path

from autograder.engine.sandbox import interpreter

__all__ = ["StartupFailed", "unreachable", "WARM_TIMEOUT"]

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
