"""All four problem sets, run in-process, in both settings a test cell meets: the reference answers
pass every test cell, the released stubs fail every one, each mutant of ``autograder/mutants`` loses
the same points with a message in both, and the partial student scores exactly
``PARTIAL["expected_score"]``. Every test cell also follows DEVELOPERS.md's test-cell rules.

The release is made by nbgrader's own ClearSolutions and ClearHiddenTests preprocessors (what
``generate_assignment`` runs), the cells are found by ``autograder.course.cells`` and the reference
answers by ``autograder.gates.regions.reference_source``, so this checks what the real pipeline grades.
Cells run with ``exec`` (no kernel, no nbgrader): in one namespace, installed as ``__main__`` for the
grading helpers that look up the notebook's namespace (a student's own run, ``nbgrader validate``), or
split, test cells in a namespace of their own fed through the clean test kernel's request protocol
(``python -m autograder grade``). While editing a notebook this answers in seconds what
``python -m autograder validate|students`` answers in minutes.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import io
import re
import sys
import types
import warnings

import pytest
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

import cnncourse.grading_kernels.student_side as agent
import cnncourse.grading_kernels.test_side as remote
from autograder.course import assignments, cells, read, source_notebooks
from autograder.engine.names import free_names, is_setup_cell, is_test_cell
from autograder.gates import mutants
from autograder.gates.regions import reference_source
from cnncourse.grading_kernels import protocol

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


def _exec(source: str, name: str, namespace: dict) -> str | None:
    """Run ``source`` in ``namespace``: None, or the error it raised as ``"Type: message"``."""
    try:
        exec(compile(source, name, "exec"), namespace)  # noqa: S102
    except Exception as exc:  # noqa: BLE001 - a failing cell is data here
        return f"{type(exc).__name__}: {exc}"
    return None


def _forward(prompt: str) -> str:
    """The grader's part: a test namespace's request answered by the student side's ``serve``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        agent.serve(protocol.request_text(prompt))
    answer, _ = protocol.unframe(out.getvalue())
    return answer


Results = dict[str, tuple[float, str | None]]  # test grade_id -> (points, None or the error it raised)


def _run(assignment: str, answers: dict[str, str], split: bool = False) -> Results:
    """Execute the source notebook with ``answers`` in its answer cells and the source's test cells.

    Without ``split`` every cell runs in one namespace (a student's own run, ``nbgrader validate``).
    With ``split`` the test cells run as ``python -m autograder grade`` runs them: in a namespace of
    their own holding only what the setup cells defined, their free names fetched from the
    student's namespace as copies or stand-ins through the real request protocol
    (:mod:`cnncourse.grading_kernels.test_side` and :mod:`cnncourse.grading_kernels.student_side`,
    wired back to back through :mod:`cnncourse.grading_kernels.protocol`).

    Returns:
        For every graded test cell, its points and None (passed) or the error it raised.
    """
    nb = _notebook(assignment)
    by_index = {c.index: c for c in cells(nb)}
    main = types.ModuleType("__main__")  # the notebook's namespace, where grading helpers look for aliases
    student = vars(main)
    tests = {"__name__": "__main__"} if split else student
    sources = [answers.get(by_index[i].grade_id, raw.source) if i in by_index and by_index[i].is_answer
               else raw.source for i, raw in enumerate(nb.cells)]
    results = {}
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "__main__", main)
        mp.setenv("NBGRADER_EXECUTION", "autograde")
        mp.setenv("MPLBACKEND", "agg")
        if split:
            mp.setattr(agent, "user_namespace", lambda: student)
            mp.setattr(remote, "namespace", lambda: tests)
            mp.setattr(builtins, "input", _forward)
            remote.forget_submission()
        for index, raw in enumerate(nb.cells):
            if raw.cell_type != "code":
                continue
            cell = by_index.get(index)
            name = cell.grade_id if cell else f"cell {index}"
            if split and is_test_cell(raw):
                remote.begin_test_cell(free_names(raw.source))
                error = _exec(raw.source, name, tests)
            else:
                error = _exec(sources[index], name, student)
                if split and is_setup_cell(raw):
                    _exec(raw.source, name, tests)
                    remote.snapshot()
            if cell is not None and cell.is_test and cell.points > 0:
                results[cell.grade_id] = (cell.points, error)
        if split:
            remote.forget_submission()
    return results


def _score(results: Results) -> float:
    return sum(points for points, error in results.values() if error is None)


SETTINGS = [pytest.param(False, id="one-kernel"), pytest.param(True, id="split")]


