"""The sandbox a submission's kernel runs in (bubblewrap namespaces, an unprivileged uid, rlimits).

A kernel spec written by :func:`write_kernel_spec` starts ``python -m autograder.engine.sandbox -f
{connection_file}``. That launcher reads its :class:`Sandbox` from the ``AUTOGRADER_SANDBOX``
environment variable, sets the rlimits and replaces itself with ``bwrap``, so killing the kernel
process kills the whole sandbox (its pid namespace dies with it). Inside:

* the submission's files at ``/submission``: a tmpfs of bounded size filled from a read-only view
  of the host copy when the kernel starts, so nothing the kernel writes reaches the host's disk;
  a private ``/tmp`` of bounded size;
* read-only: ``/usr``, the Python installation and the paths on a clean interpreter's ``sys.path``
  (the virtual environment, an editable ``cnncourse``), a few files of ``/etc``;
* nothing else: no course folder, gradebook, other submissions or home directory; no network
  (a private network namespace), its own pid, ipc and uts namespaces, a clean environment.

As root, bwrap runs without a user namespace (root inside a user namespace is not a sandbox)
and the kernel drops to ``uid`` with ``setpriv`` (no capabilities, no new privileges). A
non-root instructor gets an unprivileged user namespace instead. The kernel talks to the grader
over Unix sockets (``ipc`` transport) in a per-kernel folder bound into the sandbox.

Limits (per kernel): RLIMIT_AS (memory; cgroups are not used: they belong to the host), RLIMIT_NPROC
(processes and threads of ``uid``: each concurrent kernel gets its own uid, hence its own budget),
RLIMIT_FSIZE (largest file), RLIMIT_CORE 0, and the sizes of ``/tmp`` and ``/submission``.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "Limits",
    "Sandbox",
    "SandboxUnavailable",
    "unavailable_reason",
    "bwrap_argv",
    "apply_limits",
    "run_uid",
    "KERNELS_PER_TASK",
    "MAX_WORKERS",
    "readonly_paths",
    "write_kernel_spec",
    "KERNEL_NAME",
    "ENV_VAR",
    "INSIDE",
    "interpreter",
]

KERNEL_NAME = "cnncourse-grading"
ENV_VAR = "AUTOGRADER_SANDBOX"
INSIDE = "/submission"  # the kernel's working folder (a tmpfs) inside the sandbox
SEED = "/submission.ro"  # the host copy, read-only, copied into INSIDE as the kernel starts
# Runs as the kernel's uid: fill the working tmpfs, then become the kernel.
FILL = f'cp -R {SEED}/. {INSIDE}/ 2>/dev/null; cd {INSIDE} && exec "$@"'

# Sandbox uids: every kernel gets one nobody else uses, far above real accounts and the usual
# subordinate-uid ranges (rootless containers). RLIMIT_NPROC counts per uid, and a killed kernel's
# processes linger for seconds: sharing a uid would let one submission's fork bomb starve the next
# submission's kernel, or another grading run's.
UID_BASE = 1_000_000_000
KERNELS_PER_TASK = 16  # uids reserved per submission: its notebooks and their restarts
MAX_WORKERS = 64


def run_uid(task: int, pid: int | None = None) -> int:
    """The first uid of submission number ``task`` in the grading run of process ``pid``."""
    if task < 0:
        raise ValueError(f"run_uid: task must be >= 0, got {task}")
    run = (os.getpid() if pid is None else pid) % 100_000
    return UID_BASE + run * 10_000 + (KERNELS_PER_TASK * task) % 10_000
ETC_FILES = ("passwd", "group", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives")
KERNEL_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "agg",
    "MPLCONFIGDIR": "/tmp/matplotlib",
    "PYTHONDONTWRITEBYTECODE": "1",
    "NBGRADER_EXECUTION": "autograde",
}
GIB = 1 << 30
MIB = 1 << 20


class SandboxUnavailable(RuntimeError):
    """bubblewrap or the namespaces it needs are missing; the message says what to do."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel resource limits (bytes and counts)."""

    memory: int = 2 * GIB  # RLIMIT_AS: measured compatible with torch (docs: sandbox-facts)
    processes: int = 256  # RLIMIT_NPROC: processes + threads of the kernel's uid
    file_size: int = 64 * MIB  # RLIMIT_FSIZE: largest file the kernel may write
    tmp_size: int = 256 * MIB  # size of the private /tmp

    def describe(self) -> str:
        return (
            f"memory {self.memory / GIB:g} GiB (RLIMIT_AS; no cgroup), {self.processes} processes "
            f"(RLIMIT_NPROC), files {self.file_size // MIB} MiB (RLIMIT_FSIZE), "
            f"/tmp {self.tmp_size // MIB} MiB"
        )


