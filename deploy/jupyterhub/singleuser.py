#!/usr/bin/env python3
"""Start a user's Jupyter server on the hub, after giving their home the course's chapters.

install.sh installs this as PREFIX/env/bin/cnncourse-singleuser and the Dockerfile as
/usr/local/bin/cnncourse-singleuser; the hub runs it (``Spawner.cmd``) as the user, in place of
``jupyterhub-singleuser``, which it then becomes with the same arguments. It runs at every start
of the user's server, so a course updated by rerunning install.sh reaches every student at their
next start.

The chapters (CHAPTERS: the read-only copy of the repository's notebooks/) go to ~/notebooks/ by
:func:`cnncourse.handout.hand_out`, the rule ``python -m autograder.tools.selfgrade release`` follows for
the assignments: a missing file is copied; a student's copy is never overwritten; when the course's
version differs from the one the copy was made from (kept in ~/notebooks/.release/, hidden in the
Lab), the new version goes beside the student's copy as ``<name>.release-<date>.ipynb``. A failure
is reported in the hub's log and never keeps the server from starting.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cnncourse.handout import hand_out

__all__ = ["CHAPTERS", "TARGET", "main"]

CHAPTERS = Path("@PREFIX@/src/notebooks")  # install.sh and the Dockerfile fill in the prefix
TARGET = "notebooks"  # in the user's home


def main(argv: list[str]) -> None:
    """Hand out the chapters, then become ``jupyterhub-singleuser`` (from the same environment)."""
    try:
        for handed in hand_out(CHAPTERS, Path.home() / TARGET):
            line = (f"created {handed.copy}" if handed.beside is None else
                    f"kept {handed.copy}; the course changed it, the new version is {handed.beside.name}")
            print(f"cnncourse-singleuser: {line}", file=sys.stderr)
    except OSError as err:  # a full disk, a file in the way: the server starts all the same
        print(f"cnncourse-singleuser: the chapters were not copied: {err}", file=sys.stderr)
    singleuser = Path(sys.executable).parent / "jupyterhub-singleuser"
    os.execv(singleuser, [str(singleuser), *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
