"""Handing out course material: a student's own copy, never overwritten (Sections 7.1-8.6).

The chapters (on the class hub) and the assignments (``make lab``) reach a student by one rule: a
file the student lacks is copied; a student's copy is never overwritten; when the course's version
changes after the copy was made, the new version goes beside it as ``<name>.release-<date><suffix>``.
What each copy was made from is kept under ``.release/`` (hidden in the Lab) to tell.
``python -m autograder.tools.selfgrade release`` hands out the assignments this way and
``deploy/jupyterhub/singleuser.py`` the chapters.
"""

from __future__ import annotations

import datetime
import filecmp
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PRISTINE", "SKIP", "Handed", "hand_out"]

PRISTINE = ".release"  # <into>/.release/<relative path>: the course's version a student's copy came from
SKIP = frozenset({"__pycache__", ".ipynb_checkpoints"})  # folders of the course that are no material


@dataclass(frozen=True)
class Handed:
    """One file handed out.

    Attributes:
        copy: the student's copy.
        beside: the course's new version put beside an existing copy; None when ``copy`` was created.
    """

    copy: Path
    beside: Path | None = None


def hand_out(course: Path, into: Path, today: datetime.date | None = None) -> list[Handed]:
    """Give ``into`` every file of ``course`` it lacks, and the course's changes beside its copies.

    Args:
        course: the folder of material (read only).
        into: the student's folder; created when missing.
        today: the date in the names of new versions (default: today).

    Returns:
        What was done, one entry per file; empty when the student is up to date.

    Raises:
        NotADirectoryError: ``into`` exists and is not a folder (the student's own file is kept).
    """
    if into.exists() and not into.is_dir():
        raise NotADirectoryError(f"hand_out: {into} is a file, not a folder; nothing was copied "
                                 f"(rename it to get the course's files)")
    done = []
    for path in sorted(course.rglob("*")):
        relative = path.relative_to(course)
        if not path.is_file() or SKIP.intersection(relative.parts):
            continue
        mine, pristine = into / relative, into / PRISTINE / relative
        pristine.parent.mkdir(parents=True, exist_ok=True)
        if not mine.exists():
            mine.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, mine)
            shutil.copyfile(path, pristine)
            done.append(Handed(mine))
        elif not pristine.exists() or not filecmp.cmp(pristine, path, shallow=False):
            stamp = (today or datetime.date.today()).isoformat()
            beside = mine.with_name(f"{mine.stem}.release-{stamp}{mine.suffix}")
            shutil.copyfile(path, beside)
            shutil.copyfile(path, pristine)
            done.append(Handed(mine, beside))
    return done
