"""Self-study: the student's copies of the assignments, and grading one's own copy (issue 11).

``python -m autograder.tools.selfgrade release`` writes the student form of every assignment (made by
``nbgrader generate_assignment`` in a temporary copy of the course: solutions and hidden tests
removed) into ``assignments/<ps>/``, which git ignores. A student's existing copy is never
touched: when the course publishes a changed release, it is written beside the student's copy as
``<name>.release-<date>.ipynb`` and the command says so.

``python -m autograder.tools.selfgrade grade ps1`` grades the student's copy with the hidden tests
through the instructor's engine (:func:`autograder.engine.client.grade_assignment`) in a temporary
course, sandboxed where the sandbox works and unsandboxed otherwise (a student grading their own
work needs a correct grade, not protection from themselves). It prints one line at once (the first
run takes about 40 s), then a Markdown report: the score of every part and each failing test's
message ("not answered yet" for a part whose answer is still the blank stub), never hidden test
source. The notebook's "Grade yourself" cell shows that line, then the report rendered. The report
is also written as ``<name>.feedback.md`` next to the notebook. The notebook itself is only read.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from autograder.course import COURSE, ROOT, assignments, cells, read, source_notebooks
from autograder.gates.lint_code import bound_names
from autograder.gates.regions import reference_source
from autograder.gates.workspace import workspace
from cnncourse.handout import hand_out

__all__ = ["STUDENT_VIEW", "HOW_YOU_COMPUTE", "NOT_ANSWERED", "Part", "release", "selfgrade",
           "how_you_compute", "how_you_compute_pointer", "format_report", "main"]

STUDENT_VIEW = ROOT / "assignments"
STUDENT = "self"  # the student id inside the temporary course
HOW_YOU_COMPUTE = "**How you compute is up to you.**"  # opens a paragraph of every assignment's intro
NOT_ANSWERED = "not answered yet"  # how the report starts the message of a part left blank
STUB = "raise NotImplementedError()"  # the line nbgrader puts in every blank answer (nbgrader_config.py)


@dataclass(frozen=True)
class Part:
    """One graded test cell of the student's notebook."""

    grade_id: str
    score: float
    max_score: float
    message: str  # the failing test's message ("" when it passed)


def release(into: Path = STUDENT_VIEW, chosen: list[str] | None = None, course: Path = COURSE) -> list[str]:
    """Write the student form of the assignments into ``into/<ps>/``; return what was done, line by line.

    Only missing files are created. When a student's copy exists and the course's release has
    changed since it was made, the new release goes beside it with a dated name.
    """
    done = []
    for assignment in chosen or assignments(course):
        with workspace([assignment], course=course) as ws:
            ws.nbgrader("generate_assignment", assignment)
            for handed in hand_out(ws.path("release", assignment), into / assignment):
                mine = handed.copy.relative_to(into.parent)
                if handed.beside is None:
                    done.append(f"created {mine}")
                else:
                    done.append(f"kept your {mine}; the course changed it, the new release is "
                                f"{handed.beside.name} (copy your answers over when you like)")
    return done


def _blank_error(output: dict) -> bool:
    """Whether an error output is the bare NotImplementedError that a blank answer's stub raises."""
    return (output.get("output_type") == "error" and output.get("ename") == "NotImplementedError"
            and not output.get("evalue"))


def _has_stub(cell: dict) -> bool:
    """Whether an answer cell still holds the stub line (at the top level or in a function's body)."""
    return any(line.strip() == STUB for line in cell.get("source", "").splitlines())


def _stopped_at_stub(cell: dict) -> bool:
    """Whether an answer cell of the graded notebook still holds the stub line and stopped at it."""
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    return _has_stub(cell) and bool(errors) and all(_blank_error(o) for o in errors)