@dataclass(frozen=True)
class Sandbox:
    """Everything the launcher needs; travels as JSON in ``AUTOGRADER_SANDBOX``.

    Attributes:
        workdir: the submission's working copy (host path), writable inside at ``/submission``.
        ipc_dir: the per-kernel folder holding the connection file and sockets.
        readonly: host paths bound read-only at the same place.
        uid: the unprivileged uid the kernel runs as when the grader is root.
        isolate: False only for the explicitly requested ``--no-sandbox`` mode (limits only).
    """

    workdir: str
    ipc_dir: str
    readonly: tuple[str, ...] = ()
    uid: int = UID_BASE
    isolate: bool = True
    limits: Limits = field(default_factory=Limits)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls, text: str) -> Sandbox:
        data = json.loads(text)
        data["limits"] = Limits(**data["limits"])
        data["readonly"] = tuple(data["readonly"])
        return cls(**data)


def interpreter() -> str:
    """This Python as kernels start it: its folder resolved, so that a symlinked virtual environment
    is found at the real path the sandbox binds, and its own name kept (a virtual environment's
    ``python`` finds its ``pyvenv.cfg`` from where it is called, not from where its link points)."""
    executable = Path(sys.executable)
    return str(executable.parent.resolve() / executable.name)


def readonly_paths(protect: Path | None = None) -> tuple[str, ...]:
    """What a clean interpreter needs: its installation and every folder on its ``sys.path``.

    Args:
        protect: a folder (the course) that no bound path may contain or lie in.

    Raises:
        SandboxUnavailable: when a needed path would expose ``protect``.
    """
    probe = subprocess.run(
        [sys.executable, "-I", "-c", "import sys, json; print(json.dumps(sys.path))"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    candidates = [sys.prefix, sys.base_prefix, *json.loads(probe.stdout)]
    found: list[str] = []
    for entry in candidates:
        path = Path(entry).resolve() if entry else None
        if path is None or not path.exists() or path == Path("/") or path.is_relative_to("/usr"):
            continue
        if protect is not None and (
            protect.resolve().is_relative_to(path) or path.is_relative_to(protect.resolve())
        ):
            raise SandboxUnavailable(
                f"readonly_paths: {path} is on the kernel's sys.path and would expose "
                f"the course folder {protect}; install cnncourse outside the course"
            )
        if not any(path.is_relative_to(p) for p in map(Path, found)):
            found = [p for p in found if not Path(p).is_relative_to(path)] + [str(path)]
    return tuple(sorted(found))


def _parents(path: str) -> list[str]:
    """``/a/b/c`` -> ``["/a", "/a/b"]``: folders bwrap must create traversable (0755)."""
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def bwrap_argv(box: Sandbox, command: list[str]) -> list[str]:
    """The bwrap command line that runs ``command`` inside ``box``."""
    root = os.geteuid() == 0
    argv = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    if not root:  # an unprivileged user namespace: the kernel is nobody, with no capabilities
        argv += ["--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]
    for name, value in KERNEL_ENV.items():
        argv += ["--setenv", name, value]
    argv += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        if Path("/", link).is_symlink():
            argv += ["--symlink", os.readlink(Path("/", link)), "/" + link]
        elif Path("/", link).is_dir():
            argv += ["--ro-bind", "/" + link, "/" + link]
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(box.limits.tmp_size),
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
    ]
    for name in ETC_FILES:
        if Path("/etc", name).exists():
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    created: set[str] = {"/usr", "/tmp", "/etc", "/proc", "/dev"}
    for path in [*box.readonly, box.ipc_dir]:
        for parent in _parents(path):
            if parent not in created:
                argv += ["--perms", "0755", "--dir", parent]
                created.add(parent)
    for path in box.readonly:
        argv += ["--ro-bind", path, path]
    argv += ["--bind", box.ipc_dir, box.ipc_dir, "--ro-bind", box.workdir, SEED,
             "--size", str(box.limits.tmp_size), "--perms", "1777", "--tmpfs", INSIDE, "--chdir", "/"]
    if root:
        argv += [
            "--",
            "setpriv",
            f"--reuid={box.uid}",
            f"--regid={box.uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
    else:
        argv += ["--"]
    return [*argv, "/bin/sh", "-c", FILL, "sh", *command]


def unavailable_reason() -> str | None:
    """None when a trial sandbox runs here; else what is missing and what to do about it."""
    if shutil.which("bwrap") is None:
        return (
            "bubblewrap is not installed: install it (Debian/Ubuntu: apt-get install bubblewrap; "
            "Fedora: dnf install bubblewrap), or pass --no-sandbox to grade without isolation"
        )
    with tempfile.TemporaryDirectory() as empty:  # an empty working copy: the trial copies nothing
        box = Sandbox(workdir=empty, ipc_dir=empty, readonly=())
        trial = subprocess.run(bwrap_argv(box, ["true"]), capture_output=True, text=True)
    if trial.returncode != 0:
        return (
            f"bubblewrap cannot create the namespaces it needs ({trial.stderr.strip() or trial.returncode}): "
            "run the grader as root, or enable unprivileged user namespaces (sysctl "
            "kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 also "
            "kernel.apparmor_restrict_unprivileged_userns=0), or pass --no-sandbox to grade without isolation"
        )
    return None


def write_kernel_spec(folder: Path) -> Path:
    """Write the grading kernel spec into ``folder/<KERNEL_NAME>``; return ``folder``."""
    spec = {
        "argv": [interpreter(), "-m", "autograder.engine.sandbox", "-f", "{connection_file}"],
        "display_name": "cnncourse grading (sandboxed)",
        "language": "python",
        "interrupt_mode": "message",  # signals cannot reach a kernel in its own session
        "metadata": {"debugger": False},
    }
    target = folder / KERNEL_NAME
    target.mkdir(parents=True, exist_ok=True)
    (target / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder


def apply_limits(limits: Limits) -> None:
    """Set the rlimits of this process (inherited by what it executes)."""
    import resource  # POSIX only; imported here so self-grading without a sandbox works anywhere

    for which, value in [
        (resource.RLIMIT_AS, limits.memory),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_size),
        (resource.RLIMIT_CORE, 0),
    ]:
        resource.setrlimit(which, (value, value))


def _launch(argv: list[str]) -> None:
    """Kernel spec entry point: ``-f CONNECTION_FILE [KERNEL ARGS]``; becomes the kernel."""
    if len(argv) < 2 or argv[0] != "-f" or ENV_VAR not in os.environ:
        raise SystemExit(f"autograder.engine.sandbox: expected -f CONNECTION_FILE and ${ENV_VAR}, got {argv}")
    box = Sandbox.from_env(os.environ[ENV_VAR])
    connection = Path(argv[1]).resolve()
    if not connection.is_relative_to(box.ipc_dir):
        raise SystemExit(f"autograder.engine.sandbox: connection file {connection} is not in {box.ipc_dir}")
    kernel = [interpreter(), "-m", "ipykernel_launcher", "-f", str(connection), *argv[2:]]
    if box.isolate:
        if os.geteuid() == 0:
            for path in (Path(box.ipc_dir), connection):
                os.chown(path, box.uid, box.uid)
        command = bwrap_argv(box, kernel)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:  # --no-sandbox: the limits only, with the grader's rights
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the grading worker
        command = kernel
        env = dict(KERNEL_ENV, PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=box.workdir)
        env.pop("MPLCONFIGDIR")
        os.chdir(box.workdir)
    apply_limits(box.limits)
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    _launch(sys.argv[1:])
