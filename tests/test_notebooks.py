"""The chapter notebooks: committed clean, importing the library without shadowing it, and
running top to bottom in quick mode with nothing on stderr."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

from autograder.tools.chapters import chapter_notebooks, execute_notebook, record

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ["00", "07_1", "07_2", "07_3", "07_4", "07_5", "07_6",
            "08_1", "08_2", "08_3", "08_4", "08_5", "08_6"]
LIBRARY_MODULES = ["functional", "layers", "models", "images", "data", "training", "plotting", "widgets",
                   "runtime", "diagrams", "tables"]
# What each section's notebook must print: the book's results (compared without white space).
BOOK_RESULTS = {
    "07_2": ["tensor([[19.,25.],[37.,43.]])", "[0.,1.,0.,0.,0.,-1.,0.]",
             "tensor([[0.,0.,0.,0.,0.],[0.,0.,0.,0.,0.],", "step2:loss", "step10:loss"],
    "07_3": ["kernel(3,3),padding(1,1):nn.Conv2d(8,8)", "kernel(5,3),padding(2,1):nn.Conv2d(8,8)",
             "'stride':2}:nn.Conv2d(4,4)", "'stride':(3,4)}:nn.Conv2d(2,2)"],
    "07_4": ["[[56.,72.],[104.,120.]]", "[[76.,100.],[148.,172.]]", "[[96.,128.],[192.,224.]]"],
    "07_5": ["[[4.,5.],[7.,8.]]", "[[2.,3.],[5.,6.]]", "tensor([[[[10.]]]])", "[[5.,7.],[13.,15.]]",
             "[[6.,8.],[14.,16.]]"],
    "07_6": ["[1,6,28,28]", "[1,16,5,5]", "[1,400]", "61,706"],
    "08_1": ["[1,96,54,54]", "[1,256,5,5]", "[1,6400]", "46,764,746"],
    "08_2": ["[1,512,7,7]", "[1,25088]", "128,806,154"],
    "08_3": ["[1,384,5,5]", "[1,10,1,1]", "1,992,166"],
    "08_4": ["concatenated:(1,256,28,28)", "[1,832,3,3]", "[1,1024]", "5,977,530"],
    "08_5": ["61,706"],
    "08_6": ["Residual(3):(4,3,6,6)->(4,3,6,6)", "->(4,6,3,3)", "[1,512,3,3]", "11,178,378"],
}
TRAINING = ["07_6", "08_1", "08_2", "08_3", "08_4", "08_5", "08_6"]
# The least final validation accuracy each training chapter must print in quick mode (offline digits).
ACCURACY_BAR = {section: 0.90 for section in TRAINING} | {"07_6": 0.95}  # LeNet's bar is higher
FINAL_ACCURACY = re.compile(r"final validation accuracy: (\d\.\d+)")
# The notebooks that draw their networks from the model objects (issue 10).
DRAWN = ["07_6", "08_1", "08_2", "08_3", "08_4", "08_5", "08_6"]
COMMITTED = chapter_notebooks() + sorted((ROOT / "course" / "source").glob("*/*.ipynb"))


def _ids(paths: list[Path]) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in paths]


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _defined_names(source: str) -> set[str]:
    """Names a cell binds: assignments, defs, classes, imports-as, loop targets."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias) and node.asname:
            names.add(node.asname)
    return names


def _library_names() -> dict[str, str]:
    names = {}
    for module in LIBRARY_MODULES:
        for name in importlib.import_module(f"cnncourse.{module}").__all__:
            names[name] = f"cnncourse.{module}.{name}"
    return names


def test_every_section_has_its_notebook():
    stems = [p.stem for p in chapter_notebooks()]
    for prefix in SECTIONS:
        assert any(s.startswith(prefix + "_") for s in stems), f"no notebook for section {prefix} in {stems}"
    assert stems == sorted(stems), "notebook names must sort in reading order"


