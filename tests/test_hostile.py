"""Hostile students against ``python -m autograder grade`` (issue 9).

Every honest submission is first graded alone (one batch per assignment, no attacker in it);
then the whole corpus of :mod:`autograder.gates.hostile.corpus` is graded in one batch per
assignment with 2 workers and short cell timeouts, the honest students included. Each hostile
submission must get at most its fair grade (its honest twin's score from the first batch),
runaway and dying kernels keep at least the points of the parts before the runaway cell, and
nothing an attacker does may move an honest classmate's grade, reach the grading machine's
network, change the instructor's files or leak hidden tests into feedback.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.course import read
from autograder.gates.hostile.corpus import Case, cases
from autograder.gates.hostile.run import Batch, fair, grade_engine, listener, outcomes, prepare
from autograder.gates.regions import HIDDEN, region_lines, secret_lines, visible_text
from autograder.gates.workspace import NbgraderFailed, Workspace, workspace

pytestmark = pytest.mark.slow

ASSIGNMENTS = ("ps1", "ps2", "ps3", "ps4")
TIMEOUT = 8  # seconds per cell: the setup cell imports torch on a busy 2-core machine
WORKERS = 2
CASES = {a: cases(a) for a in ASSIGNMENTS}
ALL_CASES = [pytest.param(a, c, id=f"{a}-{c.name}") for a in ASSIGNMENTS for c in CASES[a]]
# The cases whose code runs in an ordinary submission (no rewritten notebook or folder).
CODE_CASES = [pytest.param(a, c, id=f"{a}-{c.name}") for a in ASSIGNMENTS for c in CASES[a]
              if c.notebook is None and c.folder is None]
MAX_OUTPUT_BYTES = 5_000_000  # a 60 MB print must not make a notebook or a feedback page this big


@dataclass
class Graded:
    """Both batches of every assignment, and what the hostile batch left behind."""

    ws: Workspace
    alone: dict[str, Batch]
    hostile: dict[str, Batch]
    received: list[bytes]  # what reached the grading machine's TCP listener
    instructor_before: dict[str, str]
    feedback_errors: dict[str, str]
    feedback_seconds: dict[str, float]


def _instructor_files(ws: Workspace) -> dict[str, str]:
    """Digest of nbgrader_config.py and of every file under source/."""
    paths = [ws.course / "nbgrader_config.py", *sorted((ws.course / "source").rglob("*"))]
    return {str(p.relative_to(ws.course)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in paths if p.is_file()}


def _short_limits(ws: Workspace) -> Workspace:
    """A short grace after an interrupt and a notebook wall limit that 10,000 cells cannot dodge."""
    with (ws.course / "nbgrader_config.py").open("a") as config:
        config.write("c.SandboxedExecute.kill_grace = 2\nc.SandboxedExecute.notebook_timeout = 240\n")
    return ws


def _grade(ws: Workspace, assignment: str, hostile: list[Case], port: int) -> Batch:
    honest = prepare(ws, assignment, hostile, port)
    code, log = grade_engine(ws, assignment, WORKERS)
    return outcomes(ws, assignment, [*honest, *(c.name for c in hostile)], code, log)


@pytest.fixture(scope="module")
def graded() -> Iterator[Graded]:
    with listener() as (port, received):
        with workspace(list(ASSIGNMENTS), timeout=TIMEOUT) as ws:
            _short_limits(ws)
            alone = {a: _grade(ws, a, [], port) for a in ASSIGNMENTS}
        with workspace(list(ASSIGNMENTS), timeout=TIMEOUT) as ws:
            before = _instructor_files(_short_limits(ws))
            hostile = {a: _grade(ws, a, CASES[a], port) for a in ASSIGNMENTS}
            feedback_errors, feedback_seconds = {}, {}
            for a in ASSIGNMENTS:
                start = time.perf_counter()
                try:
                    ws.nbgrader("generate_feedback", a, "--force")
                except NbgraderFailed as error:
                    feedback_errors[a] = str(error)
                feedback_seconds[a] = time.perf_counter() - start
                hostile[a] = outcomes(ws, a, list(hostile[a].results), hostile[a].returncode, hostile[a].log)
            yield Graded(ws, alone, hostile, received, before, feedback_errors, feedback_seconds)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_submission_has_a_row_or_an_explicit_failure(graded, assignment):
    batch = graded.hostile[assignment]
    unaccounted = [name for name, result in batch.results.items()
                   if result.score is None and not result.status.startswith("FAILED ")]
    assert not unaccounted, (f"{assignment}: no gradebook row and no failure status for {unaccounted}; "
                             f"grader log tail:\n{batch.log[-3000:]}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_grader_exits_non_zero_when_a_submission_could_not_be_graded(graded, assignment):
    batch = graded.hostile[assignment]
    ungraded = [name for name, result in batch.results.items()
                if result.score is None or result.status.startswith("FAILED")]
    assert batch.returncode != 0 or not ungraded, (
        f"{assignment}: exit status 0 with ungraded {ungraded}; log tail:\n{batch.log[-2000:]}")


@pytest.mark.parametrize(("assignment", "case"), ALL_CASES)
def test_hostile_submission_gets_no_more_than_its_fair_grade(graded, assignment, case):
    batch = graded.hostile[assignment]
    low, high = fair(graded.ws, assignment, case, graded.alone[assignment])
    got = batch.results[case.name].score
    context = (f"{case.name} ({case.attack}): got {got}, fair {low:g}..{high:g}; "
               f"grader says: {batch.results[case.name].status}")
    if got is None:
        assert low == 0 and not case.exact, context  # an explicit failure scores nothing
        return
    assert got <= high, context
    assert got >= low, context
    if case.exact:
        assert got == high, context


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_honest_grades_do_not_move_when_attackers_share_the_batch(graded, assignment):
    alone, batch = graded.alone[assignment], graded.hostile[assignment]
    moved = {name: (result.score, batch.results[name].score) for name, result in alone.results.items()
             if (result.score, result.cells) != (batch.results[name].score, batch.results[name].cells)}
    assert not moved, f"{assignment}: student: (alone, with attackers) {moved}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_correct_submissions_get_full_marks(graded, assignment):
    for batch in (graded.alone[assignment], graded.hostile[assignment]):
        assert batch.results["a-solution"].score == batch.max_score
        assert batch.results["s-solution"].score == batch.max_score
        assert batch.results["s-blank"].score == 0
        if assignment == "ps1":  # imports matplotlib.pyplot and plots its image: nothing of it in the tests
            assert batch.results["s-plots"].score == batch.max_score, batch.results["s-plots"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_autograded_notebooks_hold_the_submitted_cells_and_no_grader_code(graded, assignment):
    """The clean test kernel's bookkeeping cells never land in (or replace cells of) a notebook."""
    source = {p.name: read(p) for p in sorted((graded.ws.course / "source" / assignment).glob("*.ipynb"))}
    for path in graded.hostile[assignment].results["s-solution"].autograded:  # in graded.ws
        cells = read(path).cells
        assert len(cells) == len(source[path.name].cells), f"{path}: cells added or lost"
        assert not [c.source for c in cells if "grading_kernels" in c.source], f"{path}: grader code"
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells]
        assert ids == [c.metadata.get("nbgrader", {}).get("grade_id") for c in source[path.name].cells]


