"""``python -m autograder grade`` (issue 9): every submission gets a row, N at a time, resumably,
and a kernel that dies, hangs or floods its output costs only the cell that did it. Issue 17: every
output byte counts, kernels hold no host file, grading order changes no grade, a symlinked virtual
environment works and a kernel that cannot start stops the run once, with its reason."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import sqlalchemy
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.api import Gradebook
from sqlalchemy import text

from autograder.course import COURSE, ROOT, read
from autograder.engine.caps import STUB_CHARACTERS, json_size
from autograder.engine.client import grade_course
from autograder.engine.execute import SandboxedExecute
from autograder.engine.files import MAX_FILES, regular_files
from autograder.engine.records import STATE
from autograder.engine.sandbox import readonly_paths
from autograder.engine.submission import MAX_NOTEBOOK_BYTES, check_notebooks, clean_timestamp
from autograder.gates.hostile.attacks import PLOTS_X_DIAG
from autograder.gates.students import Student, _submission, reference_answers
from autograder.gates.workspace import tools_on_path

TIMESTAMP = "2025-01-06 09:00:00.000000 UTC"
NOTEBOOK = "cross_correlation.ipynb"


def _course(root: Path) -> Path:
    """A copy of the course with ps1 generated (its gradebook knows the assignment)."""
    course = root / "course"
    shutil.copytree(COURSE / "source" / "ps1", course / "source" / "ps1")
    shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    tools_on_path()
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "ps1"], cwd=course, check=True,
                   capture_output=True)
    return course


def _submit(course: Path, student: str, nb: nbformat.NotebookNode | str | None) -> None:
    folder = course / "submitted" / student / "ps1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timestamp.txt").write_text(TIMESTAMP)
    if isinstance(nb, str):
        (folder / NOTEBOOK).write_text(nb)
    elif nb is not None:
        nbformat.write(nb, folder / NOTEBOOK)


def _students(course: Path) -> None:
    release = read(course / "release" / "ps1" / NOTEBOOK)
    solution = _submission(release, Student("solution", reference_answers("ps1", course / "source")))
    _submit(course, "solution", solution)
    _submit(course, "blank", release)
    julia = nbformat.from_dict(json.loads(nbformat.writes(solution)))
    julia.metadata.kernelspec = {"name": "julia-1.9", "display_name": "Julia", "language": "julia"}
    _submit(course, "julia", julia)
    _submit(course, "broken", '{"cells": [')
    _submit(course, "empty", "")
    _submit(course, "missing", None)
    _submit(course, "symlinked", None)  # the notebook links to the instructor's solutions
    (course / "submitted" / "symlinked" / "ps1" / NOTEBOOK).symlink_to(course / "source" / "ps1" / NOTEBOOK)


def test_unreadable_notebooks_are_named_and_removed_before_grading(tmp_path):
    good = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "ir", "display_name": "R"}})
    nbformat.write(good, tmp_path / "other_kernel.ipynb")
    (tmp_path / "empty.ipynb").write_text("")
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "huge.ipynb").write_bytes(b" " * (MAX_NOTEBOOK_BYTES + 1))
    expected = {name: "python3" for name in ("other_kernel", "empty", "broken", "huge", "absent")}
    problems, notes = check_notebooks(tmp_path, expected)
    assert [p.split()[0] for p in problems] == ["empty.ipynb", "broken.ipynb", "huge.ipynb", "missing"]
    assert notes == ["other_kernel.ipynb asks for kernel 'ir'; graded with the course's 'python3'"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other_kernel.ipynb"]


def test_a_submission_time_nbgrader_cannot_read_is_dropped_with_a_note(tmp_path):
    (tmp_path / "timestamp.txt").write_text("<script>not a date</script>")
    assert "graded without a submission time" in clean_timestamp(tmp_path)[0]
    assert not (tmp_path / "timestamp.txt").exists()
    (tmp_path / "timestamp.txt").write_text("2025-01-06 09:00:00.000000 UTC\n")
    assert clean_timestamp(tmp_path) == [] and (tmp_path / "timestamp.txt").exists()


def test_only_regular_files_are_used_and_a_flood_of_files_leaves_the_notebooks(tmp_path):
    (tmp_path / NOTEBOOK).write_text("{}")
    (tmp_path / "timestamp.txt").write_text(TIMESTAMP)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "points.csv").write_text("1,2")
    (tmp_path / "solutions.ipynb").symlink_to(COURSE / "source" / "ps1" / NOTEBOOK)
    (tmp_path / "course").symlink_to(COURSE, target_is_directory=True)
    files, notes = regular_files(tmp_path)
    assert [str(f) for f in files] == [NOTEBOOK, "timestamp.txt", "data/points.csv"]
    assert notes == ["ignored solutions.ipynb (not a regular file)", "ignored course (not a regular file)"]
    for number in range(MAX_FILES):
        (tmp_path / "data" / f"{number}.txt").write_text("x")
    files, notes = regular_files(tmp_path)
    assert [str(f) for f in files] == [NOTEBOOK, "timestamp.txt"] and "only its notebooks" in notes[-1]


@pytest.mark.slow  # nbgrader makes the course gradebook by running `alembic heads`
def test_a_template_gradebook_has_nbgraders_schema_version_without_running_alembic(tmp_path, monkeypatch):
    import nbgrader.api

    from autograder.engine.gradebook import make_template

    tools_on_path()
    course_url = f"sqlite:///{tmp_path / 'course.db'}"
    with Gradebook(course_url, "c") as course:  # nbgrader's way: `alembic heads` gives the version
        course.add_assignment("ps1")
        course.add_notebook("nb", "ps1")
        course.add_grade_cell("test_a", "nb", "ps1", max_score=2, cell_type="code")
        course.add_solution_cell("a_answer", "nb", "ps1")
        course.add_source_cell("setup", "nb", "ps1", cell_type="code", locked=True, source="import torch",
                               checksum="abc")
        version = course.db.execute(text("SELECT version_num FROM alembic_version")).scalar()
        tables = set(sqlalchemy.inspect(course.engine).get_table_names())

    def no_alembic() -> str:
        raise AssertionError("make_template ran `alembic heads`")

    monkeypatch.setattr(nbgrader.api, "get_alembic_version", no_alembic)
    make_template(course_url, "c", "ps1", tmp_path / "template.db")
    with Gradebook(f"sqlite:///{tmp_path / 'template.db'}", "c") as template:
        assert template.db.execute(text("SELECT version_num FROM alembic_version")).scalar() == version
        assert set(sqlalchemy.inspect(template.engine).get_table_names()) == tables
        notebook = template.find_notebook("nb", "ps1")
        assert [(c.name, c.max_score) for c in notebook.grade_cells] == [("test_a", 2)]
        cells = [(c.name, c.source, c.locked) for c in notebook.source_cells]
        assert cells == [("setup", "import torch", True)]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = _course(tmp_path_factory.mktemp("grade"))
    _students(course)
    outcomes = {o.student: o for o in grade_course(course, "ps1", workers=2)}
    return course, outcomes


@pytest.mark.slow
def test_correct_and_blank_get_full_and_zero_and_every_failure_has_a_reason(graded):
    course, outcomes = graded
    assert set(outcomes) == {"solution", "blank", "julia", "broken", "empty", "missing", "symlinked"}
    solution = outcomes["solution"]
    assert (solution.score, solution.max_score, solution.status) == (13, 13, "graded")
    assert (outcomes["blank"].score, outcomes["blank"].status) == (0, "graded")
    assert outcomes["julia"].score == 13 and "julia-1.9" in outcomes["julia"].reason
    assert "not a readable notebook" in outcomes["broken"].reason
    assert "empty file" in outcomes["empty"].reason
    assert "missing notebook" in outcomes["missing"].reason
    assert f"ignored {NOTEBOOK} (not a regular file)" in outcomes["symlinked"].reason
    for name in ("broken", "empty", "missing", "symlinked"):
        assert (outcomes[name].status, outcomes[name].score) == ("FAILED", 0)
    assert (course / "autograded" / "solution" / "ps1" / NOTEBOOK).exists()


@pytest.mark.slow
def test_gradebook_has_a_row_for_every_submission_and_exports(graded):
    course, outcomes = graded
    tools_on_path()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = {s.student_id: float(s.score) for s in gb.assignment_submissions("ps1")}
    assert scores == {name: o.score for name, o in outcomes.items()}
    subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course, check=True, capture_output=True)
    with (course / "grades.csv").open() as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert exported == scores


@pytest.mark.slow
def test_grading_twice_gives_the_same_grades_without_regrading(graded):
    course, outcomes = graded
    again = {o.student: o for o in grade_course(course, "ps1", workers=2)}
    assert {n: o.score for n, o in again.items()} == {n: o.score for n, o in outcomes.items()}
    assert {o.status for n, o in again.items() if not outcomes[n].failed} == {"unchanged"}
    assert all(again[n].failed for n in ("broken", "empty", "missing", "symlinked"))


@pytest.mark.slow
def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    course = _course(tmp_path)
    release = read(course / "release" / "ps1" / NOTEBOOK)
    for name in ("first", "second", "third"):
        _submit(course, name, release)
    command = [sys.executable, "-m", "autograder", "grade", "ps1", "--course", str(course), "--workers", "1"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    state = course / STATE / "ps1"
    deadline = time.monotonic() + 300
    while run.poll() is None and time.monotonic() < deadline and not any(state.glob("*.json")):
        time.sleep(0.2)
    run.send_signal(signal.SIGINT)  # Ctrl-C
    run.communicate(timeout=60)
    done = {p.stem for p in state.iterdir()}
    assert 1 <= len(done) < 3
    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    statuses = {line.split()[0]: line.split()[3] for line in rerun.stdout.splitlines()
                if line.split() and line.split()[0] in ("first", "second", "third")}
    assert {n for n, s in statuses.items() if s == "unchanged"} == done
    assert {n for n, s in statuses.items() if s == "graded"} == {"first", "second", "third"} - done


# ----------------------------------------------------------------------------- the execution step

def _meta(grade_id: str, test: bool) -> dict:
    return {"nbgrader": {"grade": test, "solution": not test, "locked": test, "grade_id": grade_id,
                         "points": 1 if test else None, "schema_version": 3}}


def _execute(tmp_path: Path, sources: list[tuple[str, str]], tags: dict | None = None,
             **traits) -> nbformat.NotebookNode:
    """Run a toy notebook of (grade_id, source) cells (test cells start with ``test_``) sandboxed."""
    cells = [new_code_cell(source, metadata=_meta(grade_id, grade_id.startswith("test_")))
             for grade_id, source in sources]
    for cell, (grade_id, _) in zip(cells, sources, strict=True):
        if grade_id in (tags or {}):
            cell.metadata["tags"] = tags[grade_id]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    work = tmp_path / "work"
    work.mkdir()
    options = dict(timeout=4, kill_grace=1.0, uid=100_011, scratch=str(tmp_path),
                   readonly=os.pathsep.join(readonly_paths(protect=COURSE)))
    executor = SandboxedExecute(**(options | traits))
    executor.preprocess(nb, {"metadata": {"path": str(work)}})
    return nb


@pytest.mark.slow
def test_the_kernel_works_in_a_copy_the_grader_never_writes_through(tmp_path):
    """Files and symlinks the kernel plants stay in its copy: nbgrader's later write of the
    autograded notebook (with the grader's rights) cannot be redirected."""
    nb = _execute(tmp_path, [("a_answer", "import os\nopen('planted.txt', 'w').write('x')\n"
                                          "os.symlink('/etc/passwd', 'notebook.ipynb')\nprint(os.getcwd())")])
    assert _errors(nb.cells[0]) == []
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == []


def _errors(cell) -> list[str]:
    return [o.ename for o in cell.outputs if o.output_type == "error"]


@pytest.mark.slow
def test_a_dying_kernel_costs_only_its_cell(tmp_path):
    nb = _execute(tmp_path, [("a_answer", "x = 21"), ("test_a", "assert x == 21"),
                             ("b_answer", "import os\nos._exit(3)"), ("test_b", "assert x * 2 == 42"),
                             ("c_answer", "y = x + 1"), ("test_c", "assert y == 22")])
    assert _errors(nb.cells[2]) == ["KernelDied"]
    assert [_errors(nb.cells[i]) for i in (1, 3, 5)] == [[], [], []]


@pytest.mark.slow
def test_a_kernel_ignoring_interrupts_is_killed_and_grading_goes_on(tmp_path):
    stubborn = ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                "def answer():\n    while True:\n        try:\n            time.sleep(0.05)\n"
                "        except KeyboardInterrupt:\n            pass\n")
    nb = _execute(tmp_path, [("a_answer", "x = 5"), ("b_answer", stubborn), ("test_b", "answer()"),
                             ("test_a", "assert x == 5"), ("c_answer", "z = 1"), ("test_c", "assert z == 1")])
    # The test runs in the clean test kernel; the call it makes is what the student kernel ignores.
    assert _errors(nb.cells[2]) == ["StudentKernelError"]
    assert "ignored the interrupt; its kernel was killed" in nb.cells[2].outputs[-1].evalue
    assert [_errors(nb.cells[i]) for i in (3, 5)] == [[], []]


