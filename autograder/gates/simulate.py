"""``python -m autograder simulate``: five synthetic students through the whole nbgrader pipeline.

* ``solution``  the reference answers: full marks.
* ``blank``     the release as it was handed out: zero.
* ``partial``   answers only PARTIAL["solved"]: exactly PARTIAL["expected_score"].
* ``tamperer``  the partial answers, and it replaces a test it fails with ``pass``, deletes
  another test cell and claims 1000 points for a third: nbgrader must restore all three, so
  it scores what ``partial`` scores, cell by cell.
* ``looper``    the partial answers with an endless loop in an unanswered cell that comes
  before an answered one: the cell times out, the rest of the notebook (and of the batch)
  still runs, and it scores what ``partial`` scores.

All of them are autograded in one ``nbgrader autograde`` run, then ``generate_feedback`` and
``export`` run; scores are read from the gradebook and from the exported CSV. Every student
must get one feedback file per notebook that shows each failing test's error message and no
line of hidden test source.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.course import cells, read, source_notebooks
from autograder.gates import mutants
from autograder.gates.regions import HIDDEN, leaks, region_lines, secret_lines, visible_text
from autograder.gates.students import Batch, Student, reference_answers
from autograder.gates.workspace import Workspace
from cnncourse.grading.feedback import html_text

__all__ = ["Plan", "Row", "plan", "evaluate"]

# A runaway loop that sleeps, so the time-out costs wall time but not a CI core's CPU.
LOOP = "import time\n\nwhile True:  # a student's runaway loop\n    time.sleep(0.1)\n"


@dataclass
class Plan:
    """The synthetic students of one assignment and what they must score."""

    assignment: str
    students: list[Student]
    expected: dict[str, float]
    max_score: float
    loop_cell: str
    tampered: tuple[tuple[str, str], ...]


@dataclass
class Row:
    """One row of the simulation table."""

    assignment: str
    student: str
    expected: str
    got: str
    ok: bool
    detail: str


def _order(assignment: str, source) -> list[tuple[str, bool, float]]:
    """(grade_id, is_test, points) for every answer and test cell, in notebook order."""
    order = []
    for path in source_notebooks(assignment, source):
        for cell in cells(read(path)):
            if cell.is_answer or cell.is_test:
                order.append((cell.grade_id, cell.is_test, cell.points))
    return order


def _tests_after_answers(order) -> list[tuple[str, list[str]]]:
    """Each test cell with the answer cells between it and the previous test cell."""
    pairs, pending = [], []
    for grade_id, is_test, _ in order:
        if is_test:
            pairs.append((grade_id, pending))
            pending = []
        else:
            pending.append(grade_id)
    return pairs


def _loop_cell(answer_order: list[str], solved: set[str], attempted: set[str]) -> str:
    """The first unanswered cell with an answered cell after it (else the first unanswered)."""
    unsolved = [g for g in answer_order if g not in solved | attempted]
    if not unsolved:
        raise SystemExit("PARTIAL solves every answer cell; leave one unsolved for the looper")
    last_solved = max((i for i, g in enumerate(answer_order) if g in solved), default=-1)
    before_solved = [g for g in unsolved if answer_order.index(g) < last_solved]
    return (before_solved or unsolved)[0]


def _tamper_targets(order: list[tuple[str, list[str]]], solved: set[str]) -> list[tuple[str, str]]:
    """``pass`` a test the partial student fails, ``delete`` one it passes, inflate a third's points."""
    tests = [test for test, _ in order]
    failing = [test for test, before in order if any(g not in solved for g in before)]
    passing = [test for test, before in order if before and all(g in solved for g in before)]
    targets = {"pass": (failing or tests)[0]}
    candidates = [t for t in [*reversed(passing), *tests] if t != targets["pass"]]
    if candidates:
        targets["delete"] = candidates[0]
    rest = [t for t in tests if t not in targets.values()]
    if rest:
        targets["points"] = rest[0]
    return list(targets.items())