@pytest.mark.parametrize(("assignment", "name"), [
    *[("ps1", name) for name in ("h-sixty-mb", "h-huge-message", "h-huge-class-name", "h-huge-display-update",
                                 "h-huge-metadata", "h-huge-errors-in-tests")],
    *[(assignment, "h-huge-errors-in-tests") for assignment in ("ps2", "ps3", "ps4")]])
def test_tens_of_mb_of_output_are_capped_in_autograded_notebook_and_feedback(graded, assignment, name):
    result = graded.hostile[assignment].results[name]
    assert result.autograded and result.feedback, f"{name} has no autograded notebook or no feedback"
    sizes = {p.name: p.stat().st_size for p in [*result.autograded, *result.feedback]}
    assert max(sizes.values()) < MAX_OUTPUT_BYTES, f"sizes in bytes: {sizes}"


@pytest.mark.parametrize(("assignment", "case"), CODE_CASES)
def test_output_of_every_kind_is_capped_in_autograded_notebook_and_feedback(graded, assignment, case):
    """Whatever a submission's code prints, raises (message, class name), displays (data, metadata)
    or updates, and whatever the grader relays of it into a test cell, the autograded notebook and
    the feedback page stay small. Cases that rewrite the notebook itself (10,000 cells) are about
    structure, not output: they are left out of the parameters (the sanitizer's tests cover them)."""
    result = graded.hostile[assignment].results[case.name]
    sizes = {p.name: p.stat().st_size for p in [*result.autograded, *result.feedback]}
    assert max(sizes.values(), default=0) < MAX_OUTPUT_BYTES, f"{case.name}: sizes in bytes: {sizes}"


