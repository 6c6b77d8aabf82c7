"""``python -m autograder mutants``: every known wrong answer must lose points.

Each mutant of the assignment's mutants file (``course/mutants/<ps>.yaml``, else
``autograder/gates/mutants/<ps>.py``; see :mod:`autograder.gates.mutants`) becomes a synthetic
student whose answers are the reference solution except for the mutated cells. A ``solution``
control student is graded in the same run: when it does not get full marks, the mutants'
results mean nothing and the command fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.gates import mutants
from autograder.gates.students import Batch, Student, reference_answers
from autograder.gates.workspace import Workspace

__all__ = ["PREFIX", "Row", "mutant_students", "evaluate"]

PREFIX = "mutant-"


@dataclass
class Row:
    """One row of the mutants table."""

    assignment: str
    mutant: str
    score: str
    caught: bool
    lost_in: str


def mutant_students(ws: Workspace, assignment: str) -> list[Student]:
    """The control student (``solution``) and one student per mutant."""
    reference = reference_answers(assignment, ws.course / "source")
    spec = mutants.find(assignment, ws.course)
    students = [Student("solution", reference)]
    for name, cells in spec.mutants.items():
        students.append(Student(PREFIX + name, reference | cells))
    return students


def evaluate(batch: Batch, students: list[Student]) -> tuple[list[Row], list[str]]:
    """Rows for the mutants, and problems that make the whole run invalid."""
    problems = []
    control = batch.results["solution"]
    if control.score != batch.max_score:
        problems.append(f"{batch.assignment}: the reference solution scored "
                        f"{control.score:g}/{batch.max_score:g}, so the mutants prove nothing")
    rows = []
    for student in students:
        if not student.name.startswith(PREFIX):
            continue
        result = batch.results[student.name]
        lost = [g for g, score in result.cells.items() if score < control.cells.get(g, score)]
        rows.append(Row(batch.assignment, student.name[len(PREFIX):], f"{result.score:g}/{batch.max_score:g}",
                        result.score < batch.max_score, ", ".join(lost) or "-"))
    return rows, problems
