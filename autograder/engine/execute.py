"""nbgrader's Execute step, hardened: a sandboxed kernel, a hard kill, recovery, capped output.

:class:`SandboxedExecute` replaces ``nbgrader.preprocessors.Execute`` in the autograde pipeline of
``python -m autograder grade`` (nbgrader's sanitising, checksums, cell restoration and
``SaveAutoGrades`` stay as they are). Differences from plain nbgrader:

* the kernel runs in :mod:`autograder.engine.sandbox` (or, when asked for, with limits only);
* a cell that outlives its timeout is interrupted; when the kernel ignores the interrupt for
  ``kill_grace`` seconds it is killed. A kernel that dies (``os._exit``, a segfault, the memory
  limit) or is killed costs only that cell: a fresh kernel replays the earlier setup, answer and
  ordinary cells (never the one that killed it, never a test cell) and grading goes on;
* a wall limit per notebook; outputs of every kind are capped in bytes of JSON per cell and per
  notebook (:mod:`autograder.engine.caps`), display updates included; widgets' messages are ignored;
* kernels inherit no file but ``/dev/null`` and a pipe the grader drains (:mod:`autograder.engine.kernel_io`);
* test cells run in a second, clean kernel that never runs student code: a
  :class:`autograder.engine.test_kernel.TestKernel`, whose requests a
  :class:`autograder.engine.bridge.RequestBridge` answers from the student kernel.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode, default

from autograder.engine.bridge import RequestBridge, StudentKernelLost
from autograder.engine.caps import CappedOutputs, OutputBudget
from autograder.engine.files import copy_regular_files
from autograder.engine.kernel_io import KernelOutput
from autograder.engine.kernels import KernelPlace, launcher_env
from autograder.engine.names import is_setup_cell, is_test_cell
from autograder.engine.sandbox import KERNELS_PER_TASK, UID_BASE, Limits, Sandbox
from autograder.engine.test_kernel import TestKernel, setup_first

__all__ = ["SandboxedExecute", "KernelKilled", "KERNEL_ARGUMENTS"]


_KERNELS = itertools.count()  # kernels started by this process
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]  # every grading kernel's (student and test)


class KernelKilled(RuntimeError):
    """The kernel ignored an interrupt and was killed."""


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


class SandboxedExecute(CappedOutputs, Execute):
    """Execute a submission cell by cell in a sandboxed kernel that may be killed and replaced."""

    split = Bool(True, help="Run test cells in a clean kernel that never runs student code.").tag(config=True)
    keep_test_kernel = Bool(True, help="Keep the clean test kernel for this process's next notebook.").tag(
        config=True
    )
    isolate = Bool(True, help="Run kernels in the bubblewrap sandbox (False: rlimits only).").tag(config=True)
    uid = Integer(UID_BASE, help="First uid of this submission's kernels (root only).").tag(config=True)
    readonly = Unicode("", help="os.pathsep-separated host paths bound read-only.").tag(config=True)
    memory_limit = Integer(Limits.memory, help="RLIMIT_AS of the kernel in bytes.").tag(config=True)
    process_limit = Integer(Limits.processes, help="RLIMIT_NPROC of the kernel.").tag(config=True)
    file_size_limit = Integer(Limits.file_size, help="RLIMIT_FSIZE in bytes.").tag(config=True)
    tmp_size = Integer(Limits.tmp_size, help="Size of the sandbox's /tmp in bytes.").tag(config=True)
    notebook_timeout = Float(900.0, help="Wall-clock limit for one notebook in seconds.").tag(config=True)
    kill_grace = Float(5.0, help="Seconds an interrupted cell may take before the kernel is killed.").tag(
        config=True
    )
    max_restarts = Integer(3, help="Fresh kernels per notebook after deaths and kills.").tag(config=True)
    output_limit = Integer(100_000, help="Bytes of output (JSON) kept per cell.").tag(config=True)
    notebook_output_limit = Integer(1_000_000, help="Bytes of output (JSON) kept per notebook.").tag(
        config=True
    )
    scratch = Unicode("", help="Folder for kernel specs and socket folders (default: a temp dir).").tag(
        config=True
    )

    @default("shutdown_kernel")
    def _immediate(self) -> str:
        # A graceful shutdown waited up to 5 s per notebook (measured ~4 s); the kernel is disposable.
        return "immediate"

    # ------------------------------------------------------------------ kernel
    def create_kernel_manager(self) -> AsyncKernelManager:
        self.km, self._ipc_dir = self._place().manager("kernel-")
        return self.km

    def _place(self) -> KernelPlace:
        """Where and how this executor's kernels run: its scratch folder, sandbox and limits."""
        limits = Limits(self.memory_limit, self.process_limit, self.file_size_limit, self.tmp_size)
        readonly = tuple(p for p in self.readonly.split(os.pathsep) if p)
        return KernelPlace(self.scratch, self.config, readonly, self.isolate, limits)

    def _sandbox(self) -> Sandbox:
        # The kernel works in a copy: nbgrader (with the grader's rights) writes the autograded
        # notebook into the resources folder, where a symlink planted by student code would
        # redirect that write. The copy's regular files are all the kernel gets.
        if self._run_dir is None:
            source = Path(self.resources.get("metadata", {}).get("path") or os.getcwd()).resolve()
            self._run_dir = tempfile.mkdtemp(prefix="run-", dir=self.scratch or None)
            copy_regular_files(source, Path(self._run_dir))
        uid = self.uid + next(_KERNELS) % KERNELS_PER_TASK  # a fresh uid for every kernel
        return self._place().box(self._run_dir, self._ipc_dir, uid)

    async def async_start_new_kernel(self, **kwargs) -> None:
        kwargs["env"] = launcher_env(self._sandbox())
        self.extra_arguments = list(KERNEL_ARGUMENTS)
        self._kernel_output = KernelOutput()
        try:
            await super().async_start_new_kernel(**kwargs, **self._kernel_output.launch_kwargs())
        finally:
            self._kernel_output.started()

    async def _launch_clean_kernel(self, uid: int, options: list[str]) -> tuple[AsyncKernelManager, object]:
        """The test kernel's launcher (:class:`autograder.engine.test_kernel.TestKernel`); the student
        kernel is started by nbclient (:meth:`async_start_new_kernel`)."""
        return await self._place().clean_kernel(uid, [*KERNEL_ARGUMENTS, *options], self.startup_timeout)

    async def async_start_new_kernel_client(self):
        try:
            kc = await super().async_start_new_kernel_client()
        except Exception as error:  # say what the kernel said (bubblewrap's reason, a Python error)
            raise RuntimeError(f"{error}; the kernel wrote: {self._kernel_output.text(wait=2)}") from error
        self._place().seal(self._ipc_dir)
        return kc

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> dict:
        """Interrupt; a kernel that does not answer within ``kill_grace`` seconds is killed."""
        self.log.error("Cell timed out after %s s; interrupting the kernel", timeout)
        await ensure_async(self.km.interrupt_kernel())
        deadline = time.monotonic() + self.kill_grace
        while time.monotonic() < deadline:
            try:
                msg = await ensure_async(
                    self.kc.shell_channel.get_msg(timeout=max(0.1, deadline - time.monotonic()))
                )
            except Exception:  # queue.Empty: no reply yet
                continue
            if msg.get("msg_type") == "execute_reply":
                return {"content": {**self.error_on_timeout, "status": "error"}}
        self.log.error("The kernel ignored the interrupt for %s s: killing it", self.kill_grace)
        await self._kill()
        raise KernelKilled(f"no reply {self.kill_grace:g} s after an interrupt")

    async def _kill(self) -> None:
        try:
            await ensure_async(self.km.shutdown_kernel(now=True))
        except Exception as error:  # already dead
            self.log.info("kill: %s", error)

    # ------------------------------------------------------------------ the loop
    def preprocess(self, nb: NotebookNode, resources: dict, km=None) -> tuple[NotebookNode, dict]:
        NotebookClient.__init__(self, nb, km)  # per-notebook state, exactly as nbconvert does
        self.reset_execution_trackers()
        self._failed_index: int | None = None
        self._run_dir: str | None = None
        self._check_assign_resources(resources)
        self._budget = OutputBudget(self.output_limit, self.notebook_output_limit)
        first, self._setup_ran_first = [], set()
        if self.split:
            first, self._setup_ran_first = setup_first(self.nb, self.resources, self.log)
        self._tests = self._test_kernel(first)
        run_sync(self._run_all_and_stop)()
        return self.nb, self.resources

    def _test_kernel(self, setup_sources: list[str]) -> TestKernel:
        return TestKernel(launch=self._launch_clean_kernel, execute=self._run_cell_on,
                          bridge=RequestBridge(self.kill_grace), setup_sources=setup_sources, log=self.log)

    def warm_test_kernel(self) -> str:
        """Start a test kernel the way grading does, and keep it for this process's first notebook.

        Returns:
            "" when it started and imported the grading library; else why not (the kernel's words).
        """
        return run_sync(self._test_kernel([]).warm)(self.startup_timeout)

    async def _run_cell_on(self, km: AsyncKernelManager, kc: object, cell: NotebookNode, index: int,
                           timeout: int | None = None) -> None:
        """Run ``cell`` on the kernel ``km``/``kc`` (the test kernel) as notebook cell ``index``.

        The one place that points nbclient at another kernel: its cell execution (timeouts, output
        hooks, the caps of :class:`autograder.engine.caps.CappedOutputs`) reads ``self.km`` and
        ``self.kc``, so they are swapped for the call and put back after. nbclient also stores an
        executed cell at ``self.nb.cells[index]``: the notebook's own cell there is put back, so a
        scratch cell never replaces it.
        """
        cells = self.nb.cells
        position = index if 0 <= index < len(cells) else len(cells) - 1
        original = cells[position] if cells else None
        student, usual = (self.km, self.kc), self.timeout
        self.km, self.kc = km, kc
        self.timeout = usual if timeout is None else timeout
        try:
            await self.async_execute_cell(cell, index, store_history=False)
        finally:
            self.km, self.kc = student
            self.timeout = usual
            if original is not None:
                cells[position] = original

    def _replayable(self, index: int, fatal: set[int]) -> bool:
        cell = self.nb.cells[index]
        return (
            cell.cell_type == "code"
            and index not in fatal
            and cell.source.strip() != ""
            and not (utils.is_grade(cell) and not utils.is_solution(cell))
        )

    async def _run_all_and_stop(self) -> None:
        try:
            if self.split:
                self._tests.start_soon()  # beside the student kernel's start
            await self._run_all()
        finally:
            await self._tests.stop(keep=self.keep_test_kernel)

    async def _run_all(self) -> None:
        deadline = time.monotonic() + self.notebook_timeout
        fatal: set[int] = set()
        restarts = 0
        index = 0
        cells = self.nb.cells
        while index < len(cells):
            async with self.async_setup_kernel():
                try:
                    info = await self.async_wait_for_reply(await ensure_async(self.kc.kernel_info()))
                    if info and "language_info" in info["content"]:
                        self.nb.metadata["language_info"] = info["content"]["language_info"]
                    await self._replay([i for i in range(index) if self._replayable(i, fatal)], deadline)
                    while index < len(cells):
                        if time.monotonic() > deadline:
                            break
                        await self._execute(index, deadline)
                        index += 1
                except StudentKernelLost:  # the test cell has its error; later cells get a fresh kernel
                    index += 1
                    restarts += 1
                    await self._kill()
                except (DeadKernelError, KernelKilled) as problem:
                    failed = self._failed_index if isinstance(self._failed_index, int) else index
                    fatal.add(failed)
                    name = "KernelKilled" if isinstance(problem, KernelKilled) else "KernelDied"
                    text = (
                        f"the kernel was killed ({problem}); later cells ran in a fresh kernel"
                        if name == "KernelKilled"
                        else "the kernel died while running this cell (os._exit, a crash or the memory "
                        "limit); later cells ran in a fresh kernel"
                    )
                    if failed == index:
                        cells[index].outputs.append(_error(name, text))
                        index += 1
                    restarts += 1
                    await self._kill()
            if time.monotonic() > deadline or restarts > self.max_restarts:
                reason = (
                    f"the notebook's time limit of {self.notebook_timeout:g} s"
                    if time.monotonic() > deadline
                    else f"{self.max_restarts} kernel restarts"
                )
                for cell in cells[index:]:
                    if cell.cell_type == "code" and cell.source.strip():
                        cell.outputs = [_error("NotRun", f"not run: the grader stopped at {reason}")]
                break

    async def _execute(self, index: int, deadline: float) -> None:
        self._failed_index = index
        cell = self.nb.cells[index]
        if utils.is_grade(cell) and self.skip_cells_with_tag in cell.metadata.get("tags", []):
            # A test cell always runs: a submission may not tag its way past the tests.
            cell.metadata["tags"] = [t for t in cell.metadata["tags"] if t != self.skip_cells_with_tag]
        if self.split and is_test_cell(cell):
            timeout = max(1, min(self.timeout or 60, int(deadline - time.monotonic()) + 1))
            await self._tests.test_cell(cell, index, timeout, self.kill_grace, student=(self.km, self.kc),
                                        budget=self._budget)
            return
        timeout = self.timeout
        self.timeout = max(1, min(timeout, int(deadline - time.monotonic()) + 1))
        try:
            await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
        finally:
            self.timeout = timeout
        ran_first = self._setup_ran_first
        if self.split and is_setup_cell(cell) and cell.metadata["nbgrader"]["grade_id"] not in ran_first:
            await self._tests.setup_cell(cell.source)  # another read-only cell: where the notebook has it

    async def _replay(self, indices: list[int], deadline: float) -> None:
        """Re-run earlier cells in a fresh kernel; their recorded outputs stay as they were."""
        budget, self._budget = self._budget, self._budget.scratch()  # what replays print is thrown away
        try:
            await self._replay_cells(indices)
        finally:
            self._budget = budget

    async def _replay_cells(self, indices: list[int]) -> None:
        for index in indices:
            self._failed_index = index
            original = self.nb.cells[index]
            scratch = NotebookNode(
                cell_type="code",
                source=original.source,
                metadata=original.metadata,
                outputs=[],
                execution_count=None,
            )
            self.nb.cells[index] = scratch
            try:
                await self.async_execute_cell(scratch, index, store_history=False)
            finally:
                self.nb.cells[index] = original
        self._failed_index = None
