"""Problem sets 2-4 run in-process: the reference answers pass every test cell, the release stubs
fail every one, each mutant of ``autograder/mutants`` loses points, and the partial student
scores exactly PARTIAL["expected_score"].

The cells are executed with ``exec`` in one namespace per run (no kernel, no nbgrader), so this
is a quick check while editing a notebook; ``python -m autograder validate|students`` runs the
real pipeline.
"""

from __future__ import annotations

import importlib
import re
import warnings
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {
    "ps2": ROOT / "course/source/ps2/padding_stride_channels.ipynb",
    "ps3": ROOT / "course/source/ps3/pooling_lenet.ipynb",
    "ps4": ROOT / "course/source/ps4/modern_cnns.ipynb",
}
TOTAL_POINTS = {"ps2": 13, "ps3": 15, "ps4": 20}
_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)


def _released(source: str) -> str:
    """An answer cell as nbgrader releases it: every solution region becomes the stub."""
    return _SOLUTION.sub(lambda m: f"{m[1]}# YOUR CODE HERE\n{m[1]}raise NotImplementedError()", source)


def _code_cells(assignment: str) -> list[tuple[str, dict, str]]:
    nb = nbformat.read(NOTEBOOKS[assignment], as_version=4)
    return [(c.metadata.get("nbgrader", {}).get("grade_id", ""), c.metadata.get("nbgrader", {}), c.source)
            for c in nb.cells if c.cell_type == "code"]


def _run(assignment: str, answers: dict[str, str] | None = None,
         released: bool = False, solved: tuple[str, ...] = ()) -> dict[str, tuple[float, str | None]]:
    """Execute the notebook; for every test cell its points and None (passed) or the error."""
    answers = answers or {}
    namespace: dict = {"__name__": "__main__"}
    results = {}
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBGRADER_EXECUTION", "autograde")
        mp.setenv("MPLBACKEND", "agg")
        for grade_id, meta, source in _code_cells(assignment):
            if meta.get("solution"):
                if grade_id in answers:
                    source = answers[grade_id]
                elif released and grade_id not in solved:
                    source = _released(source)
            try:
                exec(compile(source, grade_id or "cell", "exec"), namespace)  # noqa: S102
                error = None
            except Exception as exc:  # noqa: BLE001 - a failing cell is data here
                error = f"{type(exc).__name__}: {exc}"
            if meta.get("grade"):
                results[grade_id] = (float(meta["points"]), error)
    return results


def _score(results: dict[str, tuple[float, str | None]]) -> float:
    return sum(points for points, error in results.values() if error is None)


def _mutants(assignment: str):
    return importlib.import_module(f"autograder.mutants.{assignment}")


@pytest.mark.parametrize("assignment", list(NOTEBOOKS))
def test_reference_answers_pass_every_test_cell(assignment):
    results = _run(assignment)
    failed = {gid: error for gid, (_, error) in results.items() if error}
    assert not failed
    assert sum(points for points, _ in results.values()) == TOTAL_POINTS[assignment]


@pytest.mark.parametrize("assignment", list(NOTEBOOKS))
def test_released_stubs_fail_every_test_cell(assignment):
    results = _run(assignment, released=True)
    passed = [gid for gid, (_, error) in results.items() if error is None]
    assert not passed


@pytest.mark.parametrize("assignment", list(NOTEBOOKS))
def test_partial_student_scores_what_partial_promises(assignment):
    partial = _mutants(assignment).PARTIAL
    results = _run(assignment, partial.get("replacements"), released=True, solved=tuple(partial["solved"]))
    assert _score(results) == partial["expected_score"]


def _mutant_cases():
    for assignment in NOTEBOOKS:
        for name in _mutants(assignment).MUTANTS:
            yield pytest.param(assignment, name, id=f"{assignment}-{name}")


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "name"), list(_mutant_cases()))
def test_every_mutant_loses_points_with_a_message(assignment, name):
    results = _run(assignment, _mutants(assignment).MUTANTS[name])
    lost = {gid: error for gid, (_, error) in results.items() if error}
    assert lost, f"{assignment} mutant {name!r} keeps full marks"
    # A failure explains itself: an AssertionError from the checks, or the student's own error.
    assert all(error.split(":", 1)[1].strip() for error in lost.values()), lost
