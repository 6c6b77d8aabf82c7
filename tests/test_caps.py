"""Issue 17, fast half: output caps of every kind, student text the grader quotes, stand-ins that
import nothing, and the interpreter a kernel is started with. (The slow half, with real kernels, is
in ``tests/test_grade.py`` and ``tests/test_hostile.py``.)"""

from __future__ import annotations

import builtins
import html
import sys

import pytest
import torch
from nbformat.v4 import new_output

from autograder.engine.caps import STUB_CHARACTERS, OutputBudget, fit, json_size
from autograder.engine.sandbox import interpreter
from autograder.engine.startup import unreachable
from cnncourse.grading_kernels.stand_ins import stand_in_class
from cnncourse.grading_kernels.test_side import StudentKernelError, request
from cnncourse.grading_kernels.wire import MAX_MESSAGE, MAX_NAME, to_text

BIG = 3_000_000
OUTPUTS = {
    "stdout": new_output("stream", name="stdout", text="y" * BIG),
    "stderr": new_output("stream", name="stderr", text="e" * BIG),
    "display data": new_output("display_data", data={"text/plain": "d" * BIG}, metadata={}),
    "display metadata": new_output("display_data", data={"text/plain": "hi"}, metadata={"k": "z" * BIG}),
    "result": new_output("execute_result", data={"text/plain": "0.5" + " " * BIG}, metadata={"k": "z" * BIG},
                         execution_count=1),
    "error value": new_output("error", ename="ValueError", evalue="m" * BIG, traceback=["m" * BIG]),
    "error name": new_output("error", ename="C" * BIG, evalue="boom", traceback=["C" * BIG + ": boom"]),
    "escaped text": new_output("stream", name="stdout", text="\x01" * BIG),  # 6 bytes each in JSON
    "html text": new_output("stream", name="stdout", text="&<'\"" * (BIG // 4)),  # 19 bytes in HTML
}
GRADED = {"stderr", "result", "error value", "error name"}  # nbgrader reads these: never dropped


@pytest.mark.parametrize("name", OUTPUTS)
@pytest.mark.parametrize("room", [0, 500, 10_000])
def test_every_kind_of_output_fits_its_room_and_what_grades_is_never_dropped(name, room):
    out = OUTPUTS[name]
    kept = fit(out, room)
    if name in GRADED:
        assert kept is not None and kept.output_type == out.output_type
        assert json_size(kept) <= max(room, 4 * STUB_CHARACTERS + 200)
        if out.output_type == "stream":
            assert kept.name == "stderr"
    else:
        assert kept is None or json_size(kept) <= room
    if name == "result":
        assert kept.data["text/plain"].startswith("0.5")


def test_the_feedback_page_of_what_fits_fits_too():
    """Charged at its HTML-escaped size, text full of ampersands and quotes cannot grow 5x on the page."""
    text = "&<>'\"" * 100_000
    kept = fit(new_output("stream", name="stderr", text=text), 10_000)
    assert kept is not None and len(html.escape(kept["text"])) <= 10_000
    assert json_size({"text": text}) >= len(html.escape(text))


def test_a_notebook_budget_caps_all_cells_together_and_says_what_was_dropped():
    budget = OutputBudget(per_cell=10_000, per_notebook=25_000)
    kept = [budget.take(index, OUTPUTS["stdout"]) for index in range(5)]
    assert [json_size(out) if out else 0 for out in kept][:2] == [10_000, 10_000]
    assert budget.total <= 25_000 and kept[3] is None and kept[4] is None
    assert "bytes beyond the grader's limit of 10000 bytes per cell" in budget.note(0).text
    assert budget.note(0) is None  # said once


def test_a_display_update_is_charged_and_replaced_by_a_stub_when_it_does_not_fit():
    budget = OutputBudget(per_cell=1_000, per_notebook=10_000)
    small = budget.take(0, new_output("display_data", data={"text/plain": "x"}, metadata={}))
    updated = budget.update(0, small, OUTPUTS["display metadata"])
    assert json_size(updated) < 1_000 and budget.used[0] == json_size(updated)


def test_student_text_in_a_relayed_exception_is_clipped(monkeypatch):
    """The student's kernel may answer with any name and message: the test kernel quotes a clip."""
    info = {"name": "N" * BIG, "message": "m" * BIG, "mro": [["__main__", "N" * BIG]]}
    monkeypatch.setattr(builtins, "input", lambda prompt: to_text(("x", info)))
    with pytest.raises(StudentKernelError) as raised:
        request(("len", 1))
    assert len(str(raised.value)) < MAX_NAME + MAX_MESSAGE + 200


def test_resolving_a_stand_ins_class_imports_nothing(monkeypatch):
    """A student's object of a class whose module the test kernel never imported (here a trusted
    one, removed from sys.modules) gets the stand-in of the next class: no import happens."""
    monkeypatch.delitem(sys.modules, "cnncourse.widgets.conv", raising=False)
    mro = [["cnncourse.widgets.conv", "Explorer" * 100], ["torch.nn.modules.module", "Module"],
           ["builtins", "object"]]
    cls = stand_in_class(mro)
    assert "cnncourse.widgets.conv" not in sys.modules
    assert issubclass(cls, torch.nn.Module) and cls is not torch.nn.Module
    assert len(cls.__name__) <= MAX_NAME + 40 and stand_in_class(mro) is cls
    assert stand_in_class([["torch.nn.modules.conv", "Conv2d"]]) is torch.nn.Conv2d


def test_kernels_start_the_interpreter_at_its_real_folder(tmp_path, monkeypatch):
    """A symlinked virtual environment: the folder is resolved (the sandbox binds the real one),
    the name is kept (the venv's python finds pyvenv.cfg beside it)."""
    real = tmp_path / "real" / "bin"
    real.mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "link" / "bin" / "python"))
    assert interpreter() == str(real / "python")
    assert unreachable([str(tmp_path / "real")]) is None
    problem = unreachable(["/opt/elsewhere"])
    assert problem and str(real / "python") in problem and "/opt/elsewhere" in problem
