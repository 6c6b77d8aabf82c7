"""The grading sandbox (issue 9): what student code inside it can see, write and use.

Each test runs a short Python program in the sandbox ``grade`` gives a kernel: the same bwrap
command line, read-only paths, unprivileged uid and rlimits. bubblewrap is required (``.ci/run``
installs it), so these tests fail rather than skip where it is missing.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from autograder.course import COURSE, ROOT
from autograder.engine.sandbox import (
    INSIDE,
    Limits,
    Sandbox,
    SandboxUnavailable,
    apply_limits,
    bwrap_argv,
    readonly_paths,
    unavailable_reason,
    write_kernel_spec,
)

MIB = 1 << 20


@pytest.fixture(scope="module")
def readonly():
    assert unavailable_reason() is None, "bubblewrap must work here (.ci/run installs it)"
    return readonly_paths(protect=COURSE)


def _run(tmp_path: Path, readonly, code: str, limits: Limits | None = None) -> dict:
    """Run ``code`` in a sandbox whose working copy is ``tmp_path/work``; it prints one JSON line."""
    work, ipc = tmp_path / "work", tmp_path / "ipc"
    work.mkdir(exist_ok=True)
    ipc.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        os.chown(ipc, 100_007, 100_007)
    box = Sandbox(workdir=str(work), ipc_dir=str(ipc), readonly=readonly, uid=100_007,
                  limits=limits or Limits())
    argv = bwrap_argv(box, [sys.executable, "-c", textwrap.dedent(code)])
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"},
                         preexec_fn=lambda: apply_limits(box.limits))
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_sandbox_sees_its_copy_and_the_python_environment_only(tmp_path, readonly):
    other = tmp_path / "other_student"
    other.mkdir()
    (other / "answer.ipynb").write_text("{}")
    (tmp_path / "gradebook.db").write_text("")
    secret = [str(p) for p in sorted(COURSE.rglob("*.ipynb"))] + [
        str(COURSE / "nbgrader_config.py"), str(other / "answer.ipynb"), str(tmp_path / "gradebook.db"),
        "/root/.bashrc", "/root/.profile", str(ROOT / "README.md"), "/etc/shadow"]
    found = _run(tmp_path, readonly, f"""
        import json, os, cnncourse
        print(json.dumps({{"visible": [p for p in {secret!r} if os.path.exists(p)], "cwd": os.getcwd(),
                          "root": sorted(os.listdir("/root")),
                          "around": sorted(os.listdir({str(tmp_path)!r})), "library": cnncourse.__name__}}))
    """)
    # /root holds only the Python installation, the folder around the copy only the socket folder.
    python_in_root = [".pyenv"] if sys.base_prefix.startswith("/root") else []
    assert found == {"visible": [], "cwd": INSIDE, "root": python_in_root, "around": ["ipc"],
                     "library": "cnncourse"}


def test_sandbox_writes_only_into_its_own_bounded_folders(tmp_path, readonly):
    """The working folder and /tmp are tmpfs of bounded size: nothing reaches the host's disk."""
    targets = ["/usr/evil", sys.prefix + "/evil", str(ROOT / "src" / "evil"), "/evil", "/etc/evil",
               "/submission.ro/evil"]
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "given.txt").write_text("from the student")
    found = _run(tmp_path, readonly, f"""
        import json, os
        written = []
        for path in {targets!r} + ["{INSIDE}/mine.txt", "/tmp/scratch.txt"]:
            try:
                open(path, "w").write("x")
                written.append(path)
            except OSError:
                pass
        try:
            with open("filler.bin", "wb") as handle:
                for _ in range(8):
                    handle.write(b"x" * (1 << 20))
            full = "no"
        except OSError as error:
            full = error.errno
        print(json.dumps({{"written": written, "given": open("given.txt").read(), "full": full,
                          "cwd": os.getcwd()}}))
    """, Limits(tmp_size=4 * MIB))
    assert found == {"written": [f"{INSIDE}/mine.txt", "/tmp/scratch.txt"], "given": "from the student",
                     "full": errno.ENOSPC, "cwd": INSIDE}
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["given.txt"]
    assert not any(Path(t).exists() for t in targets)


def test_sandbox_has_no_network(tmp_path, readonly):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        found = _run(tmp_path, readonly, f"""
            import json, socket
            results = []
            for address in [("127.0.0.1", {port}), ("pypi.org", 443), ("8.8.8.8", 53)]:
                try:
                    socket.create_connection(address, timeout=3).close()
                    results.append("connected")
                except OSError as error:
                    results.append(type(error).__name__)
            print(json.dumps(results))
        """)
    finally:
        server.close()
    assert "connected" not in found and len(found) == 3


