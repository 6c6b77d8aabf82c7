"""Test cells in a clean kernel: the half of :class:`autograder.engine.execute.SandboxedExecute` that does it.

A submission's answer cells run in the *student kernel*; its test cells run in a second sandboxed
*test kernel* that only ever runs the instructor's setup cells (restored by nbgrader) and test
cells, never student code. A test cell's free names come from the student kernel as safe data
or stand-ins (:mod:`cnncourse.grading.remote`); every use of a stand-in is a request the test
kernel sends over its stdin channel. This mixin forwards each request to the student kernel
(``cnncourse.grading.agent.serve``) under the test cell's time limit, kills that kernel when it
ignores an interrupt, and hands the answer back. Whatever an answer cell does to its kernel
(input or AST transformers, event callbacks, ``sys.settrace``, patched grading helpers, torch
or the library's oracles) stays in the student kernel.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbformat.v4 import new_output

from autograder.engine.caps import MAX_TEXT, clip
from autograder.engine.forward import StudentKernelLost, StudentRequests
from autograder.engine.kernel_io import KernelOutput
from autograder.engine.names import free_names, is_setup_cell, run_first

__all__ = ["CleanTests", "StudentKernelLost", "TEST_UID_BASE", "KERNEL_ARGUMENTS"]

# Test kernels' uids: above every student kernel's (sandbox.run_uid stays below 2,000,000,000) and
# below 2**31 (tools that read uids as signed ints); one per grading process (pids < 40,000,000).
TEST_UID_BASE = 2_100_000_000
_REMOTE = '__import__("cnncourse.grading.remote", fromlist=["x"]).'
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]  # every grading kernel's (student and test)
# The test kernel formats a failing test's traceback as plain Python does: IPython's default
# (source context from stack_data) costs about 8 ms more per failing cell, and the feedback
# keeps only the message of hidden tests anyway.
# Low-level writes of C libraries there (fontconfig, OpenMP, a first import's notices) go to the
# kernel's own pipe, not into the test cell: they happen once per test kernel, so they would
# fail (nbgrader: anything on stderr) only the first submission a worker grades.
TEST_KERNEL_ARGUMENTS = [*KERNEL_ARGUMENTS, "--InteractiveShell.xmode=Plain",
                         "--IPKernelApp.capture_fd_output=False"]
# The test kernel this process keeps between notebooks (it never ran student code; it forgets each
# submission's names before the next): one start of torch per worker instead of one per notebook.
_KEPT: list[tuple[AsyncKernelManager, object]] = []


@atexit.register
def _kill_kept() -> None:
    while _KEPT:
        km, kc = _KEPT.pop()
        with contextlib.suppress(Exception):
            kc.stop_channels()
            km.provisioner.process.kill()


async def _shutdown(km: AsyncKernelManager, kc: object) -> None:
    with contextlib.suppress(Exception):
        kc.stop_channels()
    with contextlib.suppress(Exception):
        await ensure_async(km.shutdown_kernel(now=True))


def _scratch(source: str) -> NotebookNode:
    return NotebookNode(cell_type="code", source=source, metadata={}, outputs=[], execution_count=None)


def _errors(cell: NotebookNode) -> list[NotebookNode]:
    return [out for out in cell.outputs if out.get("output_type") == "error"]


class CleanTests(StudentRequests):
    """Mixin for SandboxedExecute: a test kernel beside the student kernel (``self.km``/``self.kc``)."""

    # ------------------------------------------------------------------ test kernel
    def _reset_clean_tests(self) -> None:
        self._tkm: AsyncKernelManager | None = None
        self._tkc = None
        self._tests_ready: asyncio.Task | None = None
        self._setup_sources: list[str] = self._lost_setup_cells() if self.split else []
        self._setup_done = 0  # setup cells the current test kernel has run
        self._tests_lost = False
        self._first_run = ""  # what a just-acquired test kernel runs first (remote's reset)
        self._student_lost = False
        self._test_deadline = 0.0
        self._test_cell: NotebookNode | None = None
        self._test_index = -1

    def _lost_setup_cells(self) -> list[str]:
        """The gradebook's setup cells that this notebook no longer has (a student deleted them):
        the test kernel runs them first, so tests keep their imports."""
        info = self.resources.get("nbgrader", {})
        present = {cell.metadata["nbgrader"]["grade_id"] for cell in self.nb.cells if is_setup_cell(cell)}
        try:
            from nbgrader.api import Gradebook

            with Gradebook(info["db_url"]) as gradebook:
                notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
                graded = {cell.name for cell in [*notebook.grade_cells, *notebook.solution_cells]}
                lost = sorted((cell.id, cell.source) for cell in notebook.source_cells if cell.locked
                              and cell.cell_type == "code" and cell.name not in graded | present)
        except Exception as problem:  # no gradebook (a bare notebook): nothing to add
            self.log.debug("no setup cells from the gradebook: %s", problem)
            return []
        return [source for _, source in lost]

    async def _start_test_kernel(self) -> None:
        """Get a test kernel: the one this process kept (alive) or a fresh one. Runs no cell: it may
        run beside the student kernel's start, and only the notebook loop swaps kernels."""
        while _KEPT:
            km, kc = _KEPT.pop()
            if await ensure_async(km.is_alive()):
                self._tkm, self._tkc, self._first_run = km, kc, "forget_submission()"
                return
            await _shutdown(km, kc)
        km, ipc = self._kernel_manager("tests-")
        workdir = tempfile.mkdtemp(prefix="tests-run-", dir=self.scratch or None)  # empty: no student file
        box = self._box(workdir, ipc, TEST_UID_BASE + os.getpid() % 40_000_000)
        env = self._launcher_env(box)
        output = KernelOutput()
        try:
            await ensure_async(km.start_kernel(env=env, extra_arguments=TEST_KERNEL_ARGUMENTS,
                                               **output.launch_kwargs()))
        finally:
            output.started()
        kc = km.client()
        kc.start_channels()
        try:
            await ensure_async(kc.wait_for_ready(timeout=self.startup_timeout))
        except Exception as error:  # say why: bubblewrap's or Python's own words
            await _shutdown(km, kc)
            raise RuntimeError(f"{error}; the kernel wrote: {output.text(wait=2)}") from error
        kc.allow_stdin = True
        self._seal(ipc)
        self._tkm, self._tkc, self._first_run = km, kc, "remember_start()"

    def warm_test_kernel(self) -> str:
        """Start a test kernel the way grading does, and keep it for this process's first notebook.

        Returns:
            "" when it started and imported the grading library; else why not (the kernel's words).
        """
        async def warm() -> str:
            self._tkm = self._tkc = self._tests_ready = None
            self._tests_lost = False
            try:
                await self._start_test_kernel()
                reply = await self._tkc.execute_interactive(
                    f"{_REMOTE}remember_start()", store_history=False, allow_stdin=False,
                    timeout=self.startup_timeout, output_hook=lambda msg: None)
            except Exception as error:  # it did not start, or did not answer in time
                await self._stop_test_kernel()
                return clip(str(error), MAX_TEXT)
            if reply["content"]["status"] != "ok":
                await self._stop_test_kernel()
                content = reply["content"]
                return clip(f"the grading library does not load in a grading kernel: {content.get('ename')}: "
                            f"{content.get('evalue')}", MAX_TEXT)
            await self._stop_test_kernel(keep=True)
            return ""

        return run_sync(warm)()

    async def _catch_up(self, index: int) -> None:
        while self._tkm is not None and not self._tests_lost and self._setup_done < len(self._setup_sources):
            self._setup_done += 1
            source = self._setup_sources[self._setup_done - 1]
            await self._run_in_tests(_scratch(f"{_REMOTE}before_setup()\n{source}"), index)

    async def _stop_test_kernel(self, keep: bool = False) -> None:
        """Shut the test kernel down, or (``keep``) keep it for this process's next notebook."""
        if self._tests_ready is not None and not self._tests_ready.done():
            self._tests_ready.cancel()
            with contextlib.suppress(BaseException):
                await self._tests_ready
        lost, self._tests_lost = self._tests_lost, False
        if keep and not lost and self._tkm is not None and await ensure_async(self._tkm.is_alive()):
            _KEPT.append((self._tkm, self._tkc))
            self._tkm = self._tkc = self._tests_ready = None
            return
        if self._tkm is not None:
            await _shutdown(self._tkm, self._tkc)
        self._tkm = self._tkc = self._tests_ready = None

    @contextlib.contextmanager
    def _on_test_kernel(self):  # noqa: ANN202
        """nbclient's cell execution (timeouts, outputs, caps) pointed at the test kernel."""
        student = (self.km, self.kc)
        self._student = student
        self.km, self.kc = self._tkm, self._tkc
        try:
            yield
        finally:
            self.km, self.kc = student

    async def _run_in_tests(self, cell: NotebookNode, index: int) -> None:
        """Run ``cell`` in the test kernel, answering its requests; a lost test kernel is replaced later.

        nbclient stores an executed cell at ``self.nb.cells[index]``: the notebook's own cell there
        is put back, so a scratch cell never replaces it.
        """
        cells = self.nb.cells
        position = index if 0 <= index < len(cells) else len(cells) - 1
        original = cells[position] if cells else None
        server = asyncio.ensure_future(self._serve_requests())
        try:
            with self._on_test_kernel():
                await self.async_execute_cell(cell, index, store_history=False)
        except Exception as problem:  # the test kernel died or hung: only the grader's code runs there
            problem = clip(problem, MAX_TEXT)
            self.log.error("test kernel lost (%s); a fresh one replaces it", problem)
            cell.outputs.append(new_output("error", ename="GraderError", evalue="the test kernel was lost",
                                           traceback=[f"GraderError: the test kernel was lost ({problem})"]))
            self._tests_lost = True
        finally:
            if original is not None:
                cells[position] = original
            server.cancel()
            with contextlib.suppress(BaseException):
                await server

    # ------------------------------------------------------------------ cells
    async def _setup_in_tests(self, cell: NotebookNode, index: int) -> None:
        """An instructor's setup cell also runs in the test kernel (its outputs there are dropped)."""
        self._setup_sources.append(cell.source)
        with contextlib.suppress(Exception):  # no test kernel yet: the next test cell says so
            await self._ready_tests()
        await self._drop_lost_tests()

    async def _ready_tests(self) -> None:
        """A test kernel that has forgotten any earlier submission and run this notebook's setup cells."""
        await self._drop_lost_tests()
        if self._tests_ready is None:
            self._tests_ready = asyncio.ensure_future(self._start_test_kernel())
        await self._tests_ready
        if self._first_run:
            first = _scratch(_REMOTE + self._first_run)
            self._first_run, self._setup_done = "", 0
            await self._run_in_tests(first, -1)
            if self._tests_lost or _errors(first):
                self._tests_lost = True
                await self._drop_lost_tests()
                raise RuntimeError(f"the test kernel could not be reset ({_errors(first)[:1]})")
        await self._catch_up(-1)  # a replacement test kernel runs the setup cells it missed

    async def _drop_lost_tests(self) -> None:
        if self._tests_lost:
            await self._stop_test_kernel()

    async def _execute_test(self, index: int, deadline: float) -> None:
        """Run test cell ``index`` in the test kernel with its free names from the student kernel."""
        cell = self.nb.cells[index]
        try:
            await self._ready_tests()
        except Exception as problem:  # no test kernel: the test cannot run, and says why
            cell.outputs = [new_output("error", ename="GraderError", evalue="no test kernel",
                                       traceback=[f"GraderError: the test kernel did not start "
                                                  f"({clip(problem, MAX_TEXT)})"])]
            self._tests_ready = None
            return
        timeout = max(1, min(self.timeout or 60, int(deadline - time.monotonic()) + 1))
        self._test_deadline = time.monotonic() + timeout
        names = [n for n in free_names(cell.source) if n.isidentifier()]
        # One execution: a first call binds the cell's names, then the cell itself (same line numbers).
        run = _scratch(run_first(f"{_REMOTE}begin_test_cell({names!r})", cell.source))
        self._test_cell, self._test_index = run, index
        saved = self.timeout
        self.timeout = timeout + int(self.kill_grace) + 3  # the student kernel's limit ends first
        try:
            await self._run_in_tests(run, index)
            cell.outputs, cell.execution_count = run.outputs, run.execution_count
        finally:
            self.timeout = saved
            self._test_cell = None
            await self._drop_lost_tests()
        if self._student_lost:
            self._student_lost = False
            raise StudentKernelLost("the student kernel was lost while a test cell used it")
