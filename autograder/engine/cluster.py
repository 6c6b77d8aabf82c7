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
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ALLOWED_FAILURES", "Where", "grading_client", "security"]

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
def grading_client(where: Where) -> Iterator:
    """A ``distributed.Client`` on the cluster ``where`` names; a local one is stopped on exit."""
    import dask
    from distributed import Client, LocalCluster

    if where.scheduler:
        with Client(where.scheduler, security=security(where), timeout=30) as client:
            yield client
        return
    with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
        cluster = LocalCluster(n_workers=where.workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
                               memory_limit=0)
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()
