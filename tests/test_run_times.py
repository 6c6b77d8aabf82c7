"""The measured run times: one home (``runtime.RUN_TIMES``), printed by every notebook, shown in the README.

No test here times anything: the figures come from ``benchmarks/bench_laptop_mode.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cnncourse import runtime

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
README = ROOT / "benchmarks" / "README.md"
BY_NAME = {entry.notebook: entry for entry in runtime.RUN_TIMES}


def _first_code_cell(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "".join(next(cell for cell in cells if cell["cell_type"] == "code")["source"])


def _shown(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:.{decimals}f}"


def test_every_notebook_has_measured_times_and_nothing_else_does():
    assert sorted(BY_NAME) == [path.stem for path in NOTEBOOKS]
    assert len(BY_NAME) == len(runtime.RUN_TIMES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_first_code_cell_prints_the_notebooks_own_expected_time(path):
    """Before pressing Run All, the first cell says how long the rest takes in this run's mode."""
    source = _first_code_cell(path)
    call = re.search(r"print\((?:runtime\.)?expected_time\(\"(\w+)\"(, MODE\.name)?\)\)", source)
    assert call, f"{path.name}: the first code cell does not print expected_time(...)"
    assert call.group(1) == path.stem, f"{path.name}: prints the time of {call.group(1)}"
    trains = BY_NAME[path.stem].laptop_fashion is not None
    assert bool(call.group(2)) == trains, f"{path.name}: a training notebook passes the mode it chose"


def test_the_start_page_prints_the_whole_table():
    assert "print(run_time_table())" in _first_code_cell(ROOT / "notebooks" / "00_start_here.ipynb")
    table = runtime.run_time_table()
    assert all(entry.notebook in table for entry in runtime.RUN_TIMES)


def _readme_table(header_start: str) -> dict[str, list[str]]:
    """The rows of the README's Markdown table whose header starts with ``header_start``."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_benchmarks_readme_shows_the_same_table():
    rows = _readme_table("| notebook | quick | laptop, digits |")
    expected = {e.notebook: [_shown(e.quick, 1), _shown(e.laptop_digits, 1), _shown(e.laptop_fashion, 1),
                             _shown(e.accuracy, 3)] for e in runtime.RUN_TIMES}
    assert {name: row[:4] for name, row in rows.items()} == expected


def test_expected_time_names_the_mode_and_both_datasets_in_laptop_mode():
    vgg = BY_NAME["08_2_vgg"]
    laptop = runtime.expected_time("08_2_vgg", "laptop")
    assert laptop.startswith("laptop mode:") and "Fashion-MNIST" in laptop and "offline digits" in laptop
    assert f"about {int(vgg.laptop_fashion + 0.5)} minute" in laptop
    assert runtime.expected_time("08_2_vgg", "quick").startswith("quick mode:")
    assert "not timed" in runtime.expected_time("08_2_vgg", "book")
    assert "in any mode" in runtime.expected_time("07_1_from_dense_to_conv")


def test_expected_time_without_a_mode_asks_the_course_mode(monkeypatch):
    monkeypatch.setenv(runtime.MODE_ENV, "quick")
    assert runtime.expected_time("08_6_resnet").startswith("quick mode:")


def test_expected_time_refuses_unknown_notebooks_and_modes():
    with pytest.raises(ValueError, match="no measured time for notebook '08_9_transformer'"):
        runtime.expected_time("08_9_transformer")
    with pytest.raises(ValueError, match="mode must be one of book, laptop, quick"):
        runtime.expected_time("08_2_vgg", "turbo")

