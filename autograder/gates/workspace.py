"""A throw-away copy of the course in a temporary folder, and nbgrader commands run inside it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.course import COURSE, ROOT

__all__ = ["NbgraderFailed", "Workspace", "workspace", "tools_on_path"]


def tools_on_path() -> None:
    """Put this interpreter's bin folder first on PATH.

    nbgrader's Gradebook runs the ``alembic`` executable by name, which is only found when the
    virtual environment is on PATH (it is not when ``.venv/bin/python`` is called directly).
    """
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited non-zero; the message ends with the tail of its log."""


@dataclass(frozen=True)
class Workspace:
    """``root/course`` is a copy of ``course/`` (config and the chosen assignments' sources);
    ``root/autograder`` links to this package so the config's feedback preprocessor imports."""

    root: Path

    @property
    def course(self) -> Path:
        return self.root / "course"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.course / 'gradebook.db'}"

    def path(self, stage: str, *parts: str) -> Path:
        """``path("release", "ps1")`` -> ``<course>/release/ps1``."""
        return self.course.joinpath(stage, *parts)

    def nbgrader(self, *args: str, on_line: Callable[[str], None] | None = None) -> str:
        """Run ``nbgrader ARGS`` in the course copy; return its log, raise NbgraderFailed on failure."""
        tools_on_path()
        command = [sys.executable, "-m", "nbgrader", *args]
        lines: list[str] = []
        with subprocess.Popen(command, cwd=self.course, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, bufsize=1) as process:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if on_line is not None:
                    on_line(line)
        log = "".join(lines)
        (self.course / f"nbgrader-{args[0]}.log").write_text(log)
        if process.returncode != 0:
            tail = "".join(lines[-40:])
            raise NbgraderFailed(f"`nbgrader {' '.join(args)}` exited with {process.returncode}:\n{tail}")
        return log


@contextlib.contextmanager
def workspace(assignments: list[str], course: Path = COURSE, timeout: int | None = None,
              keep: bool = False) -> Iterator[Workspace]:
    """Copy the course config and the given assignments into a temporary folder.

    Args:
        assignments: assignment folders of ``<course>/source`` to copy.
        course: the course folder to copy from (normally the repository's course/).
        timeout: per-cell execution limit in seconds for this copy (None keeps the course's).
        keep: leave the folder behind (its path is printed) for inspection.
    """
    root = Path(tempfile.mkdtemp(prefix="cnncourse-autograder-"))
    try:
        copy = root / "course"
        for name in assignments:
            shutil.copytree(course / "source" / name, copy / "source" / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        config = (course / "nbgrader_config.py").read_text()
        if timeout is not None:
            config += f"\n# Added by python -m autograder for this copy.\nc.Execute.timeout = {timeout}\n"
        (copy / "nbgrader_config.py").write_text(config)
        (root / "autograder").symlink_to(ROOT / "autograder", target_is_directory=True)
        yield Workspace(root)
    finally:
        if keep:
            print(f"kept the temporary course in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