def plan(ws: Workspace, assignment: str) -> Plan:
    """Build the five students from the source notebooks and ``autograder/gates/mutants/<ps>.py``."""
    source = ws.course / "source"
    reference = reference_answers(assignment, source)
    spec = mutants.find(assignment, ws.course)
    unknown = sorted(set(spec.solved) - reference.keys())
    if unknown:
        raise SystemExit(f"PARTIAL of {assignment} names unknown answer cells: {', '.join(unknown)}")
    answers = {grade_id: reference[grade_id] for grade_id in spec.solved} | spec.replacements
    solved = set(spec.solved) - set(spec.replacements)
    loop_cell = _loop_cell(list(reference), solved, set(spec.replacements))
    cells_in_order = _order(assignment, source)
    tamper = tuple(_tamper_targets(_tests_after_answers(cells_in_order), solved))
    max_score = sum(points for _, is_test, points in cells_in_order if is_test)
    students = [
        Student("solution", reference),
        Student("blank", {}),
        Student("partial", answers),
        Student("tamperer", answers, tamper),
        Student("looper", answers | {loop_cell: LOOP}),
    ]
    expected = {"solution": max_score, "blank": 0.0, "partial": spec.expected_score,
                "tamperer": spec.expected_score, "looper": spec.expected_score}
    return Plan(assignment, students, expected, max_score, loop_cell, tamper)


def _timed_out(batch: Batch, student: str, grade_id: str) -> bool:
    for path in batch.results[student].autograded:
        for cell in read(path).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                names = {o.get("ename") for o in cell.get("outputs", []) if o.output_type == "error"}
                return bool(names & {"CellTimeoutError", "KeyboardInterrupt"})
    return False


def _feedback_problems(ws: Workspace, batch: Batch, student: str) -> list[str]:
    """Missing feedback files, failure messages the student cannot see, hidden tests they can."""
    result = batch.results[student]
    source = ws.course / "source"
    problems = []
    for path in result.autograded:
        html = ws.path("feedback", student, batch.assignment, path.stem + ".html")
        if not html.exists():
            problems.append(f"no feedback {html.name}")
            continue
        text = html_text(html)
        nb = read(source / batch.assignment / path.name)
        hidden = secret_lines(region_lines(nb, HIDDEN), visible_text(nb, (HIDDEN,), ordinary_code=True))
        problems += [f"hidden test shown: {line!r}" for line in leaks(hidden, text)]
        for cell in read(path).cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade") or cell.cell_type != "code":
                continue
            for output in cell.outputs:
                if output.output_type == "error":
                    message = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
                    if message.strip() not in text:
                        problems.append(f"{meta['grade_id']}: message {message[:60]!r} missing from feedback")
    return problems


def evaluate(ws: Workspace, the_plan: Plan, batch: Batch) -> list[Row]:
    """Compare the batch's scores, CSV and feedback with the plan."""
    rows = []
    partial_cells = batch.results["partial"].cells
    for student in the_plan.students:
        name = student.name
        result = batch.results[name]
        expected = the_plan.expected[name]
        problems = []
        if result.score != expected:
            problems.append(f"scored {result.score:g}, expected {expected:g}")
        if result.max_score != the_plan.max_score:
            problems.append(f"max score {result.max_score:g}, the source has {the_plan.max_score:g}")
        if result.csv_score != result.score:
            problems.append(f"exported CSV says {result.csv_score}")
        zero = [g for g, score in result.cells.items() if score == 0]
        if name == "solution" and zero:
            problems.append(f"test cells scored zero: {', '.join(zero)}")
        if name in ("tamperer", "looper") and result.cells != partial_cells:
            differ = sorted(g for g in partial_cells if result.cells.get(g) != partial_cells[g])
            problems.append(f"cells scored unlike partial's: {', '.join(differ)}")
        if name == "looper" and not _timed_out(batch, name, the_plan.loop_cell):
            problems.append(f"{the_plan.loop_cell} did not time out")
        problems += _feedback_problems(ws, batch, name)
        detail = {
            "tamperer": "restored: " + ", ".join(f"{a} {g}" for a, g in the_plan.tampered),
            "looper": f"endless loop in {the_plan.loop_cell}",
        }.get(name, "")
        rows.append(Row(batch.assignment, name, f"{expected:g}/{the_plan.max_score:g}",
                        f"{result.score:g}/{result.max_score:g}", not problems,
                        "; ".join(problems) if problems else detail))
    return rows
