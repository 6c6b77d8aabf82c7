"""cnncourse.grading: the checks inside test cells fail with teaching messages, never answers."""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import warnings

import pytest
import torch

import cnncourse.functional
from cnncourse import grading
from cnncourse.grading import (
    answer_digest,
    call_batch_norm,
    check_choice,
    check_close,
    check_difference_kernel,
    check_layers,
    check_letter,
    check_matrix_product,
    check_pool,
    check_shape,
    check_tensor_like,
    difference_kernel_problem,
    forbid_calls,
    forward_or_explain,
    no_modules_built,
    normalise_answer,
    quiet,
    random_batch_norm_inputs,
    ready_made_refused,
    torch_calls,
)


def test_quiet_stops_warnings_from_reaching_stderr(capfd):
    with warnings.catch_warnings():
        quiet()
        warnings.warn("harmless", UserWarning, stacklevel=1)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(("raw", "normal"), [
    (" b) ", "B"), ("'c'", "C"), ("D.", "D"), (2, "2"), (2.0, "2"), ("2.50", "2.5"),
    (torch.tensor(3.0), "3"), (0.1 + 0.2, "0.3"), (True, "TRUE"),
])
def test_normalise_answer_canonicalises_letters_and_numbers(raw, normal):
    assert normalise_answer(raw) == normal


@pytest.mark.parametrize("raw", [["A"], None, torch.ones(2)])
def test_normalise_answer_rejects_values_that_are_not_one_answer(raw):
    with pytest.raises(TypeError):
        normalise_answer(raw)


def test_answer_digest_ignores_spelling_but_depends_on_letter_and_salt():
    assert answer_digest("b", salt="q1") == answer_digest(" B ", salt="q1")
    assert answer_digest("B", salt="q1") != answer_digest("C", salt="q1")
    assert answer_digest("B", salt="q1") != answer_digest("B", salt="q2")
    assert len(answer_digest("B", salt="q1")) == 64  # a sha256 hex digest, not the letter


def test_check_choice_accepts_the_right_letter_in_any_spelling():
    digest = answer_digest("B", salt="answer_q")
    for spelling in ("B", "b", " (b) "):
        check_choice("answer_q", spelling, digest, hint="look at Y", choices="ABCD")


def test_check_choice_rejects_a_wrong_letter_without_revealing_the_right_one():
    digest = answer_digest("B", salt="answer_q")
    with pytest.raises(AssertionError) as info:
        check_choice("answer_q", "A", digest, hint="Print Y and look at it.", choices="ABCD")
    message = str(info.value)
    assert "answer_q = 'A' is not the right choice" in message
    assert "Print Y and look at it." in message
    assert "'B'" not in message


def test_check_choice_names_the_allowed_letters_for_a_malformed_answer():
    digest = answer_digest("B", salt="answer_q")
    with pytest.raises(AssertionError, match="one of the letters A, B, C, D; got 'B or C'"):
        check_choice("answer_q", "B or C", digest, choices="ABCD")
    with pytest.raises(AssertionError, match="answer_q should be one letter"):
        check_choice("answer_q", ["B"], digest)


@pytest.mark.parametrize("raw", ["AB", "bc", "", "ABCD"])
def test_check_choice_treats_several_letters_or_none_as_malformed_not_as_a_wrong_choice(raw):
    """``choices`` lists single letters: "AB" is a substring of "ABCD" but not one of its letters."""
    digest = answer_digest("B", salt="answer_q")
    with pytest.raises(AssertionError, match="should be one of the letters A, B, C, D"):
        check_choice("answer_q", raw, digest, choices="ABCD")


def test_check_choice_depends_on_the_salt_so_digests_cannot_be_swapped():
    with pytest.raises(AssertionError):
        check_choice("answer_other", "B", answer_digest("B", salt="answer_q"))


def test_check_tensor_like_explains_each_problem():
    with pytest.raises(AssertionError, match="X should be a torch.Tensor, but it is a list"):
        check_tensor_like("X", [[1.0]])
    with pytest.raises(AssertionError, match=r"X should be a 2-D tensor, but it has shape \(3,\)"):
        check_tensor_like("X", torch.ones(3), ndim=2)
    with pytest.raises(AssertionError, match=r"X has dtype torch.int64; use floating-point"):
        check_tensor_like("X", torch.ones(2, 2, dtype=torch.int64))
    with pytest.raises(AssertionError, match=r"X has shape \(2, 2\) but should have shape \(1, 3\)"):
        check_tensor_like("X", torch.ones(2, 2), shape=(1, 3))
    check_tensor_like("X", torch.ones(1, 3), shape=(1, 3), ndim=2)


