"""cnncourse.grading: the checks inside test cells fail with teaching messages, never answers."""

from __future__ import annotations

import warnings

import pytest
import torch

import cnncourse.functional
from cnncourse import grading
from cnncourse.grading import (
    answer_digest,
    check_choice,
    check_close,
    check_one_matrix_product,
    check_shape,
    check_tensor_like,
    forbid_calls,
    normalise_answer,
    quiet,
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


def _one_product(X, K):
    return torch.ones(1, X.numel()) @ X.reshape(-1, 1)


def _no_product(X, K):
    return (X * 2).sum()


def _two_products(X, K):
    return (X @ X.T) @ X


def _convolution(X, K):
    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0] @ torch.ones(3, 1)


@pytest.mark.parametrize(("fn", "message"), [
    (_no_product, "performs no matrix product"),
    (_two_products, "performs 2 matrix products"),
    (_convolution, "calls conv2d; build the matrix product yourself"),
])
def test_check_one_matrix_product_rejects_other_ways_of_computing(fn, message):
    with pytest.raises(AssertionError, match=message):
        check_one_matrix_product("f", fn, torch.ones(3, 3), torch.ones(1, 1))


def test_check_one_matrix_product_returns_the_result_of_a_single_product():
    result = check_one_matrix_product("f", _one_product, torch.ones(2, 2), torch.ones(1, 1))
    assert torch.equal(result, torch.tensor([[4.0]]))


def test_library_corr2d_as_matmul_is_one_matrix_product():
    """The library's own answer to the exercise passes the exercise's check."""
    X, K = torch.randn(5, 6), torch.randn(2, 3)
    result = check_one_matrix_product("corr2d_as_matmul", cnncourse.functional.corr2d_as_matmul, X, K)
    torch.testing.assert_close(result, cnncourse.functional.corr2d(X, K))


def test_every_public_name_is_exported():
    for name in grading.__all__:
        assert hasattr(grading, name), name
