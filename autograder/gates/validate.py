"""``python -m autograder validate``: is each assignment gradable, and is its release safe?

For every assignment, in a temporary copy of the course:

1. conventions: ``python -m autograder lint`` (:mod:`autograder.gates.lint`) finds no problem;
   when it finds one, the other steps are not run (the table says what lint said);
2. the source notebooks pass every test cell (nbgrader's Validator, failures read from its result);
3. ``nbgrader generate_assignment`` succeeds;
4. the released notebooks fail every graded test cell (a stub must not earn points);
5. the release contains no solution code and no hidden test (every distinctive line inside
   ``BEGIN/END SOLUTION`` or ``BEGIN/END HIDDEN TESTS`` is searched for in the released files).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from nbgrader.validator import Validator
from tqdm import tqdm
from traitlets.config import Config, PyFileConfigLoader

from autograder.course import COURSE, cells, read, source_notebooks
from autograder.gates.lint import QUIET_LINE, lint_assignment, lint_notebook
from autograder.gates.regions import HIDDEN, SOLUTION, leaks, region_lines, secret_lines, visible_text
from autograder.gates.workspace import Workspace, workspace

__all__ = ["QUIET_LINE", "Step", "convention_problems", "validate_assignment", "run"]


@dataclass
class Step:
    """One row of the validation table."""

    assignment: str
    step: str
    ok: bool
    detail: str


def convention_problems(path: Path) -> list[str]:
    """What ``lint`` finds wrong in one source notebook (its warnings left out), as text."""
    return [p.what for p in lint_notebook(path, mutated=set(), seen_ids=set()) if not p.warning]


def _validator(ws: Workspace, invert: bool) -> Validator:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ws.course)).load_config()
    config.merge(Config({"Validator": {"invert": invert}}))
    return Validator(config=config)


def _validate(validator: Validator, path: Path) -> list[str]:
    """Validate one notebook; readable reasons for every complaint (empty when it validated)."""
    names = {cell.source.strip(): cell.grade_id for cell in cells(read(path))}
    results = validator.validate(str(path))
    reasons = []
    for key in ("type_changed", "changed", "failed", "passed"):
        for entry in results.get(key, []):
            where = names.get(entry["source"], entry["source"].splitlines()[0][:60])
            error = entry.get("raw_error", "").strip().splitlines()[-1:] if key == "failed" else []
            reasons.append(f"{path.name}: {where} {key} {' '.join(error)[:200]}".rstrip())
    return reasons


def _release_text(folder: Path) -> str:
    """Every cell source and output of the released notebooks, and the other released text files."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".ipynb":
            for cell in read(path).cells:
                parts.append(cell.source)
                for output in cell.get("outputs", []):
                    parts.append(str(output))
        elif path.is_file():
            parts.append(path.read_text(errors="replace"))
    return "\n".join(parts)


def validate_assignment(ws: Workspace, assignment: str) -> list[Step]:
    """Run the five steps for one assignment whose source was copied into ``ws``."""
    steps = []
    sources = source_notebooks(assignment, ws.course / "source")

    def add(step: str, problems: list[str], fine: str) -> None:
        steps.append(Step(assignment, step, not problems, "; ".join(problems) if problems else fine))

    problems = [str(p) for p in lint_assignment(assignment, ws.course) if not p.warning]
    add("conventions", problems, f"lint: {len(sources)} notebook(s), no problem")
    if problems:
        return steps  # refused: the grader relies on every rule lint checks
    validator = _validator(ws, invert=False)
    problems = []
    for path in tqdm(sources, desc=f"{assignment} source", file=sys.stdout, leave=False):
        problems += _validate(validator, path)
    add("source passes", problems, "every test cell passes")

    try:
        ws.nbgrader("generate_assignment", assignment)
    except RuntimeError as error:
        add("generate_assignment", [str(error).splitlines()[0]], "")
        return steps
    add("generate_assignment", [], "release written")

    released = sorted(ws.path("release", assignment).glob("*.ipynb"))
    validator = _validator(ws, invert=True)
    problems = [] if released else ["no notebook in the release"]
    for path in tqdm(released, desc=f"{assignment} release", file=sys.stdout, leave=False):
        problems += _validate(validator, path)
    add("release fails", problems, "every graded test cell fails")

    text = _release_text(ws.path("release", assignment))
    problems = []
    for path in sources:
        nb = read(path)
        public = visible_text(nb, (SOLUTION, HIDDEN), ordinary_code=False)
        solution = secret_lines(region_lines(nb, SOLUTION), public)
        hidden = secret_lines(region_lines(nb, HIDDEN), public)
        problems += [f"solution line leaked: {line!r}" for line in leaks(solution, text)]
        problems += [f"hidden test leaked: {line!r}" for line in leaks(hidden, text)]
        for marker in (*SOLUTION, *HIDDEN):
            if marker in text:
                problems.append(f"marker {marker!r} left in the release")
    add("no leaks", sorted(set(problems)), "no solution or hidden-test line in the release")
    return steps


def run(assignments: list[str], course: Path = COURSE, keep: bool = False) -> tuple[bool, list[Step]]:
    """Validate each assignment in its own temporary copy of ``course``; return (all ok, table rows)."""
    steps = []
    for assignment in assignments:
        with workspace([assignment], course=course, keep=keep) as ws:
            steps += validate_assignment(ws, assignment)
    return all(step.ok for step in steps), steps