def test_check_shape_names_both_shapes_and_the_hint():
    with pytest.raises(AssertionError) as info:
        check_shape("Y_diag", torch.ones(7, 6), torch.Size([8, 7]), hint="did you transpose something?")
    expected = "Y_diag has shape (7, 6) but should have shape (8, 7). did you transpose something?"
    assert str(info.value) == expected


def test_check_close_counts_wrong_entries_but_never_prints_expected_values():
    expected = torch.full((3, 4), 123.456)
    actual = expected.clone()
    actual[1, 2] = 0.0
    actual[2, 0] = 1.0
    with pytest.raises(AssertionError) as info:
        check_close("Y", actual, expected, hint="apply K without flipping it")
    message = str(info.value)
    assert "2 of 12 entries are wrong (the first at index (1, 2))" in message
    assert "apply K without flipping it" in message
    assert "123" not in message


def test_check_close_accepts_rounding_differences_and_other_float_dtypes():
    expected = torch.randn(4, 5, dtype=torch.float64)
    check_close("Y", expected.float(), expected)


def test_check_close_reports_a_shape_mismatch_before_values():
    with pytest.raises(AssertionError, match=r"has shape \(2, 3\) but should have shape \(3, 2\)"):
        check_close("Y", torch.zeros(2, 3), torch.zeros(3, 2))


def test_torch_calls_records_the_outermost_torch_functions():
    a, b = torch.ones(2, 3), torch.ones(3, 4)
    result, calls = torch_calls(lambda x, y: torch.relu(x @ y), a, b)
    assert torch.equal(result, torch.full((2, 4), 3.0))
    assert calls == ["matmul", "relu"]  # the @ operator arrives as matmul


def test_forbid_calls_blocks_names_in_dicts_and_modules_and_restores_them():
    namespace = {"corr2d": cnncourse.functional.corr2d}
    original = cnncourse.functional.corr2d
    with pytest.raises(AssertionError, match="this part must not call corr2d. Multiply once."):
        with forbid_calls(["corr2d", "missing_name"], namespace, cnncourse.functional, hint="Multiply once."):
            cnncourse.functional.corr2d(torch.ones(2, 2), torch.ones(1, 1))
    assert namespace["corr2d"] is original
    assert cnncourse.functional.corr2d is original
    assert "missing_name" not in namespace


def _patches_times_kernel(X, K):
    """The other honest answer: a matrix of flattened image patches times the flattened kernel."""
    kh, kw = K.shape
    out_h, out_w = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    patches = torch.stack([X[i:i + kh, j:j + kw].reshape(-1) for i in range(out_h) for j in range(out_w)])
    return (patches @ K.reshape(-1)).reshape(out_h, out_w)


def _window_sums_and_an_identity_product(X, K):
    Y = cnncourse.functional.corr2d(X, K)
    return (torch.eye(Y.numel()) @ Y.reshape(-1)).reshape(Y.shape)


def _window_sums_and_a_dummy_product(X, K):
    return cnncourse.functional.corr2d(X, K) * (torch.ones(1) @ torch.ones(1))


def _two_products(X, K):
    half = cnncourse.functional.corr2d_as_matmul(X, K)
    return half @ torch.eye(half.shape[1])


def _convolution(X, K):
    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]


def _no_product(X, K):
    return cnncourse.functional.corr2d(X, K)


@pytest.mark.parametrize(("fn", "message"), [
    (_no_product, "performs no matrix product"),
    (_two_products, "performs 2 matrix products"),
    (_convolution, "calls conv2d; build the matrix product yourself"),
    (_window_sums_and_an_identity_product, "changes with both X and K"),
    (_window_sums_and_a_dummy_product, "does not produce the output"),
])
def test_check_matrix_product_rejects_computations_that_are_not_one_product(fn, message):
    with pytest.raises(AssertionError, match=message):
        check_matrix_product("f", fn, torch.randn(4, 5), torch.randn(2, 3))