@pytest.mark.slow
def test_a_failing_test_cell_names_its_own_line(tmp_path):
    """The test kernel runs a first call before the cell's code; the traceback still counts the
    lines of the cell as the notebook shows it."""
    test = "from math import pi\nassert x == 3\nassert x == 4, 'x should be 4'\nassert pi > 3"
    nb = _execute(tmp_path, [("a_answer", "x = 3"), ("test_a", test)])
    trace = re.sub(r"\x1b\[[0-9;]*m", "", "".join(nb.cells[1].outputs[-1].traceback))
    assert "line 3\n    assert x == 4, 'x should be 4'" in trace and trace.endswith("x should be 4\n")


@pytest.mark.slow
def test_what_student_code_prints_while_a_test_calls_it_shows_in_that_test_capped(tmp_path):
    cells = [("a_answer", "def double(x):\n    print('doubling', x)\n    return 2 * x"),
             ("b_answer", "def chatty():\n    print('y' * 50_000)\n    return 1"),
             ("test_a", "assert double(21) == 42"), ("test_b", "assert chatty() == 1")]
    nb = _execute(tmp_path, cells, output_limit=1000)
    assert [_errors(nb.cells[i]) for i in (2, 3)] == [[], []]
    assert "".join(o.get("text", "") for o in nb.cells[2].outputs).strip() == "doubling 21"
    text = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    kept, note = text.split("[output truncated")
    assert 900 < len(kept.strip()) <= 1000 and set(kept.strip()) == {"y"} and "grader's limit of 1000" in note
    assert sum(json_size(o) for o in nb.cells[3].outputs[:-1]) <= 1000  # bytes of JSON, the note aside


