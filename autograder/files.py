"""Copying what a student controls without following it anywhere."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

__all__ = ["copy_regular_files"]

SKIP = (".ipynb_checkpoints", "__pycache__")


def copy_regular_files(source: Path, target: Path) -> list[str]:
    """Copy the regular files under ``source``; return what was skipped (relative paths).

    The grader runs with rights the student lacks: a symlink or a device in a submission (to the
    instructor's solutions, say) must never be followed, so only regular files travel.
    """
    skipped = []
    target.mkdir(parents=True, exist_ok=True)
    for folder, dirs, files in os.walk(source, followlinks=False):
        here = Path(folder)
        for name in [*dirs, *files]:
            path = here / name
            relative = path.relative_to(source)
            if name in SKIP:
                continue
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode):
                (target / relative).mkdir(exist_ok=True)
            elif stat.S_ISREG(mode):
                shutil.copyfile(path, target / relative, follow_symlinks=False)
            else:
                skipped.append(str(relative))
        dirs[:] = [d for d in dirs if d not in SKIP]
    return skipped
