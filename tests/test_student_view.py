"""What a student studying on their own gets from ``make lab`` and ``make selfgrade`` (issue 11).

The student form of every assignment lands in ``assignments/<ps>/`` without solutions or hidden
tests, a student's copy is never overwritten, nbgrader's Validate button (its server endpoint)
works on it, and self-grading gives the reference solution full marks and the blank copy zero.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.course import COURSE, ROOT, assignments, cells, read, source_notebooks
from autograder.gates.regions import HIDDEN, SOLUTION, leaks, region_lines, secret_lines, visible_text
from autograder.tools import selfgrade
from cnncourse.handout import PRISTINE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def view(tmp_path_factory) -> Path:
    """The student view of all four assignments, made once for this module."""
    into = tmp_path_factory.mktemp("student") / "assignments"
    selfgrade.release(into)
    return into


def _text(path: Path) -> str:
    return "\n".join(cell.source for cell in read(path).cells)


def test_the_student_view_has_every_assignment_ready_to_open(view):
    assert sorted(p.name for p in view.iterdir() if not p.name.startswith(".")) == assignments()
    for assignment in assignments():
        (source,) = source_notebooks(assignment)
        student = view / assignment / source.name
        assert student.is_file()
        assert "raise NotImplementedError()" in _text(student)


@pytest.mark.parametrize("assignment", assignments())
def test_the_student_view_contains_no_solution_and_no_hidden_test(view, assignment):
    (source,) = source_notebooks(assignment)
    nb = read(source)
    public = visible_text(nb, (SOLUTION, HIDDEN), ordinary_code=False)
    secrets = secret_lines(region_lines(nb, SOLUTION) + region_lines(nb, HIDDEN), public)
    assert secrets, "the source should have solution and hidden-test lines to look for"
    text = _text(view / assignment / source.name)
    assert leaks(secrets, text) == []
    assert not any(marker in text for marker in (*SOLUTION, *HIDDEN))


def test_a_students_copy_is_never_overwritten_and_a_new_release_goes_beside_it(view):
    (source,) = source_notebooks("ps1")
    mine = view / "ps1" / source.name
    answered = mine.read_text().replace("raise NotImplementedError()", "X_diag = torch.eye(6)", 1)
    mine.write_text(answered)
    assert not any("created" in line for line in selfgrade.release(view, ["ps1"]))
    assert mine.read_text() == answered
    pristine = view / "ps1" / PRISTINE / source.name
    pristine.write_text(pristine.read_text().replace("Problem set 1", "Problem set 1 (old release)"))
    (line,) = selfgrade.release(view, ["ps1"])
    beside = [p for p in (view / "ps1").glob("*.release-*.ipynb")]
    assert len(beside) == 1 and beside[0].name in line
    assert mine.read_text() == answered


def _reference_copy(assignment: str, folder: Path) -> Path:
    """The source notebook with the solution markers removed: what a perfect student submits."""
    (source,) = source_notebooks(assignment)
    nb = read(source)
    for cell in nb.cells:
        cell.source = "\n".join(line for line in cell.source.splitlines()
                                if SOLUTION[0] not in line and SOLUTION[1] not in line)
    target = folder / source.name
    target.write_text(json.dumps(nb))
    return target


def test_the_grade_yourself_cell_gives_the_reference_solution_full_marks_without_changing_it(view, tmp_path):
    """The last cell of the student's notebook, run where `make lab` puts it (assignments/ps1/)."""
    (source,) = source_notebooks("ps1")
    (cell,) = [c for c in read(view / "ps1" / source.name).cells if "autograder.tools.selfgrade" in c.source]
    repository = tmp_path / "repository"  # a stand-in for the student's clone, sharing its code
    for folder in ("autograder", "course"):
        (repository / folder).parent.mkdir(parents=True, exist_ok=True)
        (repository / folder).symlink_to(ROOT / folder, target_is_directory=True)
    folder = repository / "assignments" / "ps1"
    folder.mkdir(parents=True)
    notebook = _reference_copy("ps1", folder)
    before = notebook.read_bytes()
    env = {key: value for key, value in os.environ.items() if key != "NBGRADER_EXECUTION"}
    run = subprocess.run([sys.executable, "-c", cell.source], cwd=folder, env=env, capture_output=True,
                         text=True, timeout=600)
    total = sum(c.points for c in cells(read(source)) if c.is_test)
    assert run.stdout.startswith("grading ps1 with the hidden tests"), run.stdout + run.stderr
    assert f"# ps1: {total:g} / {total:g} points" in run.stdout, run.stdout + run.stderr
    assert "failed" not in run.stdout
    assert notebook.read_bytes() == before


