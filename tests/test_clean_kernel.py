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
import subprocess
import sys

import pytest
import torch
from torch import nn

import cnncourse.grading_kernels.student_side as agent
import cnncourse.grading_kernels.test_side as remote
from autograder.engine.names import free_names, is_setup_cell, is_test_cell, run_first
from cnncourse.grading import observe
from cnncourse.grading_kernels import protocol
from cnncourse.grading_kernels.wire import MAX_BYTES, WireError, from_text, to_text


@pytest.fixture
def student(monkeypatch) -> dict:
    """A student namespace served through the agent, and a test namespace for begin_test_cell."""
    students: dict = {}
    tests: dict = {}
    monkeypatch.setattr(agent, "user_namespace", lambda: students)
    monkeypatch.setattr(remote, "namespace", lambda: tests)
    remote.forget_submission()  # no namespace, student code or verdict of an earlier test

    def forward(prompt: str) -> str:
        request = protocol.request_text(prompt)
        assert request is not None and protocol.well_formed(request)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            agent.serve(request)
        answer, _ = protocol.unframe(out.getvalue())
        return answer

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

    def conv_out_size(input_size):
        if input_size < 0:
            raise OddSizeError(f"input_size = {input_size} is negative")
        raise KeyboardInterrupt  # a BaseException that is not an Exception

    student["conv_out_size"] = conv_out_size
    remote.begin_test_cell(["conv_out_size"])
    fn = student["__tests__"]["conv_out_size"]
    with pytest.raises(ValueError, match="input_size = -1 is negative"):
        fn(-1)
    with pytest.raises(remote.StudentKernelError, match="KeyboardInterrupt"):
        fn(1)


def _mro(cls: type) -> list[list[str]]:
    return [[base.__module__, base.__qualname__] for base in cls.__mro__]


TORCH_CLASSES = [torch.Tensor, nn.Parameter, nn.parameter.UninitializedParameter,
                 nn.parameter.UninitializedBuffer, torch.Generator, torch.UntypedStorage, torch.TypedStorage,
                 torch.device, torch.dtype, torch.SymInt]


