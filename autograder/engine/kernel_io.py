"""A grading kernel's own stdin, stdout and stderr: no host file, a pipe the grader drains (issue 17).

A kernel process inherits exactly three file descriptors (``Popen`` closes every other one):
stdin is ``/dev/null``; stdout and stderr are the write end of one pipe that a thread of the
grader drains, keeping the last :data:`KEEP` bytes (what a kernel that cannot start says last, such
as bubblewrap's "execvp ...: No such file or directory" or Python's last traceback line). Before, the
kernel inherited the worker's log file, which student code could write into (and ipykernel
echoed every low-level write of the student's code there).
"""

from __future__ import annotations

import os
import subprocess
import threading

__all__ = ["KernelOutput", "KEEP", "LINES"]

KEEP = 8192  # bytes of a kernel's own stdout/stderr kept for messages (the last ones)
LINES = 6  # of them, the last lines a message quotes


class KernelOutput:
    """One kernel's stdout/stderr pipe and the thread that drains it."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()  # both close-on-exec: only Popen's dup2 passes the write end
        self.kept = bytearray()
        self.total = 0
        self._done = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()

    def launch_kwargs(self) -> dict:
        """What ``KernelManager.start_kernel`` passes to ``Popen`` for this kernel."""
        return {"stdin": subprocess.DEVNULL, "stdout": self._write, "stderr": self._write}

    def started(self) -> None:
        """The kernel holds the write end now: close ours, so the pipe ends when the kernel does."""
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    def _drain(self) -> None:
        try:
            while chunk := os.read(self._read, 65536):
                self.total += len(chunk)
                self.kept = (self.kept + chunk)[-KEEP:]
        finally:
            os.close(self._read)
            self._done.set()

    def text(self, wait: float = 0.0) -> str:
        """The last lines the kernel wrote (waiting up to ``wait`` seconds for it to end), as one line."""
        self._done.wait(wait)
        lines = [line.strip() for line in self.kept.decode("utf-8", "replace").splitlines() if line.strip()]
        skipped = "[...] " if len(lines) > LINES or self.total > len(self.kept) else ""
        return skipped + " | ".join(lines[-LINES:]) if lines else "nothing"