def test_selfgrade_gives_the_blank_release_zero_and_says_why_without_hidden_tests(view):
    (source,) = source_notebooks("ps2")
    parts = selfgrade.selfgrade("ps2", view / "ps2" / source.name)
    assert parts and sum(part.score for part in parts) == 0
    assert all(part.message.startswith(selfgrade.NOT_ANSWERED) for part in parts), parts
    report = selfgrade.format_report("ps2", parts)
    hidden = secret_lines(region_lines(read(source), HIDDEN), visible_text(read(source), (HIDDEN,), True))
    assert report.startswith("# ps2: 0 / ") and leaks(hidden, report) == []


def test_make_selfgrade_on_a_blank_notebook_says_not_answered_for_every_part_and_warns_nothing(tmp_path):
    """What `make selfgrade PS=ps1` prints for the copy `make lab` hands out, as a subprocess: a first
    line at once, no SQLAlchemy warning, "not answered yet" for every part, and the introduction's
    "How you compute" paragraph pointed at, not repeated."""
    (source,) = source_notebooks("ps1")
    selfgrade.release(tmp_path / "assignments", ["ps1"])
    notebook = tmp_path / "assignments" / "ps1" / source.name
    run = subprocess.run([sys.executable, "-m", "autograder.tools.selfgrade", "grade", "ps1",
                          "--notebook", str(notebook)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    everything = run.stdout + run.stderr
    assert run.returncode == 0, everything
    assert run.stdout.splitlines()[0].startswith("grading ps1 with the hidden tests: about a minute")
    assert "SAWarning" not in everything and "not in session" not in everything, run.stderr
    tests = [c.grade_id for c in cells(read(source)) if c.is_test]
    assert f"# ps1: 0 / {sum(c.points for c in cells(read(source)) if c.is_test):g} points" in run.stdout
    messages = dict(line[len("* **"):].split("**: ", 1) for line in run.stdout.splitlines()
                    if line.startswith("* **"))
    assert sorted(messages) == sorted(tests), run.stdout
    assert all(m.startswith(selfgrade.NOT_ANSWERED) for m in messages.values()), messages
    assert selfgrade.how_you_compute("ps1") not in run.stdout
    assert run.stdout.count(selfgrade.HOW_YOU_COMPUTE) <= 1
    assert notebook.with_name(f"{notebook.stem}.feedback.md").read_text() in run.stdout


def _answer(grade_id: str, source: str, error: tuple[str, str] | None = None) -> dict:
    """An answer cell; ``error`` (name, value) is the error it stopped with when it ran."""
    outputs = [{"output_type": "error", "ename": name, "evalue": value, "traceback": []}
               for name, value in ([error] if error else [])]
    return nbformat.v4.new_code_cell(source, outputs=outputs, metadata={"nbgrader": {
        "grade": False, "solution": True, "locked": False, "grade_id": grade_id, "schema_version": 3}})


def _test(grade_id: str, error: tuple[str, str]) -> dict:
    return nbformat.v4.new_code_cell("check()", outputs=[
        {"output_type": "error", "ename": error[0], "evalue": error[1], "traceback": ["hidden line"]}],
        metadata={"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": grade_id,
                               "points": 1, "schema_version": 3}})


def _messages(answers: list[dict], tests: list[dict]) -> dict[str, str]:
    """grade_id -> message of each test cell, the answers graded against a reference defining X and f."""
    reference = nbformat.v4.new_notebook(cells=[
        _answer("x_answer", f"{SOLUTION[0]}\nX = 1\n{SOLUTION[1]}"),
        _answer("f_answer", f"def f():\n    {SOLUTION[0]}\n    return 1\n    {SOLUTION[1]}")])
    graded = nbformat.v4.new_notebook(cells=[*answers, *tests])
    any_blank, unanswered = selfgrade._blanks(reference, graded)
    return {c.grade_id: selfgrade._error_message(graded.cells[c.index], unanswered, any_blank)
            for c in cells(graded) if c.is_test}


STUB_SOURCE = "# YOUR CODE HERE\nraise NotImplementedError()"
UNDEFINED_X = ("NameError", "name 'X' is not defined")
DIVISION = ("ZeroDivisionError", "division by zero")


def test_only_a_blank_answer_is_reported_as_not_answered():
    """A name left undefined by a blank answer cell, or the stub's NotImplementedError raised while an answer
    still holds the stub, is "not answered yet"; an answer that fails otherwise never is."""
    blank_f = _answer("f_answer", f"def f():\n    {STUB_SOURCE}")
    answered_f = _answer("f_answer", "def f():\n    return 1")
    # Blank: the answer cell stopped at its stub, so X was never bound.
    blank = _messages([_answer("x_answer", STUB_SOURCE, ("NotImplementedError", "")), blank_f],
                      [_test("test_x", UNDEFINED_X), _test("test_f", ("NotImplementedError", ""))])
    assert blank["test_x"].startswith(f"{selfgrade.NOT_ANSWERED}: `X`"), blank
    assert blank["test_f"].startswith(selfgrade.NOT_ANSWERED), blank
    # Answered, wrongly: the cell raised something else before binding X.
    wrong = _messages([_answer("x_answer", "X = 1 / 0", DIVISION), answered_f],
                      [_test("test_x", UNDEFINED_X)])
    assert wrong["test_x"].startswith("NameError: name 'X' is not defined (the answer cell"), wrong
    # Answered under another name: the cell ran, X is still missing.
    renamed = _messages([_answer("x_answer", "x = 1"), answered_f], [_test("test_x", UNDEFINED_X)])
    assert renamed["test_x"].startswith("NameError"), renamed
    # The stub's line still in one cell, but the cell defining X failed with its own error.
    mixed = _messages([_answer("x_answer", f"X = 1 / 0\n{STUB_SOURCE}", DIVISION), blank_f],
                      [_test("test_x", UNDEFINED_X)])
    assert mixed["test_x"].startswith("NameError"), mixed
    # The student's own bare NotImplementedError, every answer filled in: wrong, not blank.
    own_f = _answer("f_answer", "def f():\n    raise NotImplementedError")
    own = _messages([_answer("x_answer", "X = 1"), own_f], [_test("test_f", ("NotImplementedError", ""))])
    assert own["test_f"] == "NotImplementedError", own


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nbgraders_validate_endpoint_works_on_the_student_view(view, tmp_path):
    """What the Validate button does: POST the notebook's path to the server's validate handler."""
    (source,) = source_notebooks("ps1")
    root = tmp_path / "lab"
    shutil.copytree(view, root / "assignments")
    port, token = _free_port(), "selfstudy"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--allow-root", "--no-browser", f"--port={port}",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        request = urllib.request.Request(
            f"{base}/assignments/validate?token={token}", method="POST",
            data=json.dumps({"path": f"assignments/ps1/{source.name}"}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            answer = json.loads(response.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert answer["success"], answer["value"]
    assert answer["value"]["failed"], "a blank copy should fail its visible checks"


def test_the_makefile_makes_the_student_view_before_lab_and_has_a_selfgrade_target():
    makefile = (ROOT / "Makefile").read_text()
    assert "lab: $(STAMP) $(STUDENT_VIEW)" in makefile
    assert "-m autograder.tools.selfgrade release" in makefile
    assert "-m autograder.tools.selfgrade grade" in makefile
    assert "assignments/" in (ROOT / ".gitignore").read_text().splitlines()
    assert (COURSE / "nbgrader_config.py").exists()


def test_a_name_the_tests_miss_points_the_student_at_its_answer_cell():
    """A blank answer cell raises before binding its name; the test then fails with NameError."""
    cell = {"outputs": [{"output_type": "error", "ename": "NameError",
                         "evalue": "name 'X_diag' is not defined", "traceback": ["hidden line"]}]}
    message = selfgrade._error_message(cell)
    assert message.startswith("NameError: name 'X_diag' is not defined")
    assert "answer it, then run it" in message and "hidden line" not in message