@pytest.mark.slow
def test_output_is_capped_and_the_notebook_wall_limit_stops_the_rest(tmp_path):
    cells = [("a_answer", "print('x' * 5_000_000)"), ("b_answer", "import time\ntime.sleep(30)"),
             ("test_b", "pass")]
    nb = _execute(tmp_path, cells, output_limit=1000, notebook_timeout=6, timeout=30)
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert len(text) < 1200 and "output truncated" in text
    assert _errors(nb.cells[2]) == ["NotRun"]


@pytest.mark.slow
def test_a_test_cell_tagged_skip_execution_still_runs(tmp_path):
    """nbclient skips cells tagged skip-execution; a submission must not skip its tests that way."""
    nb = _execute(tmp_path, [("a_answer", "x = 1"), ("test_a", "assert x == 2, 'x should be 2'")],
                  tags={"test_a": ["skip-execution", "raises-exception"]})
    assert _errors(nb.cells[1]) == ["AssertionError"]


@pytest.mark.slow
def test_every_kind_of_output_is_capped_per_cell_and_per_notebook(tmp_path):
    """An exception's message and class name, a display update and output metadata each carried
    30 MB into the notebook (issue 17), and so did what a test relays of a student's function.
    Errors stay errors, so a failing test still fails."""
    big = 30_000_000
    relayed = ("import sys\ndef f():\n    sys.stderr.write('e' * 5_000_000)\n"
               "    raise type('N' * 5_000_000, (Exception,), {})('m' * 5_000_000)")
    cells = [("a_answer", f"raise ValueError('m' * {big})"),
             ("b_answer", f"raise type('C' * {big}, (ValueError,), {{}})('boom')"),
             ("c_answer", f"h = display('x', display_id=True)\n"
                          f"h.update({{'text/plain': 'u' * {big}}}, raw=True)"),
             ("d_answer", f"display({{'text/plain': 'hi'}}, metadata={{'k': 'z' * {big}}}, raw=True)"),
             ("e_answer", relayed), ("test_e", "f()"), ("f_answer", "x = 1"), ("test_f", "assert x == 1")]
    cell_limit, notebook_limit = 20_000, 100_000
    nb = _execute(tmp_path, cells, output_limit=cell_limit, notebook_output_limit=notebook_limit, timeout=60)
    stub = 4 * STUB_CHARACTERS  # an error or stderr output is shrunk, never dropped
    sizes = {c.metadata.nbgrader.grade_id: sum(json_size(o) for o in c.outputs if "output truncated" not in
                                               o.get("text", "")) for c in nb.cells}
    assert all(size <= cell_limit + stub for size in sizes.values()), sizes
    assert sum(sizes.values()) <= notebook_limit + stub * len(sizes), sizes
    assert len(nbformat.writes(nb)) < notebook_limit + 20_000
    assert [_errors(nb.cells[i])[:1] for i in (0, 5, 7)] == [["ValueError"], ["Exception"], []]
    relayed_error = next(o for o in nb.cells[5].outputs if o.output_type == "error")
    assert relayed_error.evalue.startswith("mmm") and len(relayed_error.evalue) < 2100  # clipped at source
    assert _errors(nb.cells[1])[0].startswith("CCCC") and len(_errors(nb.cells[1])[0]) <= STUB_CHARACTERS
    assert nb.cells[2].outputs[0].output_type == "display_data"
    assert nb.cells[3].outputs[0].data == {"text/plain": "hi"}
    for index in (0, 1, 2, 3):
        assert "output truncated" in nb.cells[index].outputs[-1].text


