"""What ``tools/system-requirements`` (run first by ``make test`` and by ``.ci/run``) decides (issue 18).

Each test runs the real script under a fake machine: PATH holds only stub commands (``id``,
``apt-get``, ``sudo``, ``bwrap``, ``npm``) and ``CNNCOURSE_SYSROOT`` a fake ``/usr`` tree (Chromium,
PostgreSQL's ``initdb``, a ``python3`` that has or lacks ``venv``). The stub ``apt-get`` only
writes down how it was called, so nothing is ever installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "system-requirements"
EVERYTHING = ("chromium", "postgresql", "bubblewrap", "openssl", "python3-venv", "npm")


def _stub(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


class FakeMachine:
    """A PATH and a root for the script, with the packages in ``present`` installed."""

    def __init__(self, tmp_path: Path, present=EVERYTHING, uid: int = 1000, apt: bool = True,
                 sudo: str | None = None):
        self.bin, self.root, self.calls = tmp_path / "bin", tmp_path / "root", tmp_path / "calls"
        self.bin.mkdir()
        self.calls.touch()
        for tool in ("env",):  # the one real command the script needs besides its stubs
            os.symlink(shutil.which(tool), self.bin / tool)
        _stub(self.bin / "id", f'[ "$1" = -u ] && echo {uid}')
        if apt:  # records its arguments and the environment's DEBIAN_FRONTEND; installs nothing
            _stub(self.bin / "apt-get", f'echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> {self.calls}')
        if sudo == "passwordless":
            _stub(self.bin / "sudo",
                  f'[ "$*" = "-n true" ] && exit 0\necho "sudo $*" >> {self.calls}\nexec "$@"')
        elif sudo == "password":  # `sudo -n` fails: it would have to ask for a password
            _stub(self.bin / "sudo", f'echo "sudo $*" >> {self.calls}\nexit 1')
        if "chromium" in present:
            _stub(self.root / "usr/bin/chromium", "exit 0")
        if "postgresql" in present:
            _stub(self.root / "usr/lib/postgresql/15/bin/initdb", "exit 0")
        if "bubblewrap" in present:
            _stub(self.bin / "bwrap", "exit 0")
        if "openssl" in present:
            _stub(self.bin / "openssl", "exit 0")
        _stub(self.root / "usr/bin/python3", "exit 0" if "python3-venv" in present else "exit 1")
        if "npm" in present:
            _stub(self.bin / "npm", "exit 0")

    def run(self) -> subprocess.CompletedProcess:
        env = {"PATH": str(self.bin), "CNNCOURSE_SYSROOT": str(self.root)}
        return subprocess.run(["/bin/bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                              timeout=30)

    def apt_calls(self) -> list[str]:
        return self.calls.read_text().splitlines()


def test_everything_present_passes_silently_and_installs_nothing(tmp_path):
    machine = FakeMachine(tmp_path, uid=0)
    run = machine.run()
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert machine.apt_calls() == []


@pytest.mark.parametrize("absent", EVERYTHING)
def test_each_missing_requirement_is_named_by_its_debian_package(tmp_path, absent):
    run = FakeMachine(tmp_path, present=[p for p in EVERYTHING if p != absent], apt=False).run()
    assert run.returncode == 1
    (named,) = re.findall(r"which are missing: (.*)", run.stderr)
    assert named == ("nodejs npm" if absent == "npm" else absent)


def test_without_root_or_sudo_one_message_lists_every_missing_package_and_the_install_command(tmp_path):
    machine = FakeMachine(tmp_path, present=["postgresql", "openssl", "npm"], uid=1000, sudo="password")
    run = machine.run()
    assert run.returncode == 1 and run.stdout == ""
    assert "which are missing: chromium bubblewrap python3-venv" in run.stderr
    assert ("sudo apt-get update && sudo apt-get install -y -q --no-install-recommends "
            "chromium bubblewrap python3-venv") in run.stderr
    assert "make test-fast needs none of them" in run.stderr
    assert [line for line in machine.apt_calls() if "apt-get" in line] == []  # it only asked `sudo -n true`


def test_as_root_on_debian_it_updates_then_installs_exactly_what_is_missing(tmp_path):
    machine = FakeMachine(tmp_path, present=["chromium", "postgresql", "openssl", "python3-venv"], uid=0)
    run = machine.run()
    assert machine.apt_calls() == [
        "apt-get update -q DEBIAN_FRONTEND=",
        "apt-get install -y -q --no-install-recommends bubblewrap nodejs npm DEBIAN_FRONTEND=noninteractive"]
    # The stub installed nothing, so the check after installing still finds them missing and says so.
    assert run.returncode == 1 and "still missing: bubblewrap nodejs npm" in run.stderr


def test_with_passwordless_sudo_it_installs_through_sudo(tmp_path):
    machine = FakeMachine(tmp_path, present=["postgresql", "bubblewrap", "openssl", "python3-venv", "npm"],
                          uid=1000,
                          sudo="passwordless")
    machine.run()
    assert machine.apt_calls() == [
        "sudo apt-get update -q", "apt-get update -q DEBIAN_FRONTEND=",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium",
        "apt-get install -y -q --no-install-recommends chromium DEBIAN_FRONTEND=noninteractive"]


def test_off_debian_even_root_gets_the_message_instead_of_an_install(tmp_path):
    present = ["chromium", "postgresql", "bubblewrap", "openssl", "npm"]
    run = FakeMachine(tmp_path, present=present, uid=0, apt=False).run()
    assert run.returncode == 1 and "which are missing: python3-venv" in run.stderr


def test_make_test_checks_the_system_first_and_ci_runs_the_same_script():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: system-requirements lint$", makefile, flags=re.M)
    assert re.search(r"^system-requirements:\n\t@?tools/system-requirements$", makefile, flags=re.M)
    assert not re.search(r"^test-fast:.*system-requirements", makefile, flags=re.M)
    ci = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert "tools/system-requirements" in ci and ci[-1] == "make test"
    assert "apt-get" not in "\n".join(line for line in ci if not line.startswith("#"))
