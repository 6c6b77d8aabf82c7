"""Wrong answers that the hidden tests of each assignment must catch.

``autograder/gates/mutants/<ps>.py`` defines

* ``MUTANTS: dict[str, dict[str, str]]``: mutant name -> {answer grade_id: the whole source of
  that cell as a student who made this mistake would write it}. Every other cell keeps the
  reference solution, so a mutant isolates one mistake.
* ``PARTIAL = {"solved": [answer grade_ids], "expected_score": float, "replacements": {...}}``:
  a student who answers only the listed cells (with the reference solution, or with the source
  given in the optional ``"replacements"``) and leaves the other answer cells as released.
  Leave at least one unsolved answer cell before a solved one: ``simulate`` puts its endless
  loop there.

``python -m autograder mutants PS`` autogrades every mutant in one run and fails when one of
them keeps full marks.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["Spec", "load"]


@dataclass(frozen=True)
class Spec:
    """The mutants and the partial student of one assignment."""

    mutants: dict[str, dict[str, str]]
    solved: tuple[str, ...]
    expected_score: float
    replacements: dict[str, str]


def load(assignment: str) -> Spec:
    """Import ``autograder.gates.mutants.<assignment>`` and check the shape of what it defines."""
    try:
        module = importlib.import_module(f"autograder.gates.mutants.{assignment}")
    except ModuleNotFoundError as error:
        if error.name != f"autograder.gates.mutants.{assignment}":
            raise
        missing = f"autograder/gates/mutants/{assignment}.py is missing (define MUTANTS and PARTIAL)"
        raise SystemExit(missing) from None
    mutants = getattr(module, "MUTANTS", None)
    partial = getattr(module, "PARTIAL", None)
    where = f"autograder/gates/mutants/{assignment}.py"
    if not isinstance(mutants, dict) or not all(
        isinstance(name, str) and isinstance(cells, dict) and cells
        and all(isinstance(k, str) and isinstance(v, str) for k, v in cells.items())
        for name, cells in mutants.items()
    ):
        raise SystemExit(f"{where}: MUTANTS must map a name to a non-empty {{grade_id: source}} dict")
    if not isinstance(partial, dict) or not {"solved", "expected_score"} <= partial.keys():
        raise SystemExit(f"{where}: PARTIAL must be a dict with 'solved' and 'expected_score'")
    return Spec(
        mutants=mutants,
        solved=tuple(partial["solved"]),
        expected_score=float(partial["expected_score"]),
        replacements=dict(partial.get("replacements", {})),
    )