def test_sandbox_runs_unprivileged_without_capabilities(tmp_path, readonly):
    found = _run(tmp_path, readonly, """
        import json, os
        status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
        print(json.dumps({"uid": os.getuid(), "caps": status["CapEff"].strip(),
                          "bound": status["CapBnd"].strip(), "nnp": status["NoNewPrivs"].strip(),
                          "pid": os.getpid() < 10}))
    """)
    assert found["caps"] == found["bound"] == "0000000000000000"
    assert found["nnp"] == "1" and found["pid"]  # its own pid namespace
    assert found["uid"] != 0


def test_memory_file_process_and_tmp_limits_fire(tmp_path, readonly):
    limits = Limits(memory=1536 * MIB, processes=40, file_size=8 * MIB, tmp_size=16 * MIB)
    found = _run(tmp_path, readonly, """
        import json, os
        result = {}
        try:
            block = bytearray(3 << 30)
            result["memory"] = "allocated"
        except MemoryError:
            result["memory"] = "MemoryError"
        try:
            with open("big.bin", "wb") as handle:
                handle.write(b"x" * (9 << 20))
            result["file"] = "written"
        except OSError as error:
            result["file"] = error.errno
        try:
            for number in range(32):  # files under the size limit, until /tmp is full
                with open(f"/tmp/fill{number}.bin", "wb") as handle:
                    handle.write(b"x" * (1 << 20))
            result["tmp"] = "written"
        except OSError as error:
            result["tmp"] = error.errno
        children = []
        try:
            for _ in range(100):
                pid = os.fork()
                if pid == 0:
                    import time
                    time.sleep(5)
                    os._exit(0)
                children.append(pid)
            result["processes"] = "forked all"
        except OSError:
            result["processes"] = len(children)
        for pid in children:
            os.kill(pid, 9)
        print(json.dumps(result))
    """, limits)
    assert found["memory"] == "MemoryError"
    assert found["file"] == errno.EFBIG
    assert found["tmp"] == errno.ENOSPC
    assert isinstance(found["processes"], int) and found["processes"] < 40


def test_readonly_paths_refuse_to_expose_the_course(tmp_path):
    assert all(not COURSE.is_relative_to(p) for p in readonly_paths(protect=COURSE))
    with pytest.raises(SandboxUnavailable, match="would expose the course folder"):
        readonly_paths(protect=Path(sys.prefix) / "lib")


def test_kernel_spec_starts_the_launcher_with_message_interrupts(tmp_path):
    spec = json.loads((write_kernel_spec(tmp_path) / "cnncourse-grading" / "kernel.json").read_text())
    assert spec["argv"][1:] == ["-m", "autograder.engine.sandbox", "-f", "{connection_file}"]
    assert spec["interrupt_mode"] == "message"


def test_an_unprivileged_instructor_gets_a_user_namespace_sandbox():
    """Run as uid 1000 (Debian's system Python, outside /root), the sandbox maps the kernel to
    nobody in a user namespace, without capabilities and without the course."""
    system_python = Path("/usr/bin/python3")
    if os.geteuid() != 0 or not system_python.exists():
        pytest.skip("needs root (to become uid 1000) and Debian's /usr/bin/python3")
    with tempfile.TemporaryDirectory() as scratch:  # pytest's tmp_path is not reachable for uid 1000
        found = _as_user_1000(Path(scratch), system_python)
    assert found == [65534, "0000000000000000", False]


def _as_user_1000(scratch: Path, system_python: Path) -> list:
    work, ipc = scratch / "work", scratch / "ipc"
    for folder in (scratch, work, ipc):
        folder.mkdir(exist_ok=True)
        os.chown(folder, 1000, 1000)
    os.chmod(scratch, 0o755)
    inside = ("import json, os\n"
              "s = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines())\n"
              f"print(json.dumps([os.getuid(), s['CapEff'].strip(), os.path.exists({str(COURSE)!r})]))")
    outside = textwrap.dedent(f"""
        import subprocess, sys
        sys.path.insert(0, {str(ROOT)!r})
        from autograder.engine.sandbox import Sandbox, bwrap_argv
        box = Sandbox(workdir={str(work)!r}, ipc_dir={str(ipc)!r})
        argv = bwrap_argv(box, ["/usr/bin/python3", "-c", {inside!r}])
        run = subprocess.run(argv, capture_output=True, text=True)
        print(run.stdout.strip() or run.stderr)
    """)
    as_user = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", str(system_python), "-c", outside]
    run = subprocess.run(as_user, capture_output=True, text=True, cwd="/", env={"PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and run.stdout.strip(), run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])
