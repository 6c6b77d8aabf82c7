"""The clean test kernel's protocol, in one process: stand-ins, safe data (issue 9).

Both sides are wired back to back here: the test kernel's ``input()`` is replaced by a function
that runs the student side's ``serve`` on a separate namespace, exactly the text the grader
would forward. The two-kernel engine itself is exercised by tests/test_hostile.py.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import io
import pickle

import pytest
import torch
from torch import nn

import cnncourse.grading.agent as agent
import cnncourse.grading.remote as remote
from autograder.names import free_names, is_setup_cell, is_test_cell, run_first
from cnncourse.grading import observe
from cnncourse.grading.wire import MAX_BYTES, WireError, from_text, to_text


@pytest.fixture
def student(monkeypatch) -> dict:
    """A student namespace served through the agent, and a test namespace for begin_test_cell."""
    students: dict = {}
    tests: dict = {}
    monkeypatch.setattr(agent, "user_namespace", lambda: students)
    monkeypatch.setattr(remote, "namespace", lambda: tests)
    remote.forget_submission()  # no namespace, student code or verdict of an earlier test

    def forward(prompt: str) -> str:
        assert prompt.startswith(remote.PROMPT)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            agent.serve(prompt[len(remote.PROMPT):])
        text = out.getvalue()
        return text[text.rindex(agent.BEGIN) + len(agent.BEGIN):text.rindex(agent.END)]

    monkeypatch.setattr(builtins, "input", forward)
    students["__tests__"] = tests
    return students


def test_free_names_are_read_but_never_bound_in_the_cell():
    source = ("import torch\nfrom cnncourse.grading import check_close as cc\nh, w = X_diag.shape\n"
              "def f(n, *a, k=K, **kw):\n    return n + helper(a)\nfor i in range(3):\n    cc(i, Y)\n"
              "try:\n    pass\nexcept ValueError as error:\n    print(error)\n[z for z in zs]\n")
    assert free_names(source) == ["K", "ValueError", "X_diag", "Y", "helper", "print", "range", "zs"]
    assert free_names("%timeit x") == []  # not Python: nothing fetched, the cell fails on its own


@pytest.mark.parametrize("source, joined", [
    ("from cnncourse.grading import quiet; quiet()\nassert x == 1", True),
    ("# visible checks\nassert x == 1", True),
    ("\nassert x == 1", True),
    ("for i in range(3):\n    assert f(i) == i", False),
    ("@dec\ndef g():\n    pass", False),
    ("assert f(1,\n         2)", False),
    ("from __future__ import annotations\nassert x", False),
])
def test_the_first_call_of_a_test_cell_keeps_its_line_numbers_where_python_allows(source, joined):
    run = run_first("begin()", source)
    tree, original = ast.parse(run), ast.parse(source)
    assert (run == f"begin(); {source}") == joined and (run == f"begin()\n{source}") != joined
    assert ast.unparse(tree.body[0]) == "begin()"
    shift = 0 if joined else 1
    assert [n.lineno for n in tree.body[1:]] == [n.lineno + shift for n in original.body]


def test_setup_and_test_cells_are_told_apart_by_their_nbgrader_metadata():
    def cell(**meta):
        return {"cell_type": "code", "source": "", "metadata": {"nbgrader": meta}}

    from nbformat import from_dict

    assert is_test_cell(from_dict(cell(grade=True, solution=False, grade_id="t", locked=True)))
    assert not is_test_cell(from_dict(cell(grade=True, solution=True, grade_id="a")))
    assert is_setup_cell(from_dict(cell(grade=False, solution=False, locked=True, grade_id="setup")))
    # a locked cell without a grade_id: nbgrader's gradebook did not know it
    assert not is_setup_cell(from_dict(cell(grade=False, solution=False, locked=True)))
    assert not is_setup_cell(from_dict(cell(grade=False, solution=False, locked=False, grade_id="s")))


def test_wire_carries_safe_data_and_refuses_code():
    value = ("D", [("x", ("d", torch.arange(3.0))), ("p", ("d", nn.Parameter(torch.ones(2))))])
    back = from_text(to_text(value))
    assert torch.equal(back[1][0][1][1], torch.arange(3.0))
    assert isinstance(back[1][1][1][1], nn.Parameter)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with pytest.raises(WireError, match="not safe data"):
        from_text(base64.b64encode(pickle.dumps(Evil())).decode())
    with pytest.raises(WireError, match="not base64"):
        from_text("not base64!")
    with pytest.raises(WireError, match="larger"):
        to_text(torch.zeros(MAX_BYTES // 4 + 1))


def test_data_arrives_as_copies_and_objects_as_stand_ins(student):
    student["X_diag"] = torch.ones(3, 4)
    student["answer"] = "B"
    student["shape"] = torch.Size([2, 3])

    def double(X):
        return 2 * X

    student["double"] = double
    student["block"] = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    remote.begin_test_cell(["X_diag", "answer", "shape", "double", "block", "missing", "print"])
    tests = student["__tests__"]
    assert type(tests["X_diag"]) is torch.Tensor and tests["X_diag"] is not student["X_diag"]
    assert tests["answer"] == "B" and tests["shape"] == torch.Size([2, 3])
    assert "missing" not in tests and "print" not in tests
    fn, block = tests["double"], tests["block"]
    assert isinstance(fn, remote.RemoteCallable) and torch.equal(fn(torch.ones(2)), torch.full((2,), 2.0))
    assert isinstance(block, nn.Sequential) and not isinstance(block, nn.Linear)
    assert [layer.__class__.__name__ for layer in block] == ["Conv2d", "ReLU"]
    assert list(block)[0].kernel_size == (3, 3) and len(block) == 2
    state = block.state_dict()
    assert set(state) == {"0.weight", "0.bias"} and type(state["0.weight"]) is torch.Tensor
    assert block(torch.zeros(1, 1, 5, 5)).shape == (1, 2, 3, 3)
    assert getattr(block, "conv3", "missing") == "missing"  # AttributeError crosses as AttributeError


def test_a_new_test_cell_starts_from_the_setup_namespace(student):
    tests = student["__tests__"]
    tests["torch"] = torch
    remote.snapshot()
    student["K"] = torch.ones(1)
    tests["leftover"] = 1  # a name an earlier test cell bound
    tests["torch"] = None  # ... or rebound
    remote.begin_test_cell(["K", "torch"])
    assert "leftover" not in tests and tests["torch"] is torch  # torch: the setup cell's, never the student's
    assert torch.equal(tests["K"], torch.ones(1))


def test_exceptions_of_student_code_arrive_as_the_nearest_builtin(student):
    class OddSizeError(ValueError):
        pass

    def conv_out_size(n):
        if n < 0:
            raise OddSizeError(f"n = {n} is negative")
        raise KeyboardInterrupt  # a BaseException that is not an Exception

    student["conv_out_size"] = conv_out_size
    remote.begin_test_cell(["conv_out_size"])
    fn = student["__tests__"]["conv_out_size"]
    with pytest.raises(ValueError, match="n = -1 is negative"):
        fn(-1)
    with pytest.raises(remote.StudentKernelError, match="KeyboardInterrupt"):
        fn(1)


def test_a_handle_claiming_to_be_a_tensor_is_no_tensor():
    tensor_mro = [["torch", "Tensor"], ["builtins", "object"]]
    forged = remote.decode(("r", 1, {"mro": tensor_mro, "callable": False}))
    assert not isinstance(forged, torch.Tensor)
    lazy_mro = [["torch.nn.parameter", "UninitializedParameter"]]
    lazy = remote.decode(("r", 2, {"mro": lazy_mro, "callable": False}))
    assert isinstance(lazy, nn.parameter.UninitializedParameter)  # claiming to be lazy can only fail a check
    with pytest.raises(remote.StudentKernelError, match="module"):
        remote.decode(("m", "torch"))


def test_arguments_are_read_back_where_the_students_function_ran(student):
    def in_place(X):
        X.add_(1)  # changes its argument: only the student's kernel can tell
        return X.sum()

    student["in_place"] = in_place
    remote.begin_test_cell(["in_place"])
    X = torch.zeros(3)
    seen = observe(student["__tests__"]["in_place"], X, return_args=True)
    assert seen.result.item() == 3.0
    assert torch.equal(X, torch.zeros(3))  # the test's own copy is untouched
    assert torch.equal(seen.args[0], torch.ones(3))  # the copy the function changed, read back


def test_test_kernels_never_share_a_uid_with_student_kernels():
    from autograder.sandbox import KERNELS_PER_TASK, run_uid
    from autograder.split import TEST_UID_BASE

    highest_student = max(run_uid(task, pid) for pid in (0, 99_999, 199_999) for task in (0, 624, 625))
    assert highest_student + KERNELS_PER_TASK < TEST_UID_BASE
    assert TEST_UID_BASE + 40_000_000 < 2**31  # signed 32-bit uids stay valid


def test_the_grader_speaks_the_same_protocol_as_both_kernels():
    """autograder.forward keeps its own copies of the markers (the grader does not import torch)."""
    from autograder import forward

    assert (forward._PROMPT, forward._FAILURE) == (remote.PROMPT, remote.FAILURE)
    assert (forward._BEGIN, forward._END) == (agent.BEGIN, agent.END)