@pytest.mark.parametrize("split", SETTINGS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_answers_pass_every_test_cell(assignment, split):
    results = _run(assignment, _reference_answers(assignment), split)
    failed = {gid: error for gid, (_, error) in results.items() if error}
    assert results and not failed


@pytest.mark.parametrize("split", SETTINGS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stubs_fail_every_test_cell(assignment, split):
    results = _run(assignment, _released_answers(assignment), split)
    passed = [gid for gid, (_, error) in results.items() if error is None]
    assert results and not passed


@pytest.mark.parametrize("split", SETTINGS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_partial_student_scores_what_partial_promises(assignment, split):
    spec = mutants.load(assignment)
    answers = _released_answers(assignment)
    reference = _reference_answers(assignment)
    answers |= {gid: spec.replacements.get(gid, reference[gid]) for gid in spec.solved}
    assert _score(_run(assignment, answers, split)) == spec.expected_score


def _mutant_cases():
    for assignment in ASSIGNMENTS:
        for name in mutants.load(assignment).mutants:
            yield pytest.param(assignment, name, id=f"{assignment}-{name}")


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "name"), list(_mutant_cases()))
def test_every_mutant_loses_the_same_points_with_a_message_in_both_settings(assignment, name):
    answers = _reference_answers(assignment) | mutants.load(assignment).mutants[name]
    lost = {}
    for split in (False, True):
        results = _run(assignment, answers, split)
        lost[split] = {gid: error for gid, (_, error) in results.items() if error}
        assert lost[split], f"{assignment} mutant {name!r} keeps full marks (split={split})"
        # A failure explains itself: an AssertionError from the checks, or the student's own error.
        assert all(error.split(":", 1)[1].strip() for error in lost[split].values()), lost[split]
    assert lost[False].keys() == lost[True].keys(), lost


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


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_follow_the_clean_kernel_rules(assignment):
    """DEVELOPERS.md, "Test-cell rules" 1-5 (and every other rule the grader relies on) are
    ``python -m autograder lint``'s; tests/test_lint.py has one test per rule."""
    from autograder.gates.lint import lint_assignment

    assert [str(p) for p in lint_assignment(assignment)] == []


def test_every_assignment_says_before_its_questions_that_no_check_watches_how_and_selfgrade_points_at_it():
    """Issue 17: students are told which parts check how they compute (none) before the questions; the
    self-grade report points at that paragraph in one line instead of repeating it."""
    from autograder.tools.selfgrade import (
        HOW_YOU_COMPUTE,
        Part,
        format_report,
        how_you_compute,
        how_you_compute_pointer,
    )

    notes = {assignment: how_you_compute(assignment) for assignment in ASSIGNMENTS}
    assert all(note.startswith(HOW_YOU_COMPUTE) for note in notes.values()), notes
    assert len(set(notes.values())) == 1, "the assignments word it differently"
    for assignment in ASSIGNMENTS:
        before = []
        for raw in _notebook(assignment).cells:
            if raw.cell_type == "code":
                break
            before.append(raw.source)
        assert HOW_YOU_COMPUTE in "".join(before), f"{assignment} says it after its first code cell"
    report = format_report("ps1", [Part("test_x_diag", 0.0, 2.0, "X_diag is not 2-D")],
                           how_you_compute_pointer("ps1"))
    assert notes["ps1"] not in report and report.count(HOW_YOU_COMPUTE) == 1
    assert report.index(HOW_YOU_COMPUTE) < report.index("| test_x_diag |")


NUMPY_PS2_ANSWERS = {
    "conv_out_size_answer": '''import numpy as np


def conv_out_size(input_size: int, kernel_size: int, padding: int = 0, stride: int = 1,
                  dilation: int = 1) -> int:
    span = dilation * (kernel_size - 1) + 1
    if span > input_size + 2 * padding:
        raise ValueError("the kernel does not fit")
    return np.floor((input_size + 2 * padding - span) / stride) + 1  # a numpy.float64 such as 6.0
''',
    "conv_madds_answer": '''import numpy as np


def conv_madds(in_channels, out_channels, height, width, kernel_height, kernel_width, padding=0, stride=1):
    out_height = (height + 2 * padding - kernel_height) // stride + 1
    out_width = (width + 2 * padding - kernel_width) // stride + 1
    terms = [out_channels, out_height, out_width, in_channels, kernel_height, kernel_width]
    return np.prod(terms)  # a numpy.int64
''',
}


@pytest.mark.parametrize("split", SETTINGS)
def test_honest_numpy_answers_score_full_marks_in_both_settings(split):
    """Red team, issue 1: numpy scalars arrived in the test kernel as stand-ins that equal no number,
    so these answers scored 9/13 in the grader and 13/13 in ``nbgrader validate``."""
    reference = _run("ps2", _reference_answers("ps2"), split)
    answers = {**_reference_answers("ps2"), **NUMPY_PS2_ANSWERS}
    results = _run("ps2", answers, split)
    assert {gid: error for gid, (_, error) in results.items() if error} == {}
    assert _score(results) == _score(reference)