def test_feedback_is_generated_for_the_hostile_batch(graded):
    assert not graded.feedback_errors, graded.feedback_errors


def test_no_kernel_reaches_the_grading_machines_network(graded):
    assert graded.received == [], f"the listener on 127.0.0.1 received {graded.received}"


def test_instructor_files_are_unchanged(graded):
    after = _instructor_files(graded.ws)
    changed = sorted(k for k in after.keys() | graded.instructor_before.keys()
                     if after.get(k) != graded.instructor_before.get(k))
    assert not changed, f"changed or new instructor files: {changed}"


def test_feedback_never_shows_hidden_tests(graded):
    leaked = {}
    for assignment in ASSIGNMENTS:
        for path in sorted((graded.ws.course / "source" / assignment).glob("*.ipynb")):
            nb = read(path)
            hidden = secret_lines(region_lines(nb, HIDDEN), visible_text(nb, (HIDDEN,), ordinary_code=True))
            for page in sorted(graded.ws.course.glob(f"feedback/*/{assignment}/{path.stem}.html")):
                text = html.unescape(page.read_text(errors="replace"))
                # A line the student wrote themselves (say "continue") is theirs to see.
                own = graded.ws.path("submitted", page.parent.parent.name, assignment, path.name)
                written = own.read_text(errors="replace") if own.is_file() else ""
                shown = [line for line in hidden if line in text and line not in written]
                if shown:
                    leaked[str(Path(page).relative_to(graded.ws.course))] = shown[:3]
    assert not leaked, f"hidden test lines in feedback: {leaked}"


# Executable HTML: a tag with an on*= handler, a script element (with the start of its code), a
# frame, a script URL. JSON escapes quotes as \" in an .ipynb, hence the backslashes allowed.
_EXECUTABLE = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=[^>]{0,40}|<script\b[^>]*>[^<]{0,60}|<i?frame\b"
                         r"|(?:href|src|action)\s*=[\\\"' ]*(?:java|vb|live)script\s*:", re.IGNORECASE)
STUDENT_HTML = ("h-xss-markdown", "h-huge-markdown", "h-huge-cell-metadata", "h-big-attachment",
                "h-huge-code-cell")


def _executable(paths: list[Path]) -> set[str]:
    return {m[0] for p in paths for m in _EXECUTABLE.finditer(p.read_text(errors="replace"))}


@pytest.mark.parametrize("name", STUDENT_HTML)
def test_student_html_and_bulk_never_reach_autograded_notebook_or_feedback(graded, name):
    """Markdown, attachments and metadata a student controls are cleaned before grading: the
    autograded notebook and the feedback page (what formgrader and the student's browser render)
    hold no executable HTML the honest twin's do not, and stay small."""
    case = next(c for c in CASES["ps1"] if c.name == name)
    result, twin = graded.hostile["ps1"].results[name], graded.hostile["ps1"].results[case.twin]
    assert result.autograded and result.feedback, f"{name} has no autograded notebook or no feedback"
    sizes = {p.name: p.stat().st_size for p in [*result.autograded, *result.feedback]}
    assert max(sizes.values()) < MAX_OUTPUT_BYTES, f"{name}: sizes in bytes: {sizes}"
    for kind in ("autograded", "feedback"):
        extra = _executable(getattr(result, kind)) - _executable(getattr(twin, kind))
        assert not extra, f"{name}: executable HTML in its {kind} files: {sorted(extra)[:5]}"
    if name == "h-xss-markdown":
        assert "XSS-" in "".join(p.read_text() for p in result.feedback), "the student's text was dropped"


def test_feedback_of_a_batch_with_huge_markdown_is_generated_in_minutes(graded):
    """A 24 MB markdown cell once made a 66 MB feedback page that took 3 minutes alone."""
    assert graded.feedback_seconds["ps1"] < 180, graded.feedback_seconds