@pytest.mark.slow
def test_kernels_hold_no_host_file_and_their_writes_reach_none(tmp_path, capfd):
    """A kernel's file descriptors are its own sockets, pipes and /dev/null: the worker's log file
    (here pytest's captured stderr) is not among them, and writing to every one reaches no host file."""
    token = "cnncourse-fd-token-27182"
    probe = (f"import json, os\nlinks = {{}}\nfor fd in sorted(map(int, os.listdir('/proc/self/fd'))):\n"
             f"    try:\n        links[fd] = os.readlink(f'/proc/self/fd/{{fd}}')\n"
             f"        if not links[fd].startswith(('socket:', 'anon_inode:')):\n"
             f"            os.write(fd, b'{token}\\n')\n    except OSError:\n        pass\n"
             f"print('fds', json.dumps(links))")
    nb = _execute(tmp_path, [("a_answer", probe), ("test_a", probe)])  # the student's and the test kernel
    for cell in nb.cells:
        printed = [line for o in cell.outputs if o.get("name") == "stdout" for line in o.text.splitlines()
                   if line.startswith("fds ")]
        assert printed, cell.outputs
        links = json.loads(printed[-1][4:])
        kinds = {link.split("[")[0] for link in links.values()}
        assert kinds <= {"/dev/null", "pipe:", "socket:", "anon_inode:"}, links
        assert links["0"] == "/dev/null" and links["1"].startswith("pipe:") and links["2"].startswith("pipe:")
    out, err = capfd.readouterr()
    assert token not in out + err
    files = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()]
    assert not [p for p in files if token.encode() in p.read_bytes()]


