"""The clean test kernel: where a submission's test cells run, beside its student kernel.

A submission's answer cells run in the *student kernel*; its test cells run in a second sandboxed
*test kernel* that only ever runs the instructor's setup cells (restored by nbgrader) and test
cells, never student code. A test cell's free names come from the student kernel as safe data
or stand-ins (:mod:`cnncourse.grading_kernels.test_side`); every use of a stand-in is a request
that :class:`autograder.engine.bridge.RequestBridge` answers from the student kernel. Whatever
an answer cell does to its kernel (input or AST transformers, event callbacks, ``sys.settrace``,
patched grading helpers, torch or the library's oracles) stays in the student kernel.

One :class:`TestKernel` serves one notebook. The kernel itself outlives it: each grading
process keeps its test kernel for its next notebook (the kernel forgets each submission's names
first), so torch starts once per worker, not once per notebook.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import time
from collections.abc import Awaitable, Callable

from jupyter_client.manager import AsyncKernelManager
from nbclient.util import ensure_async
from nbformat import NotebookNode
from nbformat.v4 import new_output

from autograder.engine.bridge import RequestBridge, StudentKernelLost
from autograder.engine.caps import MAX_TEXT, OutputBudget, clip
from autograder.engine.names import free_names, is_setup_cell, run_first
from cnncourse.grading_kernels import protocol

__all__ = ["TestKernel", "TEST_UID_BASE", "TEST_KERNEL_OPTIONS", "LaunchKernel", "RunCell", "shutdown",
           "setup_first", "SETUP", "kill_kept"]

# Test kernels' uids: above every student kernel's (sandbox.run_uid stays below 2,000,000,000) and
# below 2**31 (tools that read uids as signed ints); one per grading process (pids < 40,000,000).
TEST_UID_BASE = 2_100_000_000
# The test kernel formats a failing test's traceback as plain Python does: IPython's default
# (source context from stack_data) costs about 8 ms more per failing cell, and the feedback
# keeps only the message of hidden tests anyway.
# Low-level writes of C libraries there (fontconfig, OpenMP, a first import's notices) go to the
# kernel's own pipe, not into the test cell: they happen once per test kernel, so they would
# fail (nbgrader: anything on stderr) only the first submission a worker grades.
TEST_KERNEL_OPTIONS = ["--InteractiveShell.xmode=Plain", "--IPKernelApp.capture_fd_output=False"]
# The test kernel this process keeps between notebooks (it never ran student code; it forgets each
# submission's names before the next): one start of torch per worker instead of one per notebook.
_KEPT: list[tuple[AsyncKernelManager, object]] = []

# Start a sandboxed kernel in an empty folder: (uid, extra kernel options) -> (manager, client).
LaunchKernel = Callable[[int, list[str]], Awaitable[tuple[AsyncKernelManager, object]]]
# Run a cell on a kernel with nbclient's timeouts, output hooks and caps:
# (manager, client, cell, index, timeout or None for the usual one) -> None.
RunCell = Callable[[AsyncKernelManager, object, NotebookNode, int, int | None], Awaitable[None]]


@atexit.register
def kill_kept() -> None:
    """Kill the test kernel this process kept (at exit, or when a grading worker stops)."""
    while _KEPT:
        km, kc = _KEPT.pop()
        with contextlib.suppress(Exception):
            kc.stop_channels()
            km.provisioner.process.kill()


async def shutdown(km: AsyncKernelManager, kc: object) -> None:
    """Stop a kernel now, whatever state it is in."""
    with contextlib.suppress(Exception):
        kc.stop_channels()
    with contextlib.suppress(Exception):
        await ensure_async(km.shutdown_kernel(now=True))


SETUP = "setup"  # the grade_id of an assignment notebook's one setup cell (``autograder lint`` requires it)


def setup_first(nb: NotebookNode, resources: dict, log) -> tuple[list[str], set[str]]:  # noqa: ANN001
    """The gradebook's setup cells the test kernel runs before any test cell, and their names.

    The setup cell (grade_id ``setup``) always runs there first, wherever the notebook has it: a
    student who moved it below a test, swapped its id with another read-only cell's, or copied a
    test above it would otherwise leave the names it defines (``torch``, the oracle ``corr2d``,
    given data) undefined in the test kernel, to be fetched from the student's kernel. Any other
    read-only cell the notebook no longer has (a student deleted it) runs there first too, so tests
    keep their imports. The notebook's own copies of these cells then run in the student's kernel only.
    """
    info = resources.get("nbgrader", {})
    present = {cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells if is_setup_cell(cell)}
    try:
        from nbgrader.api import Gradebook

        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            graded = {cell.name for cell in [*notebook.grade_cells, *notebook.solution_cells]}
            first = [(cell.name != SETUP, cell.name, cell.source) for cell in notebook.source_cells
                     if cell.locked and cell.cell_type == "code" and cell.name not in graded
                     and (cell.name == SETUP or cell.name not in present)]
    except Exception as problem:  # no gradebook (a bare notebook): setup cells run where they are
        log.debug("no setup cells from the gradebook: %s", problem)
        return [], set()
    first.sort()
    return [source for _, _, source in first], {name for _, name, _ in first}


def _scratch(source: str) -> NotebookNode:
    return NotebookNode(cell_type="code", source=source, metadata={}, outputs=[], execution_count=None)


def _errors(cell: NotebookNode) -> list[NotebookNode]:
    return [out for out in cell.outputs if out.get("output_type") == "error"]


class TestKernel:
    """The test kernel of one notebook: started (or taken over) beside the student kernel, reset,
    given the notebook's setup cells, running its test cells; kept or shut down at the end.

    Args:
        launch: starts a fresh sandboxed kernel (the executor's sandbox and limits).
        execute: runs a cell on a given kernel (the executor's nbclient machinery).
        bridge: answers the test kernel's requests from the student kernel.
        setup_sources: setup cells to run before any test cell (:func:`setup_first`).
        log: the executor's logger.
    """

    __test__ = False  # not a pytest class

    def __init__(self, launch: LaunchKernel, execute: RunCell, bridge: RequestBridge,
                 setup_sources: list[str], log) -> None:  # noqa: ANN001 (a logging.Logger)
        self._launch, self._execute, self.bridge, self.log = launch, execute, bridge, log
        self.km: AsyncKernelManager | None = None
        self.kc = None
        self._starting: asyncio.Future | None = None
        self._setup_sources = list(setup_sources)
        self._setup_done = 0  # setup cells the current test kernel has run
        self._lost = False
        self._first_run = ""  # the call a just-acquired kernel runs first (test_side's reset)

    # ------------------------------------------------------------------ the kernel
    def start_soon(self) -> None:
        """Start getting a kernel now, beside the student kernel's start."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._acquire())

    async def _acquire(self) -> None:
        """The kernel this process kept (alive) or a fresh one. Runs no cell."""
        while _KEPT:
            km, kc = _KEPT.pop()
            if await ensure_async(km.is_alive()):
                self.km, self.kc, self._first_run = km, kc, "forget_submission"
                return
            await shutdown(km, kc)
        uid = TEST_UID_BASE + os.getpid() % 40_000_000
        self.km, self.kc = await self._launch(uid, TEST_KERNEL_OPTIONS)
        self._first_run = "remember_start"

    async def warm(self, timeout: float) -> str:
        """Start a kernel, import the grading library in it, and keep it for this process's first
        notebook. Returns "" when that worked; else why not (the kernel's words)."""
        try:
            await self._acquire()
            reply = await self.kc.execute_interactive(
                protocol.call("remember_start"), store_history=False, allow_stdin=False,
                timeout=timeout, output_hook=lambda msg: None)
        except Exception as error:  # it did not start, or did not answer in time
            await self.stop()
            return clip(str(error), MAX_TEXT)
        if reply["content"]["status"] != "ok":
            await self.stop()
            content = reply["content"]
            return clip(f"the grading library does not load in a grading kernel: {content.get('ename')}: "
                        f"{content.get('evalue')}", MAX_TEXT)
        await self.stop(keep=True)
        return ""

    async def stop(self, keep: bool = False) -> None:
        """Shut the kernel down, or (``keep``) keep it for this process's next notebook."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(BaseException):
                await self._starting
        lost, self._lost = self._lost, False
        if keep and not lost and self.km is not None and await ensure_async(self.km.is_alive()):
            _KEPT.append((self.km, self.kc))
        elif self.km is not None:
            await shutdown(self.km, self.kc)
        self.km = self.kc = self._starting = None

    async def _drop_if_lost(self) -> None:
        if self._lost:
            await self.stop()

    async def _ready(self) -> None:
        """A kernel that has forgotten any earlier submission and run this notebook's setup cells."""
        await self._drop_if_lost()
        self.start_soon()
        await self._starting
        if self._first_run:
            first = _scratch(protocol.call(self._first_run))
            self._first_run, self._setup_done = "", 0
            await self._run(first, -1)
            if self._lost or _errors(first):
                self._lost = True
                await self._drop_if_lost()
                raise RuntimeError(f"the test kernel could not be reset ({_errors(first)[:1]})")
        await self._catch_up(-1)  # a replacement kernel runs the setup cells it missed

    async def _catch_up(self, index: int) -> None:
        while self.km is not None and not self._lost and self._setup_done < len(self._setup_sources):
            self._setup_done += 1
            source = self._setup_sources[self._setup_done - 1]
            await self._run(_scratch(f"{protocol.call('before_setup')}\n{source}"), index)

    async def _run(self, cell: NotebookNode, index: int, timeout: int | None = None) -> None:
        """Run ``cell`` here, serving its requests; a lost kernel is replaced before the next cell."""
        server = asyncio.ensure_future(self.bridge.serve(self.kc))
        try:
            await self._execute(self.km, self.kc, cell, index, timeout)
        except Exception as problem:  # the test kernel died or hung: only the grader's code runs there
            problem = clip(problem, MAX_TEXT)
            self.log.error("test kernel lost (%s); a fresh one replaces it", problem)
            cell.outputs.append(new_output("error", ename="GraderError", evalue="the test kernel was lost",
                                           traceback=[f"GraderError: the test kernel was lost ({problem})"]))
            self._lost = True
        finally:
            server.cancel()
            with contextlib.suppress(BaseException):
                await server

    # ------------------------------------------------------------------ cells
    async def setup_cell(self, source: str) -> None:
        """An instructor's setup cell also runs here (its outputs here are dropped)."""
        self._setup_sources.append(source)
        with contextlib.suppress(Exception):  # no test kernel yet: the next test cell says so
            await self._ready()
        await self._drop_if_lost()

    async def test_cell(self, cell: NotebookNode, index: int, timeout: int, kill_grace: float,
                        student: tuple[AsyncKernelManager, object], budget: OutputBudget) -> None:
        """Run test cell ``index`` here, its free names from the ``student`` kernel, within ``timeout`` s.

        Raises:
            StudentKernelLost: the student kernel died or was killed while the test used it.
        """
        try:
            await self._ready()
        except Exception as problem:  # no test kernel: the test cannot run, and says why
            cell.outputs = [new_output("error", ename="GraderError", evalue="no test kernel",
                                       traceback=[f"GraderError: the test kernel did not start "
                                                  f"({clip(problem, MAX_TEXT)})"])]
            self._starting = None
            return
        names = [n for n in free_names(cell.source) if n.isidentifier()]
        # One execution: a first call binds the cell's names, then the cell itself (same line numbers).
        run = _scratch(run_first(protocol.call("begin_test_cell", names), cell.source))
        limit = timeout + int(kill_grace) + 3  # the student kernel's limit ends first

        def show(text: str) -> None:
            """What the student's code printed while the test used it, charged with the cell's outputs."""
            kept = budget.take(index, new_output("stream", name="stdout", text=text + "\n"))
            if kept is not None:
                run.outputs.append(kept)

        self.bridge.open(*student, deadline=time.monotonic() + timeout, limit=limit, show=show)
        try:
            await self._run(run, index, timeout=limit)
            cell.outputs, cell.execution_count = run.outputs, run.execution_count
        finally:
            lost = self.bridge.close()
            await self._drop_if_lost()
        if lost:
            raise StudentKernelLost("the student kernel was lost while a test cell used it")
