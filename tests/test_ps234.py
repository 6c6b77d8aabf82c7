"""All four problem sets, run in-process: the reference answers pass every test cell, the released
stubs fail every one, each mutant of ``autograder/mutants`` loses points, and the partial student
scores exactly ``PARTIAL["expected_score"]``.

The release is made by nbgrader's own ClearSolutions and ClearHiddenTests preprocessors (what
``generate_assignment`` runs), the cells are found by ``autograder.course.cells`` and the reference
answers by ``autograder.regions.reference_source``, so this checks what the real pipeline grades.
Cells run with ``exec`` in one namespace per run (no kernel, no nbgrader); while editing a notebook
this answers in seconds what ``python -m autograder validate|students`` answers in minutes.
"""

from __future__ import annotations

import copy
import re
import warnings

import pytest
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

from autograder import mutants
from autograder.course import assignments, cells, read, source_notebooks
from autograder.regions import reference_source

ASSIGNMENTS = assignments()


def _notebook(assignment: str):
    (path,) = source_notebooks(assignment)
    return read(path)


def _released_answers(assignment: str) -> dict[str, str]:
    """Every answer cell's source as a student receives it."""
    nb = copy.deepcopy(_notebook(assignment))
    nb, _ = ClearSolutions().preprocess(nb, {})
    nb, _ = ClearHiddenTests().preprocess(nb, {})
    return {c.grade_id: c.source for c in cells(nb) if c.is_answer and c.cell_type == "code"}


def _reference_answers(assignment: str) -> dict[str, str]:
    return {c.grade_id: reference_source(c.source) for c in cells(_notebook(assignment))
            if c.is_answer and c.cell_type == "code"}


def _run(assignment: str, answers: dict[str, str]) -> dict[str, tuple[float, str | None]]:
    """Execute the source notebook with ``answers`` in its answer cells and the source's test cells.

    Returns:
        For every graded test cell, its points and None (passed) or the error it raised.
    """
    nb = _notebook(assignment)
    by_index = {c.index: c for c in cells(nb)}
    namespace: dict = {"__name__": "__main__"}
    results = {}
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBGRADER_EXECUTION", "autograde")
        mp.setenv("MPLBACKEND", "agg")
        for index, raw in enumerate(nb.cells):
            if raw.cell_type != "code":
                continue
            cell = by_index.get(index)
            answer = cell is not None and cell.is_answer
            source = answers.get(cell.grade_id, raw.source) if answer else raw.source
            try:
                exec(compile(source, cell.grade_id if cell else f"cell {index}", "exec"), namespace)  # noqa: S102
                error = None
            except Exception as exc:  # noqa: BLE001 - a failing cell is data here
                error = f"{type(exc).__name__}: {exc}"
            if cell is not None and cell.is_test and cell.points > 0:
                results[cell.grade_id] = (cell.points, error)
    return results


def _score(results: dict[str, tuple[float, str | None]]) -> float:
    return sum(points for points, error in results.values() if error is None)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_answers_pass_every_test_cell(assignment):
    results = _run(assignment, _reference_answers(assignment))
    failed = {gid: error for gid, (_, error) in results.items() if error}
    assert results and not failed


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stubs_fail_every_test_cell(assignment):
    results = _run(assignment, _released_answers(assignment))
    passed = [gid for gid, (_, error) in results.items() if error is None]
    assert results and not passed


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_partial_student_scores_what_partial_promises(assignment):
    spec = mutants.load(assignment)
    answers = _released_answers(assignment)
    reference = _reference_answers(assignment)
    answers |= {gid: spec.replacements.get(gid, reference[gid]) for gid in spec.solved}
    assert _score(_run(assignment, answers)) == spec.expected_score


def _mutant_cases():
    for assignment in ASSIGNMENTS:
        for name in mutants.load(assignment).mutants:
            yield pytest.param(assignment, name, id=f"{assignment}-{name}")


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "name"), list(_mutant_cases()))
def test_every_mutant_loses_points_with_a_message(assignment, name):
    answers = _reference_answers(assignment) | mutants.load(assignment).mutants[name]
    results = _run(assignment, answers)
    lost = {gid: error for gid, (_, error) in results.items() if error}
    assert lost, f"{assignment} mutant {name!r} keeps full marks"
    # A failure explains itself: an AssertionError from the checks, or the student's own error.
    assert all(error.split(":", 1)[1].strip() for error in lost.values()), lost


_OPTION = re.compile(r"^\* \*\*([A-Z])\.\*\* (.*)$")
_CHOICE = re.compile(r'^\s*(\w+) = "([A-Z])"\s*$', re.M)
LENGTH_MARGIN = 1.1  # the right option may be at most 10 % longer than the longest wrong one


def _options(markdown: str) -> dict[str, str]:
    """The lettered options of a question cell (``* **A.** text``, continuation lines indented)."""
    found: dict[str, str] = {}
    letter = None
    for line in markdown.splitlines():
        match = _OPTION.match(line)
        if match:
            letter = match[1]
            found[letter] = match[2].strip()
        elif letter and line.startswith("  ") and line.strip():
            found[letter] += " " + line.strip()
        else:
            letter = None
    return found


def _questions():
    """(assignment, answer grade_id, options, right letter) for every multiple-choice question."""
    for assignment in ASSIGNMENTS:
        nb = _notebook(assignment)
        options: dict[str, str] = {}
        for index, raw in enumerate(nb.cells):
            if raw.cell_type == "markdown" and _options(raw.source):
                options = _options(raw.source)
                continue
            meta = raw.metadata.get("nbgrader", {})
            choice = _CHOICE.search(reference_source(raw.source)) if meta.get("solution") else None
            if choice and options:
                yield pytest.param(assignment, meta["grade_id"], options, choice[2],
                                   id=f"{assignment}-{meta['grade_id']}-{index}")
                options = {}


QUESTIONS = list(_questions())


def test_every_assignment_has_a_multiple_choice_question():
    assert {case.values[0] for case in QUESTIONS} == set(ASSIGNMENTS)


@pytest.mark.parametrize(("assignment", "grade_id", "options", "right"), QUESTIONS)
def test_no_option_is_identifiable_by_its_length_or_letter_style(assignment, grade_id, options, right):
    assert sorted(options) == ["A", "B", "C", "D"], options
    wrong = [len(text) for letter, text in options.items() if letter != right]
    assert len(options[right]) <= LENGTH_MARGIN * max(wrong), (len(options[right]), wrong)
    assert len(options[right]) >= min(wrong) / LENGTH_MARGIN, (len(options[right]), wrong)