def _ps1_student(course: Path, name: str, answers: dict[str, str]) -> None:
    release = read(course / "release" / "ps1" / NOTEBOOK)
    _submit(course, name, _submission(release, Student(name, answers)))


def _plots(course: Path) -> dict[str, str]:
    """The solution, plus a picture of its image with matplotlib.pyplot in the first answer cell."""
    reference = reference_answers("ps1", course / "source")
    image = next(iter(reference))
    return reference | {image: reference[image] + "\n" + PLOTS_X_DIAG}


@pytest.mark.slow
def test_grades_do_not_depend_on_grading_order(tmp_path):
    """One worker grades the batch twice, once with the student who imports matplotlib.pyplot
    first in its test kernel's life and once last: every grade is the same, that student's full."""
    course = _course(tmp_path)
    reference = reference_answers("ps1", course / "source")
    for name, answers in {"plots": _plots(course), "solution": reference, "blank": {},
                          "plots-too": _plots(course)}.items():
        _ps1_student(course, name, answers)
    order = ["plots", "solution", "blank", "plots-too"]
    first = grade_course(course, "ps1", workers=1, students=order, force=True)
    second = grade_course(course, "ps1", workers=1, students=order[::-1], force=True)
    scores = {o.student: (o.score, o.status) for o in first}
    assert scores == {o.student: (o.score, o.status) for o in second}
    assert scores["plots"] == scores["plots-too"] == (first[0].max_score, "graded"), first


