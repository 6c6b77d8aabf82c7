"""``python -m autograder.gates.hostile [--plain] [--timeout S] [--skip NAME ...] [PS]``: grade the corpus.

Prints, for every submission, its fair grade (the honest twin's score, graded alone in a first
batch), the points it must keep (runaway cases) and what it got. ``--plain`` grades with plain
``nbgrader autograde`` (the grading path before issue 9), one submission at a time.
"""

from __future__ import annotations

import argparse
import sys

from autograder.gates.hostile.corpus import cases
from autograder.gates.hostile.run import fair, grade_engine, grade_plain, listener, outcomes, prepare
from autograder.gates.workspace import workspace
from autograder.table import format_table

# Unbounded by anything on a grader without a sandbox: never run them with --plain on a shared machine.
UNSAFE_PLAIN = ("h-memory-bomb", "h-fork-bomb", "h-kill-grader")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gates.hostile",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", default="ps1")
    parser.add_argument("--plain", action="store_true", help="grade with plain nbgrader autograde")
    parser.add_argument("--timeout", type=int, default=10, help="per-cell time limit (default 10 s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", nargs="*", default=[], help="hostile students to leave out")
    parser.add_argument("--keep", action="store_true", help="keep the temporary course copies")
    args = parser.parse_args(argv)
    skip = set(args.skip) | (set(UNSAFE_PLAIN) if args.plain else set())
    hostile = [c for c in cases(args.assignment) if c.name not in skip]

    def graded(ws, port, chosen):
        honest = prepare(ws, args.assignment, chosen, port)
        if args.plain:
            code, log = grade_plain(ws, args.assignment)
        else:
            code, log = grade_engine(ws, args.assignment, args.workers)
        return outcomes(ws, args.assignment, [*honest, *(c.name for c in chosen)], code, log)

    with listener() as (port, received):
        with workspace([args.assignment], timeout=args.timeout, keep=args.keep) as ws:
            alone = graded(ws, port, [])
        with workspace([args.assignment], timeout=args.timeout, keep=args.keep) as ws:
            batch = graded(ws, port, hostile)
            rows = []
            for name, result in batch.results.items():
                case = next((c for c in hostile if c.name == name), None)
                low, high = fair(ws, args.assignment, case, alone) if case else (0, alone.results[name].score)
                got = "no row" if result.score is None else f"{result.score:g}"
                rows.append((name, case.attack if case else "honest", f"{low:g}..{high:g}", got,
                             "OK" if result.score is not None and low <= result.score <= high else "UNFAIR"))
    print(format_table(["student", "attack", "fair", "got", "verdict"], rows))
    print(f"grader exit status {batch.returncode}; listener received {received}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
