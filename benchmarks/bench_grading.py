"""Grading 20 ps1 submissions: plain serial ``nbgrader autograde`` vs ``python -m autograder grade``.

Prints wall seconds per submission, the speed-up of ``grade --workers N`` (a Dask LocalCluster)
over serial nbgrader, the same batch on a loopback cluster of separate ``dask scheduler`` and
``dask worker`` commands (``--scheduler``; each in its own temporary folder, the course not among them),
and the isolation overhead per submission (sandboxed against ``--no-sandbox``). Also prints the CPU
seconds (user + system) of the grader's reaped child processes, since timings on a machine shared
with other jobs say little on their own; sandboxed kernels are reaped inside their bubblewrap pid
namespace and escape this count, so compare CPU only between nbgrader and ``--no-sandbox``.
The run ``onekernel`` grades with the test cells in the student's kernel
(``SandboxedExecute.split = False``, the subvertible way) to print what the clean test kernel costs.
Asserts nothing.

The 20 submissions (Section 7.2's ps1): 5 correct, 5 blank, 5 partial (the ``PARTIAL`` student of
``autograder/gates/mutants/ps1.py``) and 5 wrong (the first five mutants). Every grader grades a fresh
copy of the course with the course's own cell timeout.

Run: ``.venv/bin/python benchmarks/bench_grading.py [--workers 2] [--runs serial,grade,loopback,...]``
(default: all of serial, grade, loopback, nosandbox, onekernel)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the autograder package sits in the repo root

from autograder.course import ROOT  # noqa: E402
from autograder.engine.cluster import commands_cluster  # noqa: E402
from autograder.gates import mutants
from autograder.gates.students import Student, _write_submissions, reference_answers  # noqa: E402
from autograder.gates.workspace import Workspace, tools_on_path, workspace  # noqa: E402

COUNT = 5  # submissions of each kind


def submissions(ws: Workspace) -> list[Student]:
    """5 correct, 5 blank, 5 partial and 5 wrong ps1 submissions."""
    reference = reference_answers("ps1", ws.course / "source")
    spec = mutants.load("ps1")
    partial = {g: reference[g] for g in spec.solved} | spec.replacements
    wrong = list(spec.mutants.values())[:COUNT]
    students = [Student(f"correct-{i}", reference) for i in range(COUNT)]
    students += [Student(f"blank-{i}", {}) for i in range(COUNT)]
    students += [Student(f"partial-{i}", partial) for i in range(COUNT)]
    students += [Student(f"wrong-{i}", reference | cells) for i, cells in enumerate(wrong)]
    return students


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _grade(*extra: str, workers: int, config: str = "") -> Callable[[Workspace], None]:
    def run(ws: Workspace) -> None:
        if config:
            with (ws.course / "nbgrader_config.py").open("a") as course_config:
                course_config.write(config)
        command = [sys.executable, "-m", "autograder", "grade", "ps1", "--workers", str(workers),
                   "--course", str(ws.course), "--force", *extra]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
    return run


def _loopback(workers: int) -> Callable[[Workspace], None]:
    def run(ws: Workspace) -> None:
        with tempfile.TemporaryDirectory(prefix="bench-dask-") as root, \
                commands_cluster(Path(root), workers) as address:
            _grade("--scheduler", address, workers=workers)(ws)
    return run


def _serial(ws: Workspace) -> None:
    ws.nbgrader("autograde", "ps1", "--force")


def measure(name: str, grader: Callable[[Workspace], None]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of all child processes, graded submissions) for one grader."""
    with workspace(["ps1"]) as ws:
        ws.nbgrader("generate_assignment", "ps1", "--force")
        students = submissions(ws)
        _write_submissions(ws, "ps1", students)
        cpu, start = _children_cpu(), time.perf_counter()
        grader(ws)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
        graded = sum(1 for s in students if any(ws.path("autograded", s.name, "ps1").glob("*.ipynb")))
    print(f"{name:>12}: {wall:7.1f} s wall, {wall / len(students):5.2f} s per submission, "
          f"{cpu:7.1f} s CPU, {graded}/{len(students)} graded", flush=True)
    return wall, cpu, len(students)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", default="serial,grade,loopback,nosandbox,onekernel",
                        help="which graders to time, comma-separated (default: all five)")
    args = parser.parse_args()
    tools_on_path()
    runs = args.runs.split(",")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the first run")
    results = {}
    if "serial" in runs:
        results["serial"] = measure("nbgrader", _serial)
    if "grade" in runs:
        results["grade"] = measure(f"grade -w{args.workers}", _grade(workers=args.workers))
    if "loopback" in runs:  # the cluster's start (about 3 s) counts: an instructor would pay it too
        results["loopback"] = measure(f"loopback -w{args.workers}", _loopback(args.workers))
    if "nosandbox" in runs:
        results["nosandbox"] = measure("no sandbox", _grade("--no-sandbox", workers=args.workers))
    if "onekernel" in runs:
        results["onekernel"] = measure("one kernel", _grade(workers=args.workers,
                                                          config="\nc.SandboxedExecute.split = False\n"))
    if "serial" in results and "grade" in results:
        print(f"speed-up of grade --workers {args.workers} over serial nbgrader: "
              f"{results['serial'][0] / results['grade'][0]:.2f}x wall "
              f"(CPU of nbgrader vs --no-sandbox: {results['serial'][1]:.0f} s vs "
              f"{results.get('nosandbox', (0, float('nan')))[1]:.0f} s)")
    if "serial" in results and "loopback" in results:
        print(f"speed-up of the loopback cluster ({args.workers} dask worker commands) over serial nbgrader: "
              f"{results['serial'][0] / results['loopback'][0]:.2f}x wall"
              + (f"; {results['grade'][0] / results['loopback'][0]:.2f}x the LocalCluster's speed"
                 if "grade" in results else ""))
    if "grade" in results and "onekernel" in results:
        (wall, _, n), (wall1, _, _) = results["grade"], results["onekernel"]
        serial = results.get("serial", (wall1,))[0]
        print(f"clean test kernel per submission: {(wall - wall1) * args.workers / n:+.2f} s of a worker's "
              f"wall time (test cells in the student's kernel: {serial / wall1:.2f}x serial nbgrader, "
              "but subvertible)")
    if "grade" in results and "nosandbox" in results:
        (wall, _, n), (wall0, _, _) = results["grade"], results["nosandbox"]
        print(f"isolation overhead per submission: {(wall - wall0) * args.workers / n:+.2f} s of a worker's "
              "wall time (CPU not comparable: sandboxed kernels escape the count)")


if __name__ == "__main__":
    main()