def _blanks(source: NotebookNode, graded: NotebookNode) -> tuple[bool, set[str]]:
    """Whether any answer of ``graded`` still holds the stub, and the names blank answers leave undefined.

    A name counts when the reference answers (in ``source``) bind it, at least one of those answer
    cells stopped at its stub in ``graded`` (:func:`_stopped_at_stub`), and none stopped with another
    error (a name whose answer cell fails otherwise was answered, wrongly).
    """
    graded_cells = {c.grade_id: graded.cells[c.index] for c in cells(graded)}
    blank: set[str] = set()
    failed: set[str] = set()
    any_blank = False
    for cell in cells(source):
        if not (cell.is_answer and cell.cell_type == "code") or cell.grade_id not in graded_cells:
            continue
        answer = graded_cells[cell.grade_id]
        names = bound_names(reference_source(cell.source))
        any_blank = any_blank or _has_stub(answer)
        if _stopped_at_stub(answer):
            blank |= names
        elif any(o.get("output_type") == "error" for o in answer.get("outputs", [])):
            failed |= names
    return any_blank, blank - failed


def _error_message(cell: dict, unanswered: set[str] | frozenset[str] = frozenset(),
                   any_blank: bool = True) -> str:
    """``Name: message`` of a test cell's error output, without any traceback (it could quote tests).

    A test that failed only because an answer is still blank says so ("not answered yet"): it raised
    the stub's bare NotImplementedError while some answer still holds the stub (``any_blank``), or a
    name in ``unanswered`` (:func:`_blanks`) was not defined.
    """
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), output.get("evalue", "")
            if _blank_error(output) and any_blank:
                return f"{NOT_ANSWERED}: an answer cell it uses still raises NotImplementedError"
            if name == "NameError":  # the answer cell that defines it raised before binding it
                missing = re.match(r"name '([^']+)' is not defined", value)
                if missing and missing.group(1) in unanswered:
                    return (f"{NOT_ANSWERED}: `{missing.group(1)}` comes from an answer cell that still "
                            "raises NotImplementedError")
                return (f"{name}: {value} (the answer cell that defines it has not run without an "
                        "error yet: answer it, then run it)")
            return f"{name}: {value}" if value else name
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return "the cell wrote to stderr, which scores zero (a warning or a print to sys.stderr?)"
    return ""


def _parts(course: Path, assignment: str, name: str) -> list[Part]:
    """Every graded cell's score (from the gradebook) and failure message (from the graded notebook)."""
    from nbgrader.api import Gradebook

    graded = read(course / "autograded" / STUDENT / assignment / f"{name}.ipynb")
    source = read(course / "source" / assignment / f"{name}.ipynb")
    any_blank, unanswered = _blanks(source, graded)
    messages = {c.grade_id: _error_message(graded.cells[c.index], unanswered, any_blank)
                for c in cells(graded)}
    parts = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "cnncourse") as gb:
        notebook = gb.find_submission_notebook(name, assignment, STUDENT)
        order = {c.grade_id: c.index for c in cells(source)}
        for grade in sorted(notebook.grades, key=lambda g: order.get(g.name, 0)):
            score = grade.score if grade.score is not None else 0.0
            message = messages.get(grade.name, "") if score < grade.max_score else ""
            parts.append(Part(grade.name, float(score), float(grade.max_score), message))
    return parts