@pytest.mark.parametrize("path", COMMITTED, ids=_ids(COMMITTED))
def test_committed_notebook_has_no_outputs_and_the_plain_python3_kernel(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {i} has outputs; strip them before committing"
            assert cell.execution_count is None, f"{path.name}: cell {i} has an execution count"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", chapter_notebooks(), ids=_ids(chapter_notebooks()))
def test_notebook_imports_cnncourse_and_redefines_none_of_its_names(path):
    nb = nbformat.read(path, as_version=4)
    code = _code(nb)
    assert any("cnncourse" in src and "import" in src for src in code), f"{path.name} never imports cnncourse"
    library = _library_names()
    for i, src in enumerate(code):
        clash = sorted(_defined_names(src) & library.keys())
        assert not clash, (
            f"{path.name}: code cell {i} redefines {', '.join(library[n] for n in clash)}; "
            "import it from the library, or build it step by step under another name"
        )


def test_redefinition_check_sees_defs_assignments_and_import_aliases():
    src = "def corr2d(X, K):\n    pass\nLeNet = 3\nimport numpy as pool2d\nfor fit in []: pass"
    assert {"corr2d", "LeNet", "pool2d", "fit"} <= _defined_names(src)


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_notebooks(), ids=_ids(chapter_notebooks()))
def test_notebook_runs_top_to_bottom_in_quick_mode_with_clean_stderr(path):
    run = execute_notebook(path, quick=True)
    record(run)
    assert run.error is None, f"{path.name} failed: {run.error}"
    assert not run.stderr, f"{path.name} wrote to stderr: {''.join(run.stderr)[:2000]}"
    section = path.stem[:4]
    printed = re.sub(r"\s+", "", run.text)
    missing = [result for result in BOOK_RESULTS.get(section, []) if result not in printed]
    assert not missing, f"{path.name} never printed the book's {missing}"
    if section == "07_2":  # the learned 1x2 kernel ends close to [1, -1]
        learned = re.search(r"learned kernel: tensor\(\[\[\s*(\S+),\s*(\S+)\]\]\)", run.text)
        assert learned and abs(float(learned[1]) - 1) < 0.1 and abs(float(learned[2]) + 1) < 0.1, learned
    if section in TRAINING:  # the dataset is always named: never a silent switch
        assert re.search(r"Using (the offline digits dataset|Fashion-MNIST)", run.text), path.name
        assert "quick mode: CNNCOURSE_QUICK=1" in run.text, f"{path.name} never printed its mode"
        found = FINAL_ACCURACY.findall(run.text)
        assert len(found) == 1, f"{path.name} must print one 'final validation accuracy: X', found {found}"
        assert float(found[0]) >= ACCURACY_BAR[section], (
            f"{path.name} learned too little in quick mode: final validation accuracy {found[0]}, "
            f"needs at least {ACCURACY_BAR[section]}")
    if section == "08_5":  # the comparison the section is about: the same budget without batch norm
        plain = re.search(r"without batch norm, same budget: final validation accuracy (\d\.\d+)", run.text)
        assert plain, f"{path.name} never printed the plain network's accuracy"


def _notebook(section: str) -> Path:
    return next(p for p in chapter_notebooks() if p.stem.startswith(section + "_"))


@pytest.mark.parametrize("section", TRAINING)
def test_training_notebook_prints_its_mode_first(section):
    first = _code(nbformat.read(_notebook(section), as_version=4))[0]
    assert "runtime.choose_mode()" in first and re.search(r"print\(MODE\)", first), (
        f"{section}: the first code cell must choose the run mode and print it with its reason")


@pytest.mark.parametrize("section", DRAWN)
def test_notebook_draws_its_network_from_the_model(section):
    code = "\n".join(_code(nbformat.read(_notebook(section), as_version=4)))
    assert re.search(r"\bdraw_networks?\(", code), f"{section} never calls draw_network or draw_networks"


def test_every_section_with_book_results_has_a_notebook():
    stems = [p.stem[:4] for p in chapter_notebooks()]
    assert set(BOOK_RESULTS) | set(TRAINING) <= set(stems)
