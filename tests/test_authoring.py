"""course/AUTHORING.md, followed literally: ``new ps5``, the page's two questions added to it, then
``lint``, ``validate`` and a simulated class with the mutants (``students``), in a temporary copy
of the course (never in course/). Also: the conventions live on that page, ``new`` as generated."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from autograder.__main__ import main
from autograder.course import COURSE, ROOT, cells, read
from autograder.gates import mutants
from autograder.gates.lint import RULES, lint_assignment
from autograder.tools.new import new_assignment

PAGE = COURSE / "AUTHORING.md"
_BLOCK = re.compile(r"<!-- (example-cell|example-mutants):? ?([^>]*?) -->\n```(\w+)\n(.*?)\n```", re.S)


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(COURSE / "nbgrader_config.py", course / "nbgrader_config.py")
    return course


def _meta(grade_id: str, **flags) -> dict:
    meta = {"grade": False, "solution": False, "locked": False, "grade_id": grade_id, "schema_version": 3}
    return {"nbgrader": meta | flags}


def example_cells() -> list[nbformat.NotebookNode]:
    """The worked example's cells, with the toolbar types the page names for them."""
    found = []
    for kind, words, _, source in _BLOCK.findall(PAGE.read_text()):
        if kind != "example-cell":
            continue
        role, *rest = words.split()
        if role == "markdown":
            found.append(new_markdown_cell(source))
        elif role == "answer":
            found.append(new_code_cell(source, metadata=_meta(rest[0], solution=True)))
        else:
            found.append(new_code_cell(source, metadata=_meta(rest[0], grade=True, locked=True,
                                                               points=int(rest[1]))))
    return found


def example_mutants() -> str:
    """The entries the page adds under ``mutants:``."""
    blocks = _BLOCK.findall(PAGE.read_text())
    (block,) = [source for kind, _, _, source in blocks if kind == "example-mutants"]
    assert block.startswith("mutants:\n")
    return block.removeprefix("mutants:\n") + "\n"


def _follow_the_page(course: Path) -> None:
    """`new ps5`, then "append the six cells at the end and the two mutants under `mutants:`"."""
    assert main(["new", "ps5", "--course", str(course)]) == 0
    path = course / "source" / "ps5" / "ps5.ipynb"
    nb = read(path)
    nb.cells += example_cells()
    nbformat.write(nb, path)
    yaml_file = course / "mutants" / "ps5.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("mutants:\n", "mutants:\n" + example_mutants(), 1))


def _rows(out: str) -> dict[str, list[str]]:
    return {cols[1]: cols for line in out.splitlines() if len(cols := re.split(r"\s{2,}", line.strip())) > 3}


def test_the_page_gives_two_questions_with_tests_and_a_mutant_each():
    cells_ = example_cells()
    assert [c.cell_type for c in cells_] == ["markdown", "code", "code"] * 2
    answers = {c.metadata.nbgrader["grade_id"] for c in cells_
               if c.metadata.get("nbgrader", {}).get("solution")}
    assert answers == {"receptive_field_answer", "dilated_kernel_answer"}
    assert "receptive_field_answer" in example_mutants() and "dilated_kernel_answer" in example_mutants()


def test_new_writes_an_assignment_that_lints_clean_and_refuses_to_overwrite(tmp_path, capsys):
    course = _course(tmp_path)
    notebook, data = new_assignment("ps5", course)
    assert notebook == course / "source" / "ps5" / "ps5.ipynb" and data == course / "mutants" / "ps5.yaml"
    assert lint_assignment("ps5", course) == []
    spec = mutants.find("ps5", course)
    answers = [c.grade_id for c in cells(read(notebook)) if c.is_answer]
    assert answers == ["conv_param_count_answer", "window_matrix_answer", "concept_answer"]
    assert {g for cells_ in spec.mutants.values() for g in cells_} == set(answers)
    assert spec.solved == ("window_matrix_answer", "concept_answer") and spec.expected_score == 4
    assert main(["new", "ps5", "--course", str(course)]) == 2
    assert "exists" in capsys.readouterr().err


def test_the_page_followed_lints_clean(tmp_path):
    course = _course(tmp_path)
    _follow_the_page(course)
    assert lint_assignment("ps5", course) == []
    assert len(mutants.find("ps5", course).mutants) == 9


def test_a_course_mutants_file_adds_to_the_shipped_ones(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(COURSE / "source" / "ps2", course / "source" / "ps2")
    (course / "mutants").mkdir()
    (course / "mutants" / "ps2.yaml").write_text(
        "mutants:\n  concept_second_guess:\n    concept_answer: |\n      answer_1x1 = \"D\"\n")
    shipped = mutants.load("ps2")
    spec = mutants.find("ps2", course)
    added = {"concept_second_guess": {"concept_answer": 'answer_1x1 = "D"\n'}}
    assert spec.mutants == shipped.mutants | added
    assert (spec.solved, spec.expected_score) == (shipped.solved, shipped.expected_score)
    (course / "mutants" / "ps2.yaml").write_text(
        "mutants:\n  bad:\n    concept_answer:\n      replace: {\"not in the answer\": \"x\"}\n")
    with pytest.raises(SystemExit, match="not in the reference answer"):
        mutants.find("ps2", course)


def test_the_conventions_live_on_the_authoring_page():
    import autograder

    assert "course/AUTHORING.md" in autograder.__doc__
    assert "Conventions every assignment" not in autograder.__doc__
    readme = (COURSE / "README.md").read_text()
    assert "AUTHORING.md" in readme
    page = PAGE.read_text()
    for rule in RULES:
        assert f"**{rule}**" in page, f"AUTHORING.md does not explain lint's rule {rule}"


@pytest.mark.slow
def test_an_instructor_follows_authoring_md_from_new_to_graded(tmp_path, capsys):
    course = _course(tmp_path)
    _follow_the_page(course)
    assert main(["lint", "ps5", "--course", str(course)]) == 0
    assert "0 problem(s), 0 warning(s)" in capsys.readouterr().out
    assert main(["validate", "ps5", "--course", str(course)]) == 0, capsys.readouterr().out[-3000:]
    capsys.readouterr()
    assert main(["students", "ps5", "--course", str(course), "--timeout", "30"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    expected = {"solution": "10/10", "blank": "0/10", "partial": "4/10", "tamperer": "4/10", "looper": "4/10"}
    for student, score in expected.items():
        assert rows[student][3] == score and rows[student][4] == "ok", (student, rows[student])
    assert "ps5: 9/9 mutants caught (100%)" in out
    assert not (ROOT / "course" / "source" / "ps5").exists()
