"""``python -m autograder lint [PS ...]``: every rule the grader relies on, checked statically.

Reads the instructor's source notebooks (nothing runs) and reports each problem as
``notebook, cell N (grade_id), line L: what is wrong — what to write instead``. The rules, in
instructor words with a wrong and a right version each, are in ``course/AUTHORING.md``; their
names (``Problem.rule``) are the keys of :data:`RULES`. ``validate`` runs this first and refuses
an assignment with a problem. Warnings (an answer cell no mutant targets) are printed but do not
fail; silence one with the answer cell's metadata ``"cnncourse": {"no_mutant": "why"}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from autograder.course import COURSE, read, source_notebooks
from autograder.gates.lint_code import bound_names, setup_problems, test_cell_problems
from autograder.gates.regions import HIDDEN, SOLUTION, reference_source

__all__ = ["QUIET_LINE", "RULES", "Problem", "lint_notebook", "lint_assignment", "digest_line"]

QUIET_LINE = "from cnncourse.grading import quiet; quiet()"
NBGRADER_KEYS = {"grade", "solution", "locked", "grade_id", "schema_version"}
RULES = {
    "kernel": "the notebook runs on the python3 kernel",
    "metadata": "nbgrader metadata: schema 3, grade/solution/locked booleans, consistent",
    "grade-id": "grade_ids unique in the assignment; answers `<part>_answer`, tests `test_<part>`",
    "points": "every test cell carries points > 0; no other cell does",
    "setup": 'one locked setup cell, grade_id "setup", first: imports, seeds and given data only',
    "solution-region": "an answer cell has a BEGIN/END SOLUTION region",
    "order": "answer cells come before the test cells that check them",
    "quiet": f"a test cell's first line is `{QUIET_LINE}`",
    "hidden": "a test cell has a BEGIN/END HIDDEN TESTS region (unless marked no_hidden)",
    "rule1-namespace": "test cells read no namespace table (globals, locals, vars)",
    "rule1-how": "test cells check what the student returns, never how it was computed",
    "rule2-type": "test cells never call type() (a student object is a stand-in there)",
    "rule3-in-place": "test cells never change a student object in place",
    "rule4-names": "every name a test cell reads comes from the setup, an answer cell or the cell",
    "rule5-use": "student objects are used only through calls, attributes, iteration, len, [], isinstance",
    "choice-digest": "a multiple-choice answer is checked by check_choice with its digest",
    "mutant": "every answer cell has a mutant (warning; silence with no_mutant)",
}
_CHOICE = re.compile(r'^\s*(\w+)\s*=\s*["\']([A-Za-z])["\']\s*$', re.M)


@dataclass(frozen=True)
class Problem:
    """One departure from the rules, said where and how to fix it."""

    notebook: str
    cell: int  # 1-based position in the notebook
    grade_id: str
    line: int  # 1-based line of the cell (1 for the whole cell)
    rule: str
    what: str
    fix: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return (f"{self.notebook}, cell {self.cell} ({self.grade_id}), line {self.line}: "
                f"{kind}{self.what} — {self.fix}")


def _digest(name: str, answer: str) -> str:
    from cnncourse.grading import answer_digest  # the one home of the digest (imports torch: only here)

    return answer_digest(answer, salt=name)


def digest_line(name: str, answer: str, hint: str = "", choices: str = "ABCD") -> str:
    """The ``check_choice(...)`` line a test cell needs for the answer ``answer`` to ``name``."""
    digest = _digest(name, answer)
    letters = f", choices={json.dumps(choices)}" if choices else ""
    return f'check_choice("{name}", {name}, "{digest}", hint={json.dumps(hint)}{letters})'


def _meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _opt_out(cell: NotebookNode, key: str) -> bool:
    return bool((cell.get("metadata", {}).get("cnncourse", {}) or {}).get(key))


def _line_of(source: str, needle: str) -> int:
    for number, line in enumerate(source.splitlines(), 1):
        if needle in line:
            return number
    return 1


def lint_notebook(path: Path, mutated: set[str] | None, seen_ids: set[str]) -> list[Problem]:
    """Every problem of one source notebook; ``mutated``: the answer grade_ids some mutant targets
    (None: no mutants file, one warning per answer cell); ``seen_ids`` collects grade_ids across
    the assignment's notebooks."""
    nb = read(path)
    where = f"{path.parent.name}/{path.name}"
    problems: list[Problem] = []

    def add(index: int, grade_id: str, line: int, rule: str, what: str, fix: str, warning: bool = False):
        problems.append(Problem(where, index + 1, grade_id or "-", line, rule, what, fix, warning))

    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        add(-1, "notebook", 1, "kernel", "the kernel spec is not python3",
            'choose the "Python 3" kernel (metadata.kernelspec.name = "python3")')
    defined = set(__builtins__ if isinstance(__builtins__, dict) else dir(__builtins__))
    students: set[str] = set()
    setups = [i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id") == "setup"]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    if not setups:
        add(-1, "notebook", 1, "setup", 'no read-only cell with grade_id "setup"', 'make the first code '
            'cell a read-only cell with grade_id "setup" holding the imports (and seeds)')
    elif setups[0] != first_code:
        add(setups[0], "setup", 1, "setup", "the setup cell is not the first code cell",
            "move it above every other code cell")
    answers_so_far = 0
    for index, cell in enumerate(nb.cells):
        meta = _meta(cell)
        if not meta:
            continue
        gid = meta.get("grade_id", "")
        wrong = sorted(k for k in NBGRADER_KEYS - meta.keys())
        if wrong or meta.get("schema_version") != 3 or any(
                not isinstance(meta.get(k), bool) for k in ("grade", "solution", "locked")):
            add(index, gid, 1, "metadata", f"nbgrader metadata is incomplete ({', '.join(wrong) or 'types'})",
                "set it in the nbgrader toolbar (View > Cell Toolbar > Create Assignment) or write "
                '{"grade": ..., "solution": ..., "locked": ..., "grade_id": ..., "schema_version": 3}')
            continue
        if not re.fullmatch(r"[A-Za-z0-9_-]+", gid):
            add(index, gid, 1, "grade-id", f"grade_id {gid!r} has characters nbgrader refuses",
                "use letters, digits and underscores")
        if gid in seen_ids:
            add(index, gid, 1, "grade-id", f"grade_id {gid!r} is used twice in this assignment",
                "give every cell its own grade_id")
        seen_ids.add(gid)
        grade, solution, locked = meta["grade"], meta["solution"], meta["locked"]
        points = meta.get("points", 0) or 0
        if solution and locked:
            add(index, gid, 1, "metadata", "an answer cell is locked", 'set "locked": false')
        if cell.cell_type == "code" and grade and solution:
            add(index, gid, 1, "metadata", "a code cell is both graded and an answer (manual grading)",
                'make it an answer cell ("grade": false) and check it in a test cell after it')
        if grade and not (isinstance(points, (int, float)) and points > 0):
            add(index, gid, 1, "points", f"a graded cell has points {points!r}",
                'set "points" to a number > 0')
        elif not grade and points:
            add(index, gid, 1, "points", f"a cell that is not graded has points {points!r}",
                'remove "points" or make it a test cell ("grade": true)')
        if gid == "setup" and (cell.cell_type != "code" or not locked or grade or solution):
            add(index, gid, 1, "setup", "the setup cell is not a read-only code cell",
                'set "locked": true, "grade": false, "solution": false')
        if gid == "setup" and cell.cell_type == "code":
            for line, what in setup_problems(cell.source):
                add(index, gid, line, "setup", f"the setup cell {what}", "keep imports, seeds and given data "
                    "(NAME = value) there; put helpers in a test cell or in the library")
            defined |= bound_names(cell.source)
        elif locked and not grade and not solution and cell.cell_type == "code":
            defined |= bound_names(cell.source)  # read-only cells run in the test kernel too
        if solution and cell.cell_type == "code":
            answers_so_far += 1
            problems.extend(_answer_problems(nb, index, cell, gid, where, mutated))
            names = bound_names(reference_source(cell.source))
            defined |= names
            students |= names
        if grade and not solution and cell.cell_type == "code":
            problems.extend(_test_cell_rules(index, cell, gid, where, answers_so_far, students, defined))
    return problems


def _answer_problems(nb, index, cell, gid, where, mutated) -> list[Problem]:
    found = []

    def add(line, rule, what, fix, warning=False):
        found.append(Problem(where, index + 1, gid, line, rule, what, fix, warning))

    if not gid.endswith("_answer"):
        add(1, "grade-id", f"answer cell {gid!r}: grade_id should end with '_answer'",
            f"rename it {gid.removesuffix('_answer')}_answer (and its test cell test_<part>)")
    begins, ends = cell.source.count(SOLUTION[0]), cell.source.count(SOLUTION[1])
    if not begins or begins != ends:
        add(_line_of(cell.source, SOLUTION[0]), "solution-region", "no complete BEGIN/END SOLUTION region",
            "put the reference code between `### BEGIN SOLUTION` and `### END SOLUTION`")
    if not _opt_out(cell, "no_mutant") and (mutated is None or gid not in mutated):
        add(1, "mutant", f"no mutant targets {gid!r}", "add a wrong answer for it to the mutants file, or "
            'set cell metadata "cnncourse": {"no_mutant": "why"}', warning=True)
    choice = _CHOICE.search(reference_source(cell.source))
    if choice:
        name, letter = choice[1], choice[2].upper()
        expected = _digest(name, letter)
        tests = _tests_after(nb, index)
        checked = [t for t in tests if "check_choice" in t.source and name in t.source]
        if not checked:
            add(_line_of(cell.source, choice[0].strip()), "choice-digest", f"no test cell checks {name} with "
                "check_choice", f"add to its test cell: {digest_line(name, letter)} "
                f"(python -m autograder digest {name} {letter})")
        elif not any(expected in t.source for t in checked):
            add(_line_of(cell.source, choice[0].strip()), "choice-digest",
                f"the digest in the test of {name} is not that of {letter!r}",
                f"write {digest_line(name, letter)}")
    return found


def _tests_after(nb, index) -> list[NotebookNode]:
    tests = []
    for cell in nb.cells[index + 1:]:
        meta = _meta(cell)
        if meta.get("solution"):
            break
        if meta.get("grade") and cell.cell_type == "code":
            tests.append(cell)
    return tests


def _test_cell_rules(index, cell, gid, where, answers_so_far, students, defined) -> list[Problem]:
    found = []

    def add(line, rule, what, fix):
        found.append(Problem(where, index + 1, gid, line, rule, what, fix))

    if not gid.startswith("test_"):
        add(1, "grade-id", f"test cell {gid!r}: grade_id should start with 'test_'",
            f"rename it test_{gid.removesuffix('_answer')}")
    if not cell.metadata["nbgrader"]["locked"]:
        add(1, "metadata", "the test cell is not locked", 'set "locked": true (students could edit it)')
    if not answers_so_far:
        add(1, "order", "a test cell comes before any answer cell", "move it below the answer cell it checks")
    first = cell.source.lstrip().splitlines()[:1]
    if first != [QUIET_LINE]:
        add(1, "quiet", f"test cell {gid!r} does not start with {QUIET_LINE!r} (a warning on stderr "
            "would zero the cell)", f"make the first line `{QUIET_LINE}`")
    begins, ends = cell.source.count(HIDDEN[0]), cell.source.count(HIDDEN[1])
    if begins != ends or (not begins and not _opt_out(cell, "no_hidden")):
        add(_line_of(cell.source, HIDDEN[0]), "hidden", "no complete BEGIN/END HIDDEN TESTS region",
            "end the cell with `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS` holding the checks that "
            'decide the grade (or set cell metadata "cnncourse": {"no_hidden": "why"})')
    for line, rule, what, fix in test_cell_problems(cell.source, students, defined):
        add(line, rule, what, fix)
    return found


def lint_assignment(assignment: str, course: Path = COURSE) -> list[Problem]:
    """Every problem and warning of one assignment's source notebooks."""
    from autograder.gates import mutants

    mutated = mutants.covered(assignment, course)
    seen: set[str] = set()
    problems = []
    for path in source_notebooks(assignment, course / "source"):
        problems += lint_notebook(path, mutated, seen)
    return problems
