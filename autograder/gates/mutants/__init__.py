"""Wrong answers that the hidden tests of each assignment must catch.

An assignment's mutants live in a data file (no Python needed), looked for in this order:
``<course>/mutants/<ps>.yaml`` (or ``.json``), ``autograder/gates/mutants/<ps>.yaml`` (or ``.json``),
then the Python module ``autograder/gates/mutants/<ps>.py``. The data file (format and an example
in ``course/AUTHORING.md``)::

    mutants:
      off_by_one:                       # a name that says the mistake
        difference_kernel_answer:       # the answer cell's grade_id
          replace: {"range(d)": "range(d - 1)"}   # edits of the reference answer, or
      forgets_the_sign:
        difference_kernel_answer: |     # the whole cell as that student would write it
          def difference_kernel(d): ...
    partial:
      solved: [x_diag_answer, y_diag_answer]   # answered with the reference (or a replacement)
      expected_score: 3
      replacements: {}                         # optional: grade_id -> source

A Python module defines the same as ``MUTANTS: dict[str, dict[str, str]]`` (mutant name ->
{answer grade_id: the whole source of that cell}) and ``PARTIAL = {"solved": [...],
"expected_score": float, "replacements": {...}}``. Every cell a mutant does not name keeps the
reference solution, so a mutant isolates one mistake; the partial student leaves the cells it
did not solve as released. Leave at least one unsolved answer cell before a solved one:
``simulate`` puts its endless loop there.

``python -m autograder mutants PS`` autogrades every mutant in one run and fails when one of
them keeps full marks.
"""

from __future__ import annotations

import importlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.course import COURSE, cells, read, source_notebooks
from autograder.gates.regions import reference_source

__all__ = ["Spec", "load", "find", "covered", "data_file", "parse", "copy_data"]

HERE = Path(__file__).resolve().parent
SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Spec:
    """The mutants and the partial student of one assignment."""

    mutants: dict[str, dict[str, str]]
    solved: tuple[str, ...]
    expected_score: float
    replacements: dict[str, str]


def _data_in(folder: Path, assignment: str) -> Path | None:
    for suffix in SUFFIXES:
        if (folder / f"{assignment}{suffix}").is_file():
            return folder / f"{assignment}{suffix}"
    return None


def data_file(assignment: str, course: Path = COURSE) -> Path | None:
    """The assignment's mutants data file: in ``<course>/mutants/``, else beside this module."""
    return _data_in(course / "mutants", assignment) or _data_in(HERE, assignment)


def _reference(assignment: str, source: Path) -> dict[str, str]:
    """Answer grade_id -> reference source (the solution cell without its marker lines)."""
    return {cell.grade_id: reference_source(cell.source) for path in source_notebooks(assignment, source)
            for cell in cells(read(path)) if cell.is_answer}


def _check(where: str, mutants: object, partial: object) -> Spec:
    if not isinstance(mutants, dict) or not all(
        isinstance(name, str) and isinstance(cells, dict) and cells
        and all(isinstance(k, str) and isinstance(v, str) for k, v in cells.items())
        for name, cells in mutants.items()
    ):
        raise SystemExit(f"{where}: mutants must map a name to a non-empty {{grade_id: source}} mapping")
    if not isinstance(partial, dict) or not {"solved", "expected_score"} <= partial.keys():
        raise SystemExit(f"{where}: partial must be a mapping with 'solved' and 'expected_score'")
    return Spec(mutants=mutants, solved=tuple(partial["solved"]),
                expected_score=float(partial["expected_score"]),
                replacements=dict(partial.get("replacements") or {}))


def _edit(where: str, name: str, grade_id: str, reference: dict[str, str], edit: dict) -> str:
    """A cell given as ``{replace: {old: new, ...}}``: the reference answer with those edits."""
    if set(edit) != {"replace"} or not isinstance(edit["replace"], dict):
        raise SystemExit(f"{where}: mutant {name}, cell {grade_id}: write the whole source (a string) or "
                         "`replace: {old text: new text}`")
    if grade_id not in reference:
        raise SystemExit(f"{where}: mutant {name}: {grade_id!r} is not an answer cell")
    source = reference[grade_id]
    for old, new in edit["replace"].items():
        if str(old) not in source:
            raise SystemExit(f"{where}: mutant {name}, cell {grade_id}: {old!r} is not in the "
                             "reference answer")
        source = source.replace(str(old), str(new))
    return source


def parse(path: Path, reference: dict[str, str], partial_required: bool = True) -> Spec:
    """Read a YAML or JSON mutants file; ``reference``: answer grade_id -> reference source.

    Without ``partial:`` (allowed when ``partial_required`` is false) ``expected_score`` is -1.
    """
    text = path.read_text()
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text)
    where = str(path)
    if not isinstance(data, dict) or "mutants" not in data or (partial_required and "partial" not in data):
        raise SystemExit(f"{where}: needs the two keys `mutants:` and `partial:`")
    mutants = {
        str(name): {str(gid): (_edit(where, name, gid, reference, src) if isinstance(src, dict) else src)
                    for gid, src in (cells or {}).items()}
        for name, cells in (data["mutants"] or {}).items()
    }
    return _check(where, mutants, data.get("partial") or {"solved": [], "expected_score": -1})


def load(assignment: str) -> Spec:
    """The shipped mutants of ``assignment``: a data file beside this module, else its Python module."""
    path = _data_in(HERE, assignment)
    if path is not None:
        return parse(path, _reference(assignment, COURSE / "source"))
    try:
        module = importlib.import_module(f"autograder.gates.mutants.{assignment}")
    except ModuleNotFoundError as error:
        if error.name != f"autograder.gates.mutants.{assignment}":
            raise
        missing = (f"no mutants for {assignment}: write course/mutants/{assignment}.yaml "
                   "(see course/AUTHORING.md)")
        raise SystemExit(missing) from None
    where = f"autograder/gates/mutants/{assignment}.py"
    return _check(where, getattr(module, "MUTANTS", None), getattr(module, "PARTIAL", None))


def find(assignment: str, course: Path = COURSE) -> Spec:
    """The mutants of ``assignment`` in ``course``: its ``mutants/<ps>.yaml`` added to the shipped
    ones of :func:`load` (when there are any); that file's ``partial:``, if it has one, wins."""
    path = _data_in(course / "mutants", assignment)
    if path is None:
        return load(assignment)
    mine = parse(path, _reference(assignment, course / "source"), partial_required=False)
    try:
        shipped = load(assignment)
    except SystemExit:
        if mine.expected_score < 0:
            raise SystemExit(f"{path}: needs `partial:` (no shipped mutants of {assignment} "
                             "give one)") from None
        return mine
    partial = shipped if mine.expected_score < 0 else mine
    return Spec(mutants={**shipped.mutants, **mine.mutants}, solved=partial.solved,
                expected_score=partial.expected_score, replacements=partial.replacements)


def covered(assignment: str, course: Path = COURSE) -> set[str] | None:
    """The answer grade_ids some mutant targets; None when the assignment has no mutants at all."""
    try:
        spec = find(assignment, course)
    except SystemExit:
        return None
    return {grade_id for cells in spec.mutants.values() for grade_id in cells}


def copy_data(assignment: str, course: Path, copy: Path) -> None:
    """Copy ``<course>/mutants/<ps>.*`` into a temporary course copy, where :func:`find` reads it."""
    path = _data_in(course / "mutants", assignment)
    if path is not None:
        (copy / "mutants").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy / "mutants" / path.name)