@pytest.mark.parametrize("cls", TORCH_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("whole_mro", [False, True], ids=["class-alone", "whole-mro"])
def test_a_handle_claiming_a_class_torchs_cpp_reads_is_none_of_torchs(cls, whole_mro):
    """torch's C++ reads an object it takes (by isinstance) for a tensor, generator or storage as one:
    a stand-in claiming such a class would be read as memory it is not (a crash)."""
    mro = _mro(cls) if whole_mro else [[cls.__module__, cls.__qualname__]]
    forged = remote.decode(("r", 1, {"mro": mro, "callable": False}))
    torch_c_types = (torch.Tensor, torch._C.TensorBase, torch.Generator, torch._C.StorageBase,
                     torch.TypedStorage, torch.device, torch.dtype, torch.SymInt)
    assert not isinstance(forged, torch_c_types)
    assert forged.__class__.__name__ == cls.__name__ or forged.__class__ is object
    with pytest.raises(remote.StudentKernelError, match="module"):
        remote.decode(("m", "torch"))


def test_a_lazy_layers_parameters_are_told_by_their_class_name_and_are_no_tensors(student):
    """A lazy layer's parameters have no data to send: they arrive as stand-ins named
    UninitializedParameter, instances of UninitializedTensorMixin as in one kernel, but no tensors."""
    student["model"] = nn.Sequential(nn.LazyLinear(3), nn.Linear(3, 2))
    remote.begin_test_cell(["model"])
    params = list(student["__tests__"]["model"].parameters())
    names = [p.__class__.__name__ for p in params]
    assert names == ["UninitializedParameter", "UninitializedParameter", "Parameter", "Parameter"]
    lazy = [isinstance(p, nn.parameter.UninitializedTensorMixin) for p in params]
    assert lazy == [True, True, False, False]
    assert [isinstance(p, torch.Tensor) for p in params] == [False, False, True, True]


def test_numpy_and_fraction_numbers_arrive_as_the_builtin_numbers_they_equal(student):
    """An honest answer computed with numpy equals the expected number in the test kernel as it does
    in one kernel; numpy arrays stay stand-ins (no tensors in one kernel either)."""
    from fractions import Fraction

    import numpy as np

    student.update(i=np.prod([2, 8]), f=np.floor(6.5) + 1, f32=np.float32(0.5), b=np.bool_(True),
                   c=np.complex128(1 + 2j), half=Fraction(1, 2), third=Fraction(1, 3), two=Fraction(4, 2),
                   both=[np.int64(3), {"k": np.uint8(7)}], array=np.arange(3))
    remote.begin_test_cell(["i", "f", "f32", "b", "c", "half", "third", "two", "both", "array"])
    tests = student["__tests__"]
    assert (type(tests["i"]), tests["i"]) == (int, 16) and tests["i"] == student["i"]
    assert (type(tests["f"]), tests["f"]) == (float, 7.0) and tests["f"] == student["f"]
    assert (type(tests["f32"]), tests["f32"]) == (float, 0.5)
    assert tests["b"] is True and (type(tests["c"]), tests["c"]) == (complex, 1 + 2j)
    assert (type(tests["two"]), tests["two"]) == (int, 2)
    # A fraction a float cannot hold compares as in one kernel: exactly.
    assert (type(tests["third"]), tests["third"]) == (Fraction, Fraction(1, 3)) and tests["third"] != 1 / 3
    assert tests["half"] == 0.5 and tests["both"] == [3, {"k": 7}] and type(tests["both"][0]) is int
    assert isinstance(tests["array"], remote.Remote) and not isinstance(tests["array"], torch.Tensor)
    for forged in (("F", [1, 0]), ("F", [1.5, 2]), ("F", [1])):
        with pytest.raises(remote.StudentKernelError):
            remote.decode(forged)


def test_tensors_arrive_without_what_the_sender_attached():
    """torch.load restores a tensor's instance attributes: a sender could replace its methods."""
    weight = nn.Parameter(torch.ones(2))
    weight.is_floating_point = torch.Size
    plain = torch.zeros(2, requires_grad=True)
    plain.dim = torch.Size
    back = remote.decode(from_text(to_text(("l", [("d", weight), ("d", plain)]))))
    assert [type(value) for value in back] == [nn.Parameter, torch.Tensor]
    assert [vars(value) for value in back] == [{}, {}]
    assert back[0].is_floating_point() is True and back[1].dim() == 1
    assert back[0].requires_grad and back[1].requires_grad and torch.equal(back[0].detach(), torch.ones(2))


def test_a_value_too_large_to_send_says_the_limit_and_that_a_smaller_one_passes(student):
    """Red team, issue 4: a 2100 x 2100 float64 image passes in one kernel and failed in the grader with
    a message that did not say what to do."""
    student["image"] = torch.zeros(2100, 2100, dtype=torch.float64)  # 33.7 MiB
    student["make_image"] = lambda: student["image"]
    limit = rf"33.7 MiB is larger than the {MAX_BYTES >> 20} MiB .* smaller values pass: at most about 4.2"
    names = r"the values this test reads from your notebook \(image\)"
    with pytest.raises(ValueError, match=rf"^{names}: {limit}"):
        remote.begin_test_cell(["image"])
    remote.begin_test_cell(["make_image"])
    with pytest.raises(ValueError, match=rf"^what your function returned: {limit}"):
        student["__tests__"]["make_image"]()
    student["image"] = student["image"].float()[:2000]  # float32, or a smaller image, passes
    assert student["__tests__"]["make_image"]().shape == (2000, 2100)


def test_a_call_answers_its_result_and_nothing_about_its_arguments(student):
    """What a function did to its arguments is known only to the student's kernel, which a
    submission can make report anything: a call answers the result alone, and the test's own
    arguments are untouched."""
    def in_place(X):
        X.add_(1)  # changes the student kernel's copy only
        return X.sum()

    student["in_place"] = in_place
    remote.begin_test_cell(["in_place"])
    X = torch.zeros(3)
    seen = observe(student["__tests__"]["in_place"], X)
    assert seen.result.item() == 3.0
    assert torch.equal(X, torch.zeros(3))
    assert not hasattr(seen, "args")


def test_a_class_name_reaching_into_a_lazy_torch_submodule_imports_nothing():
    """torch's module __getattr__ imports torch._dynamo when asked for it: a stand-in's claimed
    class is looked up only in what the modules already hold (a fresh process, so nothing else
    imported it first)."""
    script = ("import sys, torch\n"
              "from cnncourse.grading_kernels.stand_ins import stand_in_class\n"
              "assert 'torch._dynamo' not in sys.modules\n"
              "mro = [['torch', '_dynamo.X'], ['torch', '_inductor.Y'], ['builtins', 'object']]\n"
              "cls = stand_in_class(mro)\n"
              "print(sorted(m for m in ('torch._dynamo', 'torch._inductor') if m in sys.modules), "
              "cls.__mro__[1].__name__)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["[]", "object"], done.stdout


def test_test_kernels_never_share_a_uid_with_student_kernels():
    from autograder.engine.sandbox import KERNELS_PER_TASK, run_uid
    from autograder.engine.test_kernel import TEST_UID_BASE

    highest_student = max(run_uid(task, pid) for pid in (0, 99_999, 199_999) for task in (0, 624, 625))
    assert highest_student + KERNELS_PER_TASK < TEST_UID_BASE
    assert TEST_UID_BASE + 40_000_000 < 2**31  # signed 32-bit uids stay valid
