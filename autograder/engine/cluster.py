"""Where grading runs: a Dask ``LocalCluster`` on this machine, or an existing scheduler.

``python -m autograder grade`` starts a ``LocalCluster`` of ``--workers`` processes (one thread
each) whose scheduler listens on loopback only. With ``--scheduler ADDRESS`` (or
``c.Grading.scheduler`` in ``nbgrader_config.py``) it connects to a scheduler whose workers run on
other machines with the same environment; a ``tls://`` address uses the certificates named by
``c.Grading.tls_ca_file``, ``tls_cert`` and ``tls_key`` (course/README.md shows the commands).

A task whose worker dies is run again elsewhere; after :data:`ALLOWED_FAILURES` such deaths
distributed gives up on it (``KilledWorker``) and the client records that submission as FAILED.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["ALLOWED_FAILURES", "Where", "grading_client", "security", "commands_cluster"]

ALLOWED_FAILURES = 3  # distributed's default, set explicitly for the LocalCluster's scheduler


@dataclass(frozen=True)
class Where:
    """Which cluster grades: the command line's ``--workers`` and ``--scheduler``, the course config's TLS."""

    workers: int = 1
    scheduler: str | None = None
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    def describe(self) -> str:
        if self.scheduler:
            return f"the Dask cluster at {self.scheduler}"
        return f"{self.workers} local Dask worker process(es)"


def security(where: Where):  # noqa: ANN201  (distributed.Security or None)
    """The client's TLS settings, or None for a plain ``tcp://`` or local cluster.

    Raises:
        ValueError: a ``tls://`` scheduler without all three files, or files without ``tls://``.
    """
    from distributed.security import Security

    files = (where.tls_ca_file, where.tls_cert, where.tls_key)
    tls = bool(where.scheduler and where.scheduler.startswith("tls://"))
    if tls and not all(files):
        raise ValueError(f"grade: the scheduler {where.scheduler} uses TLS: set c.Grading.tls_ca_file, "
                         "tls_cert and tls_key in nbgrader_config.py (course/README.md)")
    if any(files) and not tls:
        raise ValueError("grade: c.Grading.tls_* are set but the scheduler address does not start with "
                         f"tls:// (got {where.scheduler!r}); use tls://HOST:PORT")
    if not tls:
        return None
    return Security(tls_ca_file=where.tls_ca_file, tls_client_cert=where.tls_cert,
                    tls_client_key=where.tls_key, require_encryption=True)


@contextlib.contextmanager
def grading_client(where: Where, plugins: tuple = ()) -> Iterator:
    """A ``distributed.Client`` on the cluster ``where`` names; a local one is stopped on exit.

    Args:
        plugins: worker plugins a local cluster's workers start with (and get again when restarted):
            their ``setup`` then overlaps the cluster's start. On an existing cluster the caller
            registers them.
    """
    import dask
    from distributed import Client, LocalCluster

    # No `with Client(...)`: that would make it the current client of this thread's context only,
    # and the client may be opened in one thread and used and closed in another.
    if where.scheduler:
        client = Client(where.scheduler, security=security(where), timeout=30, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
        return
    before = set(multiprocessing.active_children())
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        cluster = LocalCluster(n_workers=where.workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                               memory_limit=0, plugins=set(plugins))
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        _stop(cluster, before)


def _stop(cluster, before: set) -> None:  # noqa: ANN001  (a distributed.LocalCluster)
    """Stop a local cluster: its scheduler, nannies and worker processes, and never raise.

    distributed's own close fails (``AssertionError: can only join a started process``) when it comes
    while a nanny is restarting a worker that has just died, as after a submission that killed its
    worker for the last time. By then every result is recorded: a grading run must not end in a
    traceback for that, nor leave a worker process or a listening scheduler behind. ``before`` is
    the set of this process's multiprocessing children before the cluster started.
    """
    looks = (0.0,)  # seconds to wait before each sweep for worker processes left behind
    try:
        cluster.close(timeout=60)
    except Exception as error:  # noqa: BLE001  (distributed's internal races: see above)
        log.warning("the local Dask cluster did not stop cleanly (%s: %s); stopping what is left of it",
                    type(error).__name__, error)
        with contextlib.suppress(Exception):
            cluster.sync(cluster.scheduler.close, callback_timeout=30)
        with contextlib.suppress(Exception):
            cluster._loop_runner.stop()  # what close() does last when it succeeds
        looks = (0.0, 0.5)  # a worker the nanny was starting may appear a moment later
    for pause in looks:
        time.sleep(pause)
        for child in set(multiprocessing.active_children()) - before:
            if child.name.startswith("Dask Worker process"):
                child.kill()
                child.join(10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def commands_cluster(root: Path, workers: int = 2, tls: dict[str, str] | None = None) -> Iterator[str]:
    """A cluster of separate commands on this machine, as on several: ``dask scheduler`` and
    ``workers`` times ``dask worker`` (one process, one thread each), on 127.0.0.1, each in its own
    folder under ``root`` (also its TMPDIR), none of them the course. Yields the scheduler's address
    once every worker has joined; stops them all on exit. Used by the tests and the benchmark.

    Args:
        tls: ``{"tls_ca_file", "tls_cert", "tls_key"}``: the scheduler and workers use these files
            and the address is ``tls://``.
    """
    from distributed import Client

    dask = str(Path(sys.executable).parent / "dask")
    scheme = "tls" if tls else "tcp"
    address = f"{scheme}://127.0.0.1:{_free_port()}"
    flags = ([] if not tls else ["--tls-ca-file", tls["tls_ca_file"], "--tls-cert", tls["tls_cert"],
                                 "--tls-key", tls["tls_key"]])
    # The same environment as the grader: its code importable, from any folder.
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    processes: list[subprocess.Popen] = []
    try:
        (root / "scheduler").mkdir(parents=True)
        processes.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
             "--protocol", scheme, "--no-dashboard", *flags], cwd=root / "scheduler", env=env,
            stdout=subprocess.DEVNULL, stderr=(root / "scheduler.log").open("w")))
        for n in range(workers):
            folder = root / f"w{n}"
            folder.mkdir()
            processes.append(subprocess.Popen(
                [dask, "worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "1",
                 "--no-dashboard", "--memory-limit", "0", "--local-directory", str(folder), *flags],
                cwd=folder, env=dict(env, TMPDIR=str(folder)), stdout=subprocess.DEVNULL,
                stderr=(root / f"w{n}.log").open("w")))
        secure = security(Where(scheduler=address, **(tls or {})))
        with Client(address, security=secure, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
