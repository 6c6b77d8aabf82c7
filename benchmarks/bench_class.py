"""What one submission of each assignment costs a grading worker, and a class's grading time from it.

Grades ``--count`` reference and ``--count`` blank submissions of each of ps1-ps4 with
``python -m autograder grade --workers W`` (a Dask LocalCluster on this machine), then reads each
submission's worker seconds back from ``<course>/.autograder/<ps>/<student>.json`` and the run's wall
time. From those it prints the model of ``benchmarks/README.md``: a class of ``--students`` students
times the four assignments on one server with ``--server-cores`` cores, and on ``--pods`` grading pods
of ``--pod-cores`` cores each (one Dask worker per core, one thread each), where

    wall = start + (sum over assignments of students * worker seconds per submission) / workers

and ``start`` is this machine's measured start of a run (cluster, warm test kernels) per assignment.
Asserts nothing.

Run: ``.venv/bin/python benchmarks/bench_class.py [--workers 2] [--count 4]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the autograder package sits in the repo root

from autograder.course import ROOT  # noqa: E402
from autograder.engine.records import STATE  # noqa: E402
from autograder.gates.students import Student, _write_submissions, reference_answers  # noqa: E402
from autograder.gates.workspace import tools_on_path, workspace  # noqa: E402

ASSIGNMENTS = ("ps1", "ps2", "ps3", "ps4")


def measure(assignment: str, workers: int, count: int) -> tuple[float, list[float]]:
    """(wall seconds of the grade command, each submission's worker seconds) for one assignment."""
    with workspace([assignment]) as ws:
        ws.nbgrader("generate_assignment", assignment, "--force")
        reference = reference_answers(assignment, ws.course / "source")
        students = [Student(f"right-{i}", reference) for i in range(count)]
        students += [Student(f"blank-{i}", {}) for i in range(count)]
        _write_submissions(ws, assignment, students)
        command = [sys.executable, "-m", "autograder", "grade", assignment, "--workers", str(workers),
                   "--course", str(ws.course), "--force"]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
        states = (ws.course / STATE / assignment).glob("*.json")
        seconds = [json.loads(path.read_text())["seconds"] for path in states]
    return wall, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--count", type=int, default=4, help="reference and blank submissions each")
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--server-cores", type=int, default=16)
    parser.add_argument("--pods", type=int, default=8)
    parser.add_argument("--pod-cores", type=int, default=2)
    args = parser.parse_args()
    tools_on_path()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before the first run")
    per_submission, starts = {}, []
    for assignment in ASSIGNMENTS:
        wall, seconds = measure(assignment, args.workers, args.count)
        per_submission[assignment] = statistics.mean(seconds)
        # What the run spent beyond its submissions' share of the workers: cluster start, warm-up, records.
        starts.append(max(0.0, wall - sum(seconds) / args.workers))
        print(f"{assignment}: {len(seconds)} submissions in {wall:.1f} s wall with {args.workers} workers; "
              f"{per_submission[assignment]:.2f} s of a worker per submission "
              f"(min {min(seconds):.2f}, max {max(seconds):.2f})", flush=True)
    start = statistics.mean(starts)
    work = sum(args.students * s for s in per_submission.values())  # worker seconds for the whole class
    print(f"start of a run (cluster, warm test kernels, recording): {start:.1f} s on average")
    print(f"a class of {args.students} x {len(ASSIGNMENTS)} assignments = {args.students * len(ASSIGNMENTS)} "
          f"submissions, {work / 3600:.2f} worker-hours")
    for name, workers in ((f"one {args.server_cores}-core server", args.server_cores),
                          (f"{args.pods} pods of {args.pod_cores} cores", args.pods * args.pod_cores),
                          (f"this machine ({args.workers} workers)", args.workers)):
        wall = len(ASSIGNMENTS) * start + work / workers
        print(f"{name:>28}: {workers:3d} workers, about {wall / 60:6.1f} min for the class "
              f"({wall / 60 / len(ASSIGNMENTS):.1f} min per assignment)")


if __name__ == "__main__":
    main()
