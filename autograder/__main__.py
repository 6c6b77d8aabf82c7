"""Command line: ``python -m autograder {grade,lint,digest,new,validate,simulate,mutants,students,all} ...``.

``grade`` grades the course's real submissions (``course/submitted/``) into its gradebook.

For an instructor writing questions (``course/AUTHORING.md``): ``lint [PS ...]`` checks the source
notebooks statically against every rule the grader relies on; ``digest NAME ANSWER`` prints the
``check_choice(...)`` line of a multiple-choice question; ``new PS`` writes a new assignment from
the template, with its mutants file.

``students`` grades the simulated students and the mutants in one autograde run per assignment;
``all`` is ``validate`` followed by ``students``.

Exit status 0 when every check passed, 1 when any failed, 2 for usage errors and when `grade`
cannot start a grading kernel (it says why, before grading anyone).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from autograder.course import COURSE, assignments
from autograder.engine.client import Options, grade_assignment
from autograder.engine.sandbox import SandboxUnavailable
from autograder.engine.startup import StartupFailed
from autograder.gates.workspace import NbgraderFailed, workspace
from autograder.table import format_table, verdict

DEFAULT_TIMEOUT = 30  # seconds per cell while grading synthetic students (the course uses 120)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["grade", "lint", "digest", "new", "validate", "simulate",
                                            "mutants", "students", "all"],
                        help="grade the submitted notebooks; lint the source notebooks; print a "
                             "multiple-choice digest line (digest NAME ANSWER); write a new assignment "
                             "(new PS); validate the assignments; grade the simulated students, the "
                             "mutants, or both in one run (students); or validate and then students (all)")
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                        help="folders of course/source (default: all of them); digest: NAME ANSWER")
    parser.add_argument("--hint", default="", help="digest: the hint a wrong answer shows")
    parser.add_argument("--choices", default=None,
                        help="digest: the allowed letters (default ABCD for a letter, none for a number)")
    parser.add_argument("--timeout", type=int, default=None,
                        help=f"per-cell time limit in seconds while autograding (grade: the course config's "
                             f"Execute.timeout; the other commands: {DEFAULT_TIMEOUT})")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="grade: submissions graded at once (default: the number of cores)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade: on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT or "
                             "tls://HOST:PORT; default: the course config's c.Grading.scheduler, else "
                             "--workers local processes)")
    parser.add_argument("--students", nargs="+", metavar="ID", help="grade: only these students")
    parser.add_argument("--force", action="store_true", help="grade: regrade submissions graded before")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade: run student code WITHOUT isolation (limits only), e.g. to self-grade "
                             "on a laptop without bubblewrap; never for a class")
    parser.add_argument("--keep", action="store_true", help="keep the temporary course copies for inspection")
    parser.add_argument("--course", type=Path, default=COURSE,
                        help="the course folder holding nbgrader_config.py and source/ (default: course/)")
    return parser


def _grade(assignment: str, run_simulate: bool, run_mutants: bool, args: argparse.Namespace):
    """One workspace and one autograde run for the synthetic students and/or the mutants."""
    from autograder.gates import mutants, mutation, simulate
    from autograder.gates.students import Student, grade

    with workspace([assignment], course=args.course, timeout=args.timeout, keep=args.keep) as ws:
        mutants.copy_data(assignment, args.course, ws.course)
        ws.nbgrader("generate_assignment", assignment)
        students: list[Student] = []
        the_plan = None
        if run_simulate:
            the_plan = simulate.plan(ws, assignment)
            students += the_plan.students
        mutant_students = mutation.mutant_students(ws, assignment) if run_mutants else []
        names = {s.name for s in students}
        students += [s for s in mutant_students if s.name not in names]
        batch = grade(ws, assignment, students, feedback=run_simulate, export=run_simulate)
        sim_rows = simulate.evaluate(ws, the_plan, batch) if the_plan else []
        mut_rows, problems = mutation.evaluate(batch, mutant_students) if run_mutants else ([], [])
    return sim_rows, mut_rows, problems


def _grade_command(args: argparse.Namespace) -> int:
    """``grade ASSIGNMENT ...``: the table of every student; 1 when any submission failed."""
    if not args.assignments:
        print("grade: name the assignment(s), e.g. `python -m autograder grade ps1`", file=sys.stderr)
        return 2
    options = Options(workers=args.workers, students=args.students, force=args.force,
                      sandbox=not args.no_sandbox, timeout=args.timeout, scheduler=args.scheduler)
    if args.no_sandbox:
        print("WARNING: --no-sandbox: student code runs with your rights and sees your files "
              "(only the resource limits apply)", file=sys.stderr)
    ok = True
    for assignment in args.assignments:
        try:
            outcomes = grade_assignment(assignment, args.course, options)
        except SandboxUnavailable as error:
            print(f"grade: refusing to run student code unsandboxed: {error}", file=sys.stderr)
            return 2
        except StartupFailed as error:
            print(f"grade {assignment}: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"\ngrade {assignment}: interrupted; what was graded is saved, run the same command "
                  "again to grade the rest", file=sys.stderr)
            return 130
        print(f"\n{assignment}")
        print(format_table(["student", "score", "max", "status", "seconds", "reason"],
                           [(o.student, f"{o.score:g}", f"{o.max_score:g}", o.status, f"{o.seconds:.1f}",
                             o.reason) for o in outcomes]))
        failed = [o.student for o in outcomes if o.failed]
        ok &= not failed
        print(f"{assignment}: {len(outcomes) - len(failed)} of {len(outcomes)} submissions graded"
              + (f"; could not grade: {', '.join(failed)}" if failed else ""))
    return 0 if ok else 1


def _digest_command(args: argparse.Namespace) -> int:
    """``digest NAME ANSWER``: the line that checks a multiple-choice (or numeric) answer."""
    from autograder.gates.lint import digest_line

    if len(args.assignments) != 2 or not args.assignments[0].isidentifier():
        print("digest: give the variable and the right answer, e.g. "
              "`python -m autograder digest answer_bn C`", file=sys.stderr)
        return 2
    name, answer = args.assignments
    choices = args.choices if args.choices is not None else ("ABCD" if answer.strip().isalpha() else "")
    print(f"# paste into the test cell after {name}'s answer cell (inside the hidden region):",
          file=sys.stderr)
    print(digest_line(name, answer, hint=args.hint, choices=choices))
    return 0


def _lint_command(args: argparse.Namespace, chosen: list[str]) -> int:
    """``lint [PS ...]``: every problem, one a line; exit 1 when there is one (warnings do not count)."""
    from autograder.gates.lint import lint_assignment

    problems = warnings = 0
    for assignment in chosen:
        for problem in lint_assignment(assignment, args.course):
            print(problem)
            warnings += problem.warning
            problems += not problem.warning
    print(f"lint {' '.join(chosen)}: {problems} problem(s), {warnings} warning(s)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "grade":
        return _grade_command(args)
    if args.command == "digest":
        return _digest_command(args)
    if args.command == "new":
        from autograder.tools.new import new_command

        return new_command(args.assignments, args.course)
    args.timeout = args.timeout or DEFAULT_TIMEOUT
    known = assignments(args.course)
    chosen = args.assignments or known
    unknown = [a for a in chosen if a not in known]
    if unknown:
        print(f"unknown assignment(s): {', '.join(unknown)}; {args.course / 'source'} has {', '.join(known)}",
              file=sys.stderr)
        return 2
    if args.command == "lint":
        return _lint_command(args, chosen)
    ok = True
    timings = []
    if args.command in ("validate", "all"):
        start = time.perf_counter()
        from autograder.gates import validate

        passed, steps = validate.run(chosen, course=args.course, keep=args.keep)
        timings.append(("validate", time.perf_counter() - start))
        ok &= passed
        print("\nvalidate")
        print(format_table(["assignment", "step", "result", "detail"],
                           [(s.assignment, s.step, verdict(s.ok), s.detail) for s in steps]))
    run_simulate = args.command in ("simulate", "students", "all")
    run_mutants = args.command in ("mutants", "students", "all")
    if run_simulate or run_mutants:
        start = time.perf_counter()
        sim_rows, mut_rows, problems = [], [], []
        for assignment in chosen:
            try:
                rows = _grade(assignment, run_simulate, run_mutants, args)
            except NbgraderFailed as error:
                problems.append(f"{assignment}: {error}")
                continue
            sim_rows += rows[0]
            mut_rows += rows[1]
            problems += rows[2]
        label = {"simulate": "simulate", "mutants": "mutants"}.get(args.command, "simulate+mutants")
        timings.append((label, time.perf_counter() - start))
        if run_simulate:
            ok &= all(r.ok for r in sim_rows)
            print("\nsimulate")
            print(format_table(["assignment", "student", "expected", "got", "result", "detail"],
                               [(r.assignment, r.student, r.expected, r.got, verdict(r.ok), r.detail)
                                for r in sim_rows]))
        if run_mutants:
            ok &= all(r.caught for r in mut_rows)
            print("\nmutants")
            print(format_table(["assignment", "mutant", "score", "result", "points lost in"],
                               [(r.assignment, r.mutant, r.score, "caught" if r.caught else "SURVIVED",
                                 r.lost_in) for r in mut_rows]))
            for assignment in chosen:
                mine = [r for r in mut_rows if r.assignment == assignment]
                if mine:
                    caught = sum(r.caught for r in mine)
                    print(f"{assignment}: {caught}/{len(mine)} mutants caught ({caught / len(mine):.0%})")
        for problem in problems:
            print(f"FAIL {problem}")
        ok &= not problems
    print()
    for name, seconds in timings:
        print(f"{name}: {seconds:.0f} s")
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
