"""Making one grading kernel: its manager, its sandbox, the launcher's environment, its sealed sockets.

:class:`autograder.engine.execute.SandboxedExecute` starts the student kernel through nbclient and
the clean test kernel through :meth:`KernelPlace.clean_kernel`; both are sandboxed the same way
(:mod:`autograder.engine.sandbox`) and talk over Unix sockets in a folder of their own.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient.util import ensure_async

from autograder.engine.kernel_io import KernelOutput
from autograder.engine.sandbox import ENV_VAR, KERNEL_NAME, Limits, Sandbox, write_kernel_spec
from autograder.engine.test_kernel import shutdown

__all__ = ["KernelPlace", "launcher_env"]


def launcher_env(box: Sandbox) -> dict[str, str]:
    """The launcher runs on the host (it imports this package); the kernel gets a clean env."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        ENV_VAR: box.to_env(),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


@dataclass(frozen=True)
class KernelPlace:
    """Where and how a grading process's kernels run.

    Attributes:
        scratch: folder for kernel specs and socket folders ("" : the system's temporary folder).
        config: the traitlets config the kernel managers get.
        readonly: host paths bound read-only in the sandbox.
        isolate: bubblewrap sandbox (False: rlimits only).
        limits: the per-kernel limits.
    """

    scratch: str
    config: object
    readonly: tuple[str, ...]
    isolate: bool
    limits: Limits

    def manager(self, prefix: str) -> tuple[AsyncKernelManager, str]:
        """A manager for one sandboxed kernel, talking over Unix sockets in a new folder (returned)."""
        base = Path(self.scratch or tempfile.gettempdir())
        specs = write_kernel_spec(base / "kernels")
        ipc_dir = tempfile.mkdtemp(prefix=prefix, dir=base)
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, config=self.config,
                                kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]))
        km.transport = "ipc"
        km.ip = os.path.join(ipc_dir, "socket")
        km.connection_file = os.path.join(ipc_dir, "connection.json")
        return km, ipc_dir

    def box(self, workdir: str, ipc_dir: str, uid: int) -> Sandbox:
        """The sandbox of one kernel, with this course's read-only paths and limits."""
        return Sandbox(workdir=workdir, ipc_dir=ipc_dir, readonly=self.readonly, uid=uid,
                       isolate=self.isolate, limits=self.limits)

    def seal(self, ipc_dir: str) -> None:
        """The kernel has bound its sockets: from now on it may not create files on the host."""
        if self.isolate and os.geteuid() == 0:
            os.chown(ipc_dir, 0, 0)
            os.chmod(ipc_dir, 0o755)

    async def clean_kernel(self, uid: int, arguments: list[str],
                           startup_timeout: float) -> tuple[AsyncKernelManager, object]:
        """A sandboxed kernel in an empty folder (no student file), ready, that may ask for input."""
        km, ipc = self.manager("tests-")
        workdir = tempfile.mkdtemp(prefix="tests-run-", dir=self.scratch or None)
        env = launcher_env(self.box(workdir, ipc, uid))
        output = KernelOutput()
        try:
            await ensure_async(km.start_kernel(env=env, extra_arguments=arguments, **output.launch_kwargs()))
        finally:
            output.started()
        kc = km.client()
        kc.start_channels()
        try:
            await ensure_async(kc.wait_for_ready(timeout=startup_timeout))
        except Exception as error:  # say why: bubblewrap's or Python's own words
            await shutdown(km, kc)
            raise RuntimeError(f"{error}; the kernel wrote: {output.text(wait=2)}") from error
        kc.allow_stdin = True
        self.seal(ipc)
        return km, kc
