"""What of a student's folder the grader touches: regular files only, and not too many of them."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

__all__ = ["MAX_FILES", "MAX_BYTES", "regular_files", "copy_regular_files", "read_regular_files",
           "write_files"]

SKIP = (".ipynb_checkpoints", "__pycache__")
MAX_FILES = 500  # beyond this, only the notebooks and timestamp.txt of a submission are used
MAX_BYTES = 200 << 20  # likewise for the total size


def regular_files(source: Path) -> tuple[list[Path], list[str]]:
    """The regular files under ``source`` the grader will use, and notes on what it will not.

    Symlinks, devices and sockets are never followed (the grader has rights the student lacks:
    a link to the instructor's solutions must stay a dead end). A folder with more than
    :data:`MAX_FILES` files or :data:`MAX_BYTES` bytes contributes only its top-level
    notebooks and ``timestamp.txt``.
    """
    found: list[Path] = []
    notes: list[str] = []
    total = 0
    for folder, dirs, files in os.walk(source, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP)
        here = Path(folder)
        for name in sorted(files) + [d for d in dirs if (here / d).is_symlink()]:
            path = here / name
            mode = os.lstat(path).st_mode
            if not stat.S_ISREG(mode):
                notes.append(f"ignored {path.relative_to(source)} (not a regular file)")
                continue
            found.append(path.relative_to(source))
            total += os.lstat(path).st_size
        if len(found) > MAX_FILES or total > MAX_BYTES:
            kept = sorted(p for p in found if p.parent == Path(".") and
                          (p.suffix == ".ipynb" or p.name == "timestamp.txt"))
            notes.append(f"the submission has more than {MAX_FILES} files or {MAX_BYTES >> 20} MiB: "
                         f"only its notebooks were used")
            return kept, notes
    return found, notes


def copy_regular_files(source: Path, target: Path) -> list[str]:
    """Copy what :func:`regular_files` allows from ``source`` into ``target``; return its notes."""
    files, notes = regular_files(source)
    target.mkdir(parents=True, exist_ok=True)
    for relative in files:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target / relative, follow_symlinks=False)
    return notes


def read_regular_files(source: Path, skip_suffix: str = "") -> tuple[dict[str, bytes], list[str]]:
    """What :func:`regular_files` allows from ``source``, as relative POSIX path -> bytes, and its notes.

    Args:
        skip_suffix: leave out files ending so (e.g. ``".ipynb"`` for an assignment's data files).
    """
    files, notes = regular_files(source)
    return {relative.as_posix(): (source / relative).read_bytes() for relative in files
            if not (skip_suffix and relative.name.endswith(skip_suffix))}, notes


def write_files(files: dict[str, bytes], target: Path) -> None:
    """Write ``files`` (relative POSIX path -> bytes) under ``target``, which is created.

    Raises:
        ValueError: a path is absolute or climbs out of ``target``.
    """
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    for relative, data in files.items():
        path = (target / relative).resolve()
        if Path(relative).is_absolute() or not path.is_relative_to(root) or path == root:
            raise ValueError(f"write_files: {relative!r} is not a path inside {target}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