@pytest.mark.slow
def test_a_grader_started_through_a_symlinked_virtualenv_grades(tmp_path):
    course = _course(tmp_path)
    _ps1_student(course, "solution", reference_answers("ps1", course / "source"))
    link = tmp_path / "venvlink"
    link.symlink_to(Path(sys.prefix).resolve())
    command = [str(link / "bin" / "python"), "-m", "autograder", "grade", "ps1", "--course", str(course),
               "--workers", "1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    state = json.loads((course / STATE / "ps1" / "solution.json").read_text())
    assert (state["status"], state["score"]) == ("graded", state["max_score"]), state


@pytest.mark.slow
def test_a_kernel_that_cannot_start_stops_the_run_once_with_its_reason(tmp_path):
    """An instructor's memory limit too small for Python: the run stops before any submission with
    what the kernel said, instead of a FAILED row per student."""
    course = _course(tmp_path)
    for name in ("first", "second", "third"):
        _ps1_student(course, name, {})
    with (course / "nbgrader_config.py").open("a") as config:
        config.write("c.SandboxedExecute.memory_limit = 24 << 20\n")
    command = [sys.executable, "-m", "autograder", "grade", "ps1", "--course", str(course), "--workers", "2"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr.count("a grading kernel cannot start") == 1, done.stderr
    assert "the kernel wrote:" in done.stderr and "the kernel wrote: nothing" not in done.stderr, done.stderr
    assert "FAILED" not in done.stdout and not list((course / STATE).rglob("*.json"))