@pytest.mark.parametrize("fn", [cnncourse.functional.corr2d_as_matmul, _patches_times_kernel])
def test_check_matrix_product_accepts_a_kernel_matrix_times_the_image_either_way_round(fn):
    X, K = torch.randn(5, 6), torch.randn(2, 3)
    result = check_matrix_product("corr2d_as_matmul", fn, X, K)
    torch.testing.assert_close(result, cnncourse.functional.corr2d(X, K))


def test_check_matrix_product_accepts_a_1x1_convolution_as_one_product():
    def conv1x1(X, K):
        c_in, h, w = X.shape
        return (K.reshape(K.shape[0], c_in) @ X.reshape(c_in, h * w)).reshape(-1, h, w)

    check_matrix_product("conv1x1", conv1x1, torch.randn(3, 4, 5), torch.randn(2, 3, 1, 1))


def _binomial_kernel(order):
    return torch.tensor([[(-1.0) ** i * math.comb(order, i) for i in range(order + 1)]])


@pytest.mark.parametrize("order", range(1, 9))
def test_difference_kernels_of_every_order_pass_in_any_scale_and_direction(order):
    assert difference_kernel_problem(_binomial_kernel(order), order) is None
    assert difference_kernel_problem(-2.5 * _binomial_kernel(order).flip(1), order) is None


@pytest.mark.parametrize(("kernel", "order", "message"), [
    ([[1.0, -1.0, 1.0]], 2, "polynomial of degree 0"),  # alternating signs: right for order 1 only
    ([[1.0, -2.0, 1.0]], 3, "polynomial of degree 2"),  # the second difference for the third
    ([[1.0, -3.0, 3.0, -1.0, 0.0]], 3, "narrower kernel"),
    ([[0.0, 0.0, 0.0]], 2, "all zeros"),
    ([[1.0], [-2.0], [1.0]], 2, "one row"),
])
def test_wrong_difference_kernels_fail_with_the_polynomial_they_get_wrong(kernel, order, message):
    with pytest.raises(AssertionError, match=message):
        check_difference_kernel("difference_kernel(d)", torch.tensor(kernel), order)


def test_check_letter_accepts_any_listed_letter_and_says_nothing_about_which_is_right():
    for letter in "ABCDabcd":
        check_letter("answer", letter)
    with pytest.raises(AssertionError, match="one of the letters A, B, C, D"):
        check_letter("answer", "B or C")


def test_ready_made_refused_blocks_library_functions_under_an_alias_and_restores_them():
    namespace = {"my_pool": cnncourse.functional.pool2d, "mine": lambda: 1}
    with ready_made_refused(["pool2d"], namespace, hint="write it yourself"):
        with pytest.raises(AssertionError, match="must not call my_pool. write it yourself"):
            namespace["my_pool"](torch.ones(2, 2), 1)
        with pytest.raises(AssertionError, match="must not call pool2d"):
            cnncourse.functional.pool2d(torch.ones(2, 2), 1)
        assert namespace["mine"]() == 1
    assert namespace["my_pool"] is cnncourse.functional.pool2d


def test_no_modules_built_refuses_constructing_layers_and_restores_them():
    with no_modules_built("count"), pytest.raises(AssertionError, match="count built a torch.nn module"):
        torch.nn.Linear(2, 2)
    assert torch.nn.Linear(2, 2).weight.shape == (2, 2)


def test_check_pool_refuses_pytorch_pooling_inside_the_students_function():
    def cheat(X, pool_size, stride=None, padding=0, mode="max"):
        return torch.nn.functional.max_pool2d(X[None, None], pool_size, stride=stride or pool_size)[0, 0]

    with pytest.raises(AssertionError, match="must not call max_pool2d"):
        check_pool(cheat, torch.randn(4, 4), 2)
    def by_hand(X, pool_size, stride=None, padding=0, mode="max"):
        return X.unfold(0, pool_size, pool_size).unfold(1, pool_size, pool_size).amax(dim=(-2, -1))

    check_pool(by_hand, torch.randn(4, 6), 2)


def test_every_public_name_is_exported():
    for name in grading.__all__:
        assert hasattr(grading, name), name


