"""``python -m autograder lint``: one test per rule the grader relies on (course/AUTHORING.md).

A toy course that passes lint is broken one rule at a time; lint must name the notebook, the
cell, the line and the fix, exit 1, and ``validate`` must refuse the assignment. The shipped
assignments pass with no problem and no warning.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.__main__ import main
from autograder.course import COURSE, assignments
from autograder.gates import validate
from autograder.gates.lint import QUIET_LINE, RULES, digest_line, lint_assignment

TOY = "toy"
MUTANTS = """\
mutants:
  area_of_the_diameter:
    area_answer:
      replace: {"R ** 2": "(2 * R) ** 2"}
  concept_wrong_choice:
    concept_answer: |
      answer_q = "A"
partial:
  solved: [concept_answer]
  expected_score: 1
"""


def _meta(grade_id: str, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _toy() -> nbformat.NotebookNode:
    """setup, a value question and a multiple-choice question, each with a test cell (cells 1-8)."""
    return new_notebook(cells=[
        new_markdown_cell("# Toy problem set"),
        new_code_cell("import math\n\nimport torch\n\ntorch.manual_seed(0)\nR = 2.0",
                      metadata=_meta("setup", locked=True)),
        new_markdown_cell("Compute `area`, the area of a disc of radius `R`."),
        new_code_cell("### BEGIN SOLUTION\narea = math.pi * R ** 2\n### END SOLUTION",
                      metadata=_meta("area_answer", solution=True)),
        new_code_cell(f"{QUIET_LINE}\nassert area > 0, 'area is negative'\n### BEGIN HIDDEN TESTS\n"
                      "assert abs(area - math.pi * 4) < 1e-9, 'wrong area: what is squared?'\n"
                      "### END HIDDEN TESTS", metadata=_meta("test_area", grade=True, locked=True, points=2)),
        new_markdown_cell("Which is it?\n\n* **A.** one\n* **B.** two\n* **C.** six\n* **D.** ten"),
        new_code_cell('# answer_q = "?"\n### BEGIN SOLUTION\nanswer_q = "B"\n### END SOLUTION',
                      metadata=_meta("concept_answer", solution=True)),
        new_code_cell(f"{QUIET_LINE}\nfrom cnncourse.grading import check_letter\n\n"
                      'check_letter("answer_q", answer_q)\n### BEGIN HIDDEN TESTS\n'
                      f"from cnncourse.grading import check_choice\n\n{digest_line('answer_q', 'B')}\n"
                      "### END HIDDEN TESTS",
                      metadata=_meta("test_concept", grade=True, locked=True, points=1)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def _course(tmp_path: Path, nb: nbformat.NotebookNode, mutants: str | None = MUTANTS) -> Path:
    course = tmp_path / "course"
    (course / "source" / TOY).mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    nbformat.write(nb, course / "source" / TOY / "toy.ipynb")
    if mutants is not None:
        (course / "mutants").mkdir()
        (course / "mutants" / f"{TOY}.yaml").write_text(mutants)
    return course


def _edit(index: int, old: str, new: str):
    def edit(nb):
        assert old in nb.cells[index].source, (index, old)
        nb.cells[index].source = nb.cells[index].source.replace(old, new)
    return edit


def _set(index: int, key: str, value):
    def edit(nb):
        if value is None:
            del nb.cells[index].metadata.nbgrader[key]
        else:
            nb.cells[index].metadata.nbgrader[key] = value
    return edit


def _kernel(nb):
    nb.metadata.kernelspec.name = "julia"


def _test_first(nb):
    nb.cells.insert(3, nb.cells.pop(4))  # the test cell above its answer cell


HIDDEN_START = "### BEGIN HIDDEN TESTS\n"
# rule -> (how to break the toy, cell (1-based), grade_id, line, words of the fix)
CASES = {
    "kernel": (_kernel, 0, "notebook", 1, 'kernelspec.name = "python3"'),
    "metadata": (_set(4, "schema_version", None), 5, "test_area", 1, '"schema_version": 3'),
    "grade-id": (_set(3, "grade_id", "area"), 4, "area", 1, "rename it area_answer"),
    "points": (_set(4, "points", 0), 5, "test_area", 1, 'set "points" to a number > 0'),
    "setup": (_edit(1, "R = 2.0", "R = 2.0\nfor _ in range(3):\n    print(R)"), 2, "setup", 7,
              "keep imports, seeds and given data"),
    "solution-region": (_edit(3, "\n### END SOLUTION", ""), 4, "area_answer", 1, "### END SOLUTION"),
    "order": (_test_first, 4, "test_area", 1, "move it below the answer cell"),
    "quiet": (_edit(4, QUIET_LINE + "\n", ""), 5, "test_area", 1, f"make the first line `{QUIET_LINE}`"),
    "hidden": (_edit(4, HIDDEN_START, ""), 5, "test_area", 1, "### BEGIN HIDDEN TESTS"),
    "rule1-namespace": (_edit(4, HIDDEN_START, HIDDEN_START + "assert 'area' in globals()\n"), 5, "test_area",
                        4, "name the variable itself"),
    "rule1-how": (_edit(4, HIDDEN_START, HIDDEN_START + "import inspect\n"), 5, "test_area", 4,
                  "return what the method produces"),
    "rule2-type": (_edit(4, HIDDEN_START, HIDDEN_START + "assert type(area) is float\n"), 5, "test_area", 4,
                   "x.__class__.__name__"),
    "rule3-in-place": (_edit(4, HIDDEN_START, HIDDEN_START + "area.real = 0.0\n"), 5, "test_area", 4,
                       "hand it over with a call"),
    "rule4-names": (_edit(4, HIDDEN_START, HIDDEN_START + "assert helper(area)\n"), 5, "test_area", 4,
                    "import or define 'helper' in this cell or in the setup cell"),
    "rule5-use": (_edit(4, HIDDEN_START, HIDDEN_START + "assert id(area) > 0\n"), 5, "test_area", 4,
                  "only through calls, attributes"),
    "choice-digest": (_edit(7, digest_line("answer_q", "B"), digest_line("answer_q", "C")), 7,
                      "concept_answer", 3, digest_line("answer_q", "B")),
}


def test_every_rule_has_a_case():
    assert set(CASES) | {"mutant"} == set(RULES)


def test_the_toy_and_the_shipped_assignments_pass_lint(tmp_path, capsys):
    assert lint_assignment(TOY, _course(tmp_path, _toy())) == []
    for assignment in assignments():
        assert lint_assignment(assignment) == [], assignment
    assert main(["lint"]) == 0
    assert "0 problem(s), 0 warning(s)" in capsys.readouterr().out


@pytest.mark.parametrize("rule", sorted(CASES))
def test_lint_names_notebook_cell_line_and_fix_and_validate_refuses(rule, tmp_path, capsys):
    breaks, cell, grade_id, line, fix = CASES[rule]
    nb = _toy()
    breaks(nb)
    course = _course(tmp_path, nb)
    found = [p for p in lint_assignment(TOY, course) if p.rule == rule]
    assert found, f"lint missed {rule}: {lint_assignment(TOY, course)}"
    text = str(found[0])
    assert text.startswith(f"{TOY}/toy.ipynb, cell {cell} ({grade_id}), line {line}: "), text
    assert fix in text.split(" — ", 1)[1], text
    assert main(["lint", TOY, "--course", str(course)]) == 1
    assert text in capsys.readouterr().out
    ok, steps = validate.run([TOY], course=course)
    assert not ok and [s.step for s in steps] == ["conventions"] and text in steps[0].detail


def test_a_choice_that_no_test_checks_with_its_digest_is_reported(tmp_path):
    """The other half of choice-digest: a letter answer no test cell checks with check_choice."""
    nb = _toy()
    nb.cells[7].source = (f"{QUIET_LINE}\nassert answer_q in 'ABCD'\n"
                          "### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS")
    found = [p for p in lint_assignment(TOY, _course(tmp_path, nb)) if p.rule == "choice-digest"]
    assert len(found) == 1 and "python -m autograder digest answer_q B" in found[0].fix, found


def test_an_answer_without_a_mutant_is_a_warning_silenced_per_cell(tmp_path, capsys):
    mutants = MUTANTS.replace("  area_of_the_diameter:\n    area_answer:\n      replace: {\"R ** 2\": "
                              "\"(2 * R) ** 2\"}\n", "")
    nb = _toy()
    course = _course(tmp_path, nb, mutants=mutants)
    found = lint_assignment(TOY, course)
    assert [(p.rule, p.warning, p.grade_id, p.cell) for p in found] == [("mutant", True, "area_answer", 4)]
    assert "no_mutant" in str(found[0])
    assert main(["lint", TOY, "--course", str(course)]) == 0  # a warning does not fail
    assert "1 warning(s)" in capsys.readouterr().out
    nb.cells[3].metadata["cnncourse"] = {"no_mutant": "any wrong area fails the hidden test"}
    nbformat.write(nb, course / "source" / TOY / "toy.ipynb")
    assert lint_assignment(TOY, course) == []


def test_digest_prints_the_line_a_test_cell_needs(capsys):
    from cnncourse.grading import answer_digest, check_choice

    assert main(["digest", "answer_1x1", "C"]) == 0
    line = capsys.readouterr().out.strip()
    assert line == (f'check_choice("answer_1x1", answer_1x1, "{answer_digest("C", salt="answer_1x1")}", '
                    'hint="", choices="ABCD")')
    source = (COURSE / "source" / "ps2" / "padding_stride_channels.ipynb").read_text()
    assert answer_digest("C", salt="answer_1x1") in source  # what ps2 ships
    answer_1x1 = "c"
    exec(line, {"check_choice": check_choice, "answer_1x1": answer_1x1})  # passes: the right letter
    assert main(["digest", "n_params", "61706", "--hint", "count the biases"]) == 0
    assert capsys.readouterr().out.strip().endswith('hint="count the biases")')
    assert main(["digest", "not a name", "C"]) == 2
