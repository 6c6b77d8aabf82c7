"""The grading gates of ``python -m autograder``: they pass on the course's assignments, and
they fail when an assignment is broken (a wrong solution, a leak, a stub that earns points, a
mutant that survives, a score that is off)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.preprocessors import IgnorePattern
from traitlets.config import PyFileConfigLoader

import autograder.gates.mutants
from autograder.__main__ import main
from autograder.course import COURSE, ROOT, SOURCE, assignments, cells, read, source_notebooks
from autograder.gates.mutants import Spec
from autograder.gates.regions import (
    HIDDEN,
    SOLUTION,
    leaks,
    reference_source,
    region_lines,
    secret_lines,
    visible_text,
)
from autograder.gates.simulate import plan
from autograder.gates.students import Student, _check_targets, _submission, answer_ids, reference_answers
from autograder.gates.validate import QUIET_LINE, convention_problems
from autograder.gates.workspace import Workspace
from cnncourse.grading.feedback import HideHiddenTests

ASSIGNMENTS = assignments()


def _cli(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "autograder", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def _rows(stdout: str) -> dict[str, list[str]]:
    """Table rows of the output keyed by their second column (columns are 2+ spaces apart)."""
    rows = {}
    for line in stdout.splitlines():
        columns = re.split(r"\s{2,}", line.strip())
        if len(columns) > 2 and columns[0].startswith("ps"):
            rows[columns[1]] = columns
    return rows


def _meta(grade_id: str, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _toy_notebook() -> nbformat.NotebookNode:
    """setup, an answer, its test (visible + hidden part), and an ordinary code cell."""
    return new_notebook(cells=[
        new_code_cell("import math", metadata=_meta("setup", locked=True)),
        new_markdown_cell("Compute `area = math.pi * r ** 2` for r = 2."),
        new_code_cell("### BEGIN SOLUTION\narea = math.pi * 2 ** 2  # the reference line\n### END SOLUTION",
                      metadata=_meta("area_answer", solution=True)),
        new_code_cell(f"{QUIET_LINE}\nassert area > 0, 'area is negative'\n### BEGIN HIDDEN TESTS\n"
                      "assert abs(area - 12.566370614359172) < 1e-9, 'wrong area'\n### END HIDDEN TESTS",
                      metadata=_meta("test_area", grade=True, locked=True, points=2)),
        new_code_cell("print('an ordinary cell')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


# ----------------------------------------------------------------------------- fast


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebooks_follow_the_conventions(assignment):
    for path in source_notebooks(assignment):
        assert convention_problems(path) == [], path.name


def test_convention_check_flags_every_departure(tmp_path):
    nb = _toy_notebook()
    nb.cells[0].metadata.nbgrader["grade_id"] = "imports"
    nb.cells[2].metadata.nbgrader["grade_id"] = "area"
    nb.cells[3].source = nb.cells[3].source.replace(QUIET_LINE + "\n", "")
    nb.cells[3].metadata.nbgrader["grade_id"] = "area_check"
    nb.metadata.kernelspec.name = "julia"
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    problems = "\n".join(convention_problems(path))
    for phrase in ["kernel spec is not python3", 'no read-only cell with grade_id "setup"',
                   "'area': grade_id should end with '_answer'",
                   "'area_check': grade_id should start with 'test_'", "'area_check' does not start with"]:
        assert phrase in problems


def test_toy_notebook_follows_the_conventions(tmp_path):
    path = tmp_path / "toy.ipynb"
    nbformat.write(_toy_notebook(), path)
    assert convention_problems(path) == []


def test_leak_check_finds_solution_and_hidden_lines_but_not_released_text():
    nb = _toy_notebook()
    public = visible_text(nb, (SOLUTION, HIDDEN), ordinary_code=False)
    solution = secret_lines(region_lines(nb, SOLUTION), public)
    hidden = secret_lines(region_lines(nb, HIDDEN), public)
    assert solution == ["area = math.pi * 2 ** 2  # the reference line"]
    assert hidden == ["assert abs(area - 12.566370614359172) < 1e-9, 'wrong area'"]
    clean_release = public + "\n# YOUR CODE HERE\nraise NotImplementedError()"
    assert leaks(solution + hidden, clean_release) == []
    spoiled = clean_release + "\n# hint: area = math.pi * 2 ** 2  # the reference line"
    assert leaks(solution, spoiled) == solution
    assert leaks(hidden, "x = 1\n    " + hidden[0]) == hidden


def test_solution_code_in_an_ordinary_cell_counts_as_a_leak_not_as_released_text():
    nb = _toy_notebook()
    nb.cells[4].source = "area = math.pi * 2 ** 2  # the reference line"
    public = visible_text(nb, (SOLUTION, HIDDEN), ordinary_code=False)
    assert secret_lines(region_lines(nb, SOLUTION), public) == [nb.cells[4].source]
    # Feedback shows the whole notebook, ordinary cells included: there they are not secret.
    assert "area = math.pi * 2 ** 2" in visible_text(nb, (HIDDEN,), ordinary_code=True)


def test_reference_source_keeps_the_code_and_its_indentation():
    source = 'def f(d):\n    """Doc."""\n    ### BEGIN SOLUTION\n    return d + 1\n    ### END SOLUTION'
    assert reference_source(source) == 'def f(d):\n    """Doc."""\n    return d + 1'


def test_feedback_hides_hidden_tests_and_keeps_the_failure_message():
    nb = _toy_notebook()
    test_cell = nb.cells[3]
    test_cell.outputs = [new_output("error", ename="AssertionError", evalue="wrong area", traceback=[
        "\x1b[31mAssertionError\x1b[0m  Traceback", "----> 4 assert abs(area - 12.566370614359172) < 1e-9",
        "\x1b[31mAssertionError\x1b[0m: wrong area"])]
    answer_before = nb.cells[2].source
    HideHiddenTests().preprocess(nb, {})
    assert "12.566370614359172" not in test_cell.source
    assert "assert area > 0, 'area is negative'" in test_cell.source
    assert "hidden tests: not shown" in test_cell.source
    assert test_cell.outputs[0].traceback == ["\x1b[0;31mAssertionError\x1b[0m: wrong area"]
    assert nb.cells[2].source == answer_before


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_mutants_change_answer_cells_and_partial_names_real_cells(assignment):
    spec = autograder.gates.mutants.load(assignment)
    reference = reference_answers(assignment, SOURCE)
    max_score = sum(c.points for p in source_notebooks(assignment) for c in cells(read(p)) if c.is_test)
    assert spec.mutants, "no mutants"
    for name, replacements in spec.mutants.items():
        for grade_id, source in replacements.items():
            assert grade_id in reference, f"mutant {name}: {grade_id} is not an answer cell"
            assert source.strip() != reference[grade_id].strip(), f"mutant {name} is the reference solution"
    assert set(spec.solved) <= reference.keys()
    assert 0 < spec.expected_score < max_score


def test_submissions_apply_answers_and_tampering_to_the_release():
    release = _toy_notebook()
    student = Student("t", {"area_answer": "area = 1.0"}, (("pass", "test_area"), ("points", "test_area")))
    nb = _submission(release, student)
    assert nb.cells[2].source == "area = 1.0"
    assert nb.cells[3].source == "pass" and nb.cells[3].metadata.nbgrader["points"] == 1000
    assert release.cells[3].metadata.nbgrader["points"] == 2  # the release itself is untouched
    deleted = _submission(release, Student("d", {}, (("delete", "test_area"),)))
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in deleted.cells].count("test_area") == 0


@pytest.mark.parametrize("student", [
    Student("bad name!", {}), Student("s", {"test_area": "pass"}), Student("s", {"nope_answer": ""}),
    Student("s", {}, (("pass", "area_answer"),)), Student("s", {}, (("explode", "test_area"),)),
])
def test_submissions_refuse_targets_that_are_not_what_they_claim(student):
    with pytest.raises(ValueError):
        _check_targets([student], {"toy.ipynb": _toy_notebook()})


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_simulation_aims_tampering_and_the_loop_where_they_would_show(assignment):
    """The ``pass`` edit hits a test the partial student fails, the deleted test is one it passes,
    and the endless loop sits in an unanswered cell with an answered cell after it."""
    the_plan = plan(Workspace(ROOT), assignment)
    spec = autograder.gates.mutants.load(assignment)
    order = [c for p in source_notebooks(assignment) for c in cells(read(p)) if c.is_answer or c.is_test]
    answers = [c.grade_id for c in order if c.is_answer]
    loop = answers.index(the_plan.loop_cell)
    assert the_plan.loop_cell not in spec.solved
    assert any(g in spec.solved for g in answers[loop + 1:])
    actions = dict((action, target) for action, target in the_plan.tampered)
    assert set(actions) == {"pass", "delete", "points"}
    assert len(set(actions.values())) == 3


def _course_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()


def test_course_config_restores_cells_limits_time_and_keeps_everything_in_the_course():
    config = _course_config()
    assert config.CourseDirectory.course_id == "cnncourse"
    assert Path(config.CourseDirectory.root) == COURSE
    assert Path(config.Exchange.root).parent == COURSE
    assert config.CourseDirectory.db_url == f"sqlite:///{COURSE / 'gradebook.db'}"
    assert config.OverwriteCells.add_missing_cells is True
    assert 30 <= config.Execute.timeout <= 600 and config.Execute.interrupt_on_timeout is True
    assert "cnncourse.grading.feedback.HideHiddenTests" in config.GenerateFeedback.preprocessors
    assert "nbgrader.preprocessors.GetGrades" in config.GenerateFeedback.preprocessors


def test_course_config_drops_warnings_from_stderr_but_keeps_other_stderr():
    ignore = IgnorePattern(config=_course_config())
    assert ignore.enabled
    cell = new_code_cell("pass", outputs=[
        new_output("stream", name="stderr", text="/x.py:3: UserWarning: harmless\n  warnings.warn(\n"),
        new_output("stream", name="stderr", text="[W reducer.cpp:1] Warning: grad strides do not match\n"),
        new_output("stream", name="stderr", text="something actually went wrong\n"),
        new_output("stream", name="stdout", text="UserWarning: printed on stdout stays\n"),
    ])
    cell, _ = ignore.preprocess_cell(cell, {}, 0)
    assert [o.text for o in cell.outputs] == ["something actually went wrong\n",
                                              "UserWarning: printed on stdout stays\n"]


# ----------------------------------------------------------------------------- slow


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_passes(assignment):
    run = _cli("validate", assignment)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "all checks passed" in run.stdout


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_simulated_students_score_as_expected_and_every_mutant_is_caught(assignment):
    """simulate and mutants share one autograde run (the ``students`` command)."""
    run = _cli("students", assignment)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-4000:]
    rows = _rows(run.stdout)
    for student in ("solution", "blank", "partial", "tamperer", "looper"):
        assert rows[student][4] == "ok", rows[student]
    assert f"{assignment}: " in run.stdout and "mutants caught (100%)" in run.stdout


def _broken_course(tmp_path: Path) -> Path:
    """A copy of ps1 with a wrong reference solution, a stub that earns points and two leaks."""
    course = tmp_path / "course"
    shutil.copytree(COURSE / "source" / "ps1", course / "source" / "ps1")
    shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    path = course / "source" / "ps1" / "cross_correlation.ipynb"
    nb = read(path)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    answer = by_id["difference_kernel_answer"]
    answer.source = answer.source.replace("range(d)", "range(d - 1)")  # one difference short
    solution_line = reference_source(by_id["x_diag_answer"].source).splitlines()[0]
    hidden_line = [ln for ln in region_lines(nb, HIDDEN) if "check_diagonal_edges(" in ln][0]
    after = nb.cells.index(by_id["second_derivative_answer"]) + 1
    nb.cells.insert(after, new_code_cell("second_derivative_kernel = torch.tensor([[2.0, -4.0, 2.0]])"))
    nb.cells.append(new_code_cell(f"# spoiler: {solution_line}\n# {hidden_line}"))
    nbformat.write(nb, path)
    return course


@pytest.mark.slow
def test_validate_fails_on_a_broken_assignment(tmp_path):
    run = _cli("validate", "ps1", "--course", str(_broken_course(tmp_path)))
    assert run.returncode == 1, run.stdout[-4000:]
    rows = _rows(run.stdout)
    assert rows["conventions"][2] == "ok" and rows["generate_assignment"][2] == "ok"
    assert rows["source passes"][2] == "FAIL" and "test_difference_kernel failed" in rows["source passes"][3]
    assert rows["release fails"][2] == "FAIL" and "test_second_derivative passed" in rows["release fails"][3]
    assert rows["no leaks"][2] == "FAIL"
    assert "solution line leaked" in rows["no leaks"][3] and "hidden test leaked" in rows["no leaks"][3]
    assert "SOME CHECKS FAILED" in run.stdout


@pytest.mark.slow
def test_students_gate_fails_when_a_mutant_survives_or_a_score_is_off(monkeypatch, capsys):
    real = autograder.gates.mutants.load("ps1")
    harmless = ("def difference_kernel(d):\n    import math\n"  # right, written differently: binomials
                "    return torch.tensor([[(-1.0) ** i * math.comb(d, i) for i in range(d + 1)]])")
    fake = Spec(
        mutants={"harmless_rewrite": {"difference_kernel_answer": harmless},
                 "off_by_one": real.mutants["difference_kernel_one_difference_short"]},
        solved=real.solved, expected_score=real.expected_score - 1, replacements=real.replacements,
    )
    monkeypatch.setattr(autograder.gates.mutants, "load", lambda assignment: fake)
    assert main(["students", "ps1", "--timeout", "20"]) == 1
    out = capsys.readouterr().out
    rows = _rows(out)
    assert rows["harmless_rewrite"][3] == "SURVIVED"
    assert rows["off_by_one"][3:] == ["caught", "test_difference_kernel"]
    assert rows["partial"][4] == "FAIL" and f"expected {real.expected_score - 1:g}" in rows["partial"][5]
    assert rows["solution"][4] == "ok" and rows["looper"][4] == "FAIL"
    assert "1/2 mutants caught (50%)" in out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_answer_cell_has_at_least_one_mutant(assignment):
    """A mutants gate with no mutant for some answer cell (or none at all) would pass vacuously."""
    mutants = autograder.gates.mutants.load(assignment).mutants
    covered = {grade_id for cells in mutants.values() for grade_id in cells}
    uncovered = sorted(set(answer_ids(assignment, SOURCE)) - covered)
    assert not uncovered, f"{assignment}: no mutant targets {uncovered}; add a known-wrong answer for each"