def test_check_layers_names_the_first_misfit_and_the_idea_but_not_the_expected_list():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Sigmoid(), torch.nn.MaxPool2d(2))
    kinds = ["Conv2d", "ReLU", "MaxPool2d"]
    with pytest.raises(AssertionError, match="layer 1 of net is a Sigmoid") as failure:
        check_layers("net", model, kinds, "every activation is a ReLU")
    assert "MaxPool2d" not in str(failure.value)
    with pytest.raises(AssertionError, match="has 2 layers, fewer"):
        check_layers("net", torch.nn.Sequential(*list(model)[:1], torch.nn.ReLU()), kinds, "idea")
    check_layers("net", torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2)),
                 kinds, "idea")


def test_forward_or_explain_can_hide_pytorchs_message_with_the_expected_size():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(400, 3))
    with pytest.raises(AssertionError) as failure:
        forward_or_explain("net", model, torch.zeros(2, 16, 6, 6), "count the features", show_error=False)
    assert "400" not in str(failure.value) and "count the features" in str(failure.value)


def test_ready_made_refused_leaves_a_submodule_that_shares_a_refused_name_alone():
    import cnncourse.functional.convolution as submodule

    with ready_made_refused(["convolution", "conv2d"], {}):
        assert cnncourse.functional.convolution is submodule
        with pytest.raises(AssertionError, match="must not call conv2d"):
            torch.nn.functional.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 1, 1))
    assert torch.nn.functional.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 1, 1)).shape == (1, 1, 2, 2)


class _LooksLike:
    """Like a clean-kernel stand-in: ``type()`` says nothing, ``__class__`` names the remote class."""

    def __init__(self, cls: type, items: tuple = ()) -> None:
        self._cls, self._items = cls, items

    @property
    def __class__(self) -> type:  # noqa: D105
        return self._cls

    def __iter__(self):  # noqa: ANN204
        return iter(self._items)


def test_check_layers_reads_the_class_a_stand_in_reports_not_its_type():
    kinds = ["Conv2d", "ReLU", "MaxPool2d"]
    layers = (_LooksLike(torch.nn.Conv2d), _LooksLike(torch.nn.ReLU), _LooksLike(torch.nn.MaxPool2d))
    check_layers("net", _LooksLike(torch.nn.Sequential, layers), kinds, "idea")
    with pytest.raises(AssertionError, match="layer 1 of net is a Sigmoid"):
        sigmoid = _LooksLike(torch.nn.Sigmoid)
        check_layers("net", _LooksLike(torch.nn.Sequential, (layers[0], sigmoid, layers[2])), kinds, "idea")
    with pytest.raises(AssertionError, match="should return an nn.Sequential, got ModuleList"):
        check_layers("net", _LooksLike(torch.nn.ModuleList, layers), kinds, "idea")


def test_call_batch_norm_names_an_argument_changed_in_place_and_accepts_fresh_tensors():
    inputs = random_batch_norm_inputs((4, 3), torch.Generator().manual_seed(0))

    def in_place(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        running_mean.mul_(1 - momentum).add_(momentum * X.mean(dim=0))
        return X, running_mean, running_var

    def fresh(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        return X.clone(), running_mean.clone(), running_var.clone()

    with pytest.raises(AssertionError, match="changed its argument running_mean in place"):
        call_batch_norm(in_place, *[t.clone() for t in inputs], training=True)
    Y, mean, var = call_batch_norm(fresh, *inputs, training=True)
    assert torch.equal(Y, inputs[0]) and torch.equal(mean, inputs[3])
    with pytest.raises(AssertionError, match="should return a tuple"):
        call_batch_norm(lambda *args, **kwargs: list(fresh(*args, **kwargs)), *inputs, training=True)


@pytest.mark.parametrize("module", ["checks", "choices", "diagonal", "differences", "modules", "pooling",
                                    "normalization", "products"])
def test_checks_that_receive_student_objects_never_ask_their_type(module):
    """A stand-in's type() is Remote: checks read ``__class__`` (DEVELOPERS.md, test-cell rule 2)."""
    tree = ast.parse(inspect.getsource(importlib.import_module(f"cnncourse.grading.{module}")))
    calls = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "type"]
    assert not calls, f"cnncourse.grading.{module} calls type() on lines {calls}"


@pytest.mark.parametrize("fake", [torch.Size([8, 7]), (8, 7), [8, 7]])
def test_check_shape_wants_a_tensor_not_a_shape(fake):
    """An output that is only its shape (a network returning ``torch.Size``) is not an output."""
    with pytest.raises(AssertionError, match="should be a torch.Tensor"):
        check_shape("the output", fake, (8, 7))