def selfgrade(assignment: str, notebook: Path | None = None, course: Path = COURSE,
              sandbox: bool | None = None) -> list[Part]:
    """Grade a student's copy of ``assignment`` with the hidden tests; return one Part per test cell.

    Args:
        notebook: the student's notebook (default: the only one in ``assignments/<assignment>/``).
        sandbox: isolate the student's code (default: when the sandbox works on this machine).
    """
    from autograder.engine.client import Options, grade_assignment
    from autograder.engine.sandbox import unavailable_reason

    (source,) = source_notebooks(assignment, course / "source")
    notebook = Path(notebook) if notebook else STUDENT_VIEW / assignment / source.name
    if not notebook.is_file():
        raise SystemExit(f"selfgrade: no notebook {notebook}; run `make lab` (or `python -m "
                         "autograder.tools.selfgrade release`) to get your copy of the assignments first")
    if sandbox is None:
        sandbox = unavailable_reason() is None
    with workspace([assignment], course=course) as ws:
        ws.nbgrader("generate_assignment", assignment)
        submitted = ws.path("submitted", STUDENT, assignment)
        submitted.mkdir(parents=True)
        shutil.copyfile(notebook, submitted / source.name)  # the student's file is only read
        options = Options(workers=1, force=True, sandbox=sandbox, progress=False)
        (outcome,) = grade_assignment(assignment, ws.course, options)
        if outcome.failed:
            raise SystemExit(f"selfgrade: the notebook could not be graded: {outcome.reason}")
        return _parts(ws.course, assignment, source.stem)


def how_you_compute(assignment: str, course: Path = COURSE) -> str:
    """The paragraph of the assignment's introduction that says what its checks look at ("" if none).

    It lives in the notebook, where students read it before the questions; self-grading points at it
    (:func:`how_you_compute_pointer`) rather than repeating it.
    """
    (path,) = source_notebooks(assignment, course / "source")
    intro = next((cell.source for cell in read(path).cells if cell.cell_type == "markdown"), "")
    found = [p for p in intro.split("\n\n") if p.startswith(HOW_YOU_COMPUTE)]
    return " ".join(found[0].split()) if found else ""


def how_you_compute_pointer(assignment: str, course: Path = COURSE) -> str:
    """One line saying where the notebook explains what the checks look at ("" if it does not)."""
    if not how_you_compute(assignment, course):
        return ""
    return f"What the checks look at is explained at the top of your notebook, under {HOW_YOU_COMPUTE}"


def format_report(assignment: str, parts: list[Part], note: str = "") -> str:
    """The feedback as Markdown: total, ``note`` (a line on what the checks look at), a row per part, each
    failure."""
    score, top = sum(p.score for p in parts), sum(p.max_score for p in parts)
    lines = [f"# {assignment}: {score:g} / {top:g} points", ""]
    lines += [note, ""] if note else []
    lines += ["| part | points | |", "|---|---|---|"]
    for part in parts:
        mark = "passed" if part.score >= part.max_score else "failed"
        lines.append(f"| {part.grade_id} | {part.score:g} / {part.max_score:g} | {mark} |")
    failures = [p for p in parts if p.message]
    if failures:
        lines += ["", "## What to look at", ""]
        lines += [f"* **{p.grade_id}**: {p.message}" for p in failures]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.selfgrade",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("release", help="write the student form of the assignments into assignments/")
    make.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    make.add_argument("--into", type=Path, default=STUDENT_VIEW)
    grade = sub.add_parser("grade", help="grade your copy of one assignment with the hidden tests")
    grade.add_argument("assignment", metavar="ASSIGNMENT")
    grade.add_argument("--notebook", type=Path, help="your notebook (default: assignments/<ps>/<name>.ipynb)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="do not isolate the code even where isolation works")
    args = parser.parse_args(argv)
    if args.command == "release":
        for line in release(args.into, args.assignments or None):
            print(line)
        return 0
    # The first line, at once: the first run takes about 40 s (the "Grade yourself" cell shows it too).
    print(f"grading {args.assignment} with the hidden tests: about a minute the first time, "
          "less after that...", flush=True)
    parts = selfgrade(args.assignment, args.notebook, sandbox=False if args.no_sandbox else None)
    report = format_report(args.assignment, parts, how_you_compute_pointer(args.assignment))
    print(report)
    (source,) = source_notebooks(args.assignment)
    notebook = args.notebook or STUDENT_VIEW / args.assignment / source.name
    feedback = notebook.with_name(f"{notebook.stem}.feedback.md")
    feedback.write_text(report)
    print(f"(also written to `{feedback}`)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
