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
    build_layers,
    call_batch_norm,
    check_choice,
    check_close,
    check_corr2d_matrix,
    check_corr2d_matrix_product,
    check_difference_kernel,
    check_layers,
    check_letter,
    check_pad_fill,
    check_pool_windows,
    check_shape,
    check_tensor_like,
    difference_kernel_problem,
    forward_or_explain,
    layers_of,
    normalise_answer,
    quiet,
    random_batch_norm_inputs,
    rebuild,
    tensor_values,
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


def _placed_by_hand(input_shape, K):
    """The reference answer's way: K placed into each row."""
    (h, w), (kh, kw) = input_shape, K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    M = torch.zeros(out_h * out_w, h * w, dtype=K.dtype)
    for i in range(out_h):
        for j in range(out_w):
            placed = torch.zeros(h, w, dtype=K.dtype)
            placed[i:i + kh, j:j + kw] = K
            M[i * out_w + j] = placed.reshape(-1)
    return M


def _one_hot_images(input_shape, K):
    """The other honest answer: column c of M is corr2d of the image with a single 1 at pixel c."""
    h, w = input_shape
    images = torch.eye(h * w, dtype=K.dtype).reshape(h * w, h, w)  # image c: a single 1 at pixel c
    columns = [cnncourse.functional.corr2d(image, K).reshape(-1) for image in images]
    return torch.stack(columns, dim=1)  # (H' W', H W)


CORR2D_MATRIX_SHAPES = [((5, 7), (2, 3)), ((6, 4), (3, 1)), ((4, 9), (1, 4)), ((3, 3), (3, 3)),
                        ((4, 5), (1, 1))]


@pytest.mark.parametrize("fn", [_placed_by_hand, _one_hot_images])
@pytest.mark.parametrize(("input_shape", "kernel_shape"), CORR2D_MATRIX_SHAPES)
def test_corr2d_matrix_checks_accept_any_way_of_building_the_matrix(fn, input_shape, kernel_shape):
    K = torch.randn(*kernel_shape)
    check_corr2d_matrix_product(fn, input_shape, K)
    check_corr2d_matrix(fn, input_shape, K)
    check_corr2d_matrix(fn, input_shape, K.double())  # a float32 matrix of a float64 K is fine too


def _flipped(input_shape, K):
    return _placed_by_hand(input_shape, K.flip((0, 1)))


def _ones_around_the_window(input_shape, K):
    outside = _placed_by_hand(input_shape, torch.ones_like(K)) == 0
    return torch.where(outside, 1.0, _placed_by_hand(input_shape, K))


def _rows_in_column_major_order(input_shape, K):
    (h, w), (kh, kw) = input_shape, K.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    rows = _placed_by_hand(input_shape, K).reshape(out_h, out_w, h * w)
    return rows.transpose(0, 1).reshape(out_h * out_w, h * w)  # row j * out_h + i is output pixel (i, j)


@pytest.mark.parametrize(("fn", "product_message", "row_message"), [
    (_flipped, "differs from corr2d", "inside that window: are K's entries in their places"),
    (_ones_around_the_window, "differs from corr2d", "outside that window, where every entry must be zero"),
    (_rows_in_column_major_order, "output pixel", r"row 1 of corr2d_matrix\(\(5, 7\), K of shape \(2, 3\)\)"),
    (lambda input_shape, K: _placed_by_hand(input_shape, K).T, "should have shape \\(20, 35\\)",
     "One row per output pixel"),
    (lambda input_shape, K: _placed_by_hand(input_shape, K).long(), "dtype torch.int64", "floating-point"),
    (lambda input_shape, K: _placed_by_hand(input_shape, K).tolist(), "returned a list", "returned a list"),
    (lambda input_shape, K: _placed_by_hand(input_shape, K).to_sparse(), "sparse", "dense"),
])
def test_corr2d_matrix_checks_reject_wrong_matrices_and_say_where_to_look(fn, product_message, row_message):
    K = torch.randn(2, 3)
    with pytest.raises(AssertionError, match=product_message):
        check_corr2d_matrix_product(fn, (5, 7), K)
    with pytest.raises(AssertionError, match=row_message):
        check_corr2d_matrix(fn, (5, 7), K)


def test_corr2d_matrix_checks_hand_the_student_a_copy_of_the_kernel():
    def scales_its_kernel(input_shape, K):
        K *= 2  # in place: the check must still compare with the kernel it chose
        return _placed_by_hand(input_shape, K)

    K = torch.randn(2, 2)
    with pytest.raises(AssertionError, match="does not compute the cross-correlation"):
        check_corr2d_matrix_product(scales_its_kernel, (4, 4), K)


def test_tensor_values_returns_a_float64_copy_and_names_what_is_wrong():
    value = torch.ones(2, 3, requires_grad=True)
    copy = tensor_values("f(x)", value, (2, 3))
    assert copy.dtype == torch.float64 and not copy.requires_grad
    with pytest.raises(AssertionError, match=r"has shape \(2, 3\) but should have shape \(3, 2\)\. Look"):
        tensor_values("f(x)", value, (3, 2), hint="Look.")
    with pytest.raises(AssertionError, match="meta"):
        tensor_values("f(x)", torch.ones(2, 3, device="meta"), (2, 3))


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


@pytest.mark.parametrize("order", range(3, 8))
def test_a_kernel_whose_products_overflow_to_nan_fails_like_any_wrong_kernel(order):
    """Alternating ±1e308 coefficients (wrong beyond order 2) make every unscaled response inf - inf
    = nan, and nan passes a comparison written ``nan > bound``; the check scales first."""
    overflow = torch.tensor([[(-1.0) ** i * 1e308 for i in range(order + 1)]], dtype=torch.float64)
    if (order + 1) % 2:
        overflow[0, -1] = 0.0
    assert difference_kernel_problem(overflow, order) is not None
    assert difference_kernel_problem(1e300 * _binomial_kernel(order).double(), order) is None


def test_check_letter_accepts_any_listed_letter_and_says_nothing_about_which_is_right():
    for letter in "ABCDabcd":
        check_letter("answer", letter)
    with pytest.raises(AssertionError, match="one of the letters A, B, C, D"):
        check_letter("answer", "B or C")


def _windows_by_hand(X, kernel_size, stride=None, padding=0, fill=0.0):
    stride = stride or kernel_size
    X = torch.nn.functional.pad(X, (padding,) * 4, value=fill)
    return X.unfold(0, kernel_size, stride).unfold(1, kernel_size, stride)


def test_check_pool_windows_reduces_the_windows_itself_and_compares_with_pytorch():
    check_pool_windows(_windows_by_hand, torch.randn(4, 6), 2)
    check_pool_windows(_windows_by_hand, torch.randn(5, 5, dtype=torch.float64), 3, stride=2, padding=1,
                       mode="avg")
    check_pool_windows(_windows_by_hand, -1.0 - torch.rand(5, 5), 3, stride=1, padding=1, fill=-math.inf)


def test_check_pool_windows_refuses_pooled_values_and_names_the_first_wrong_window():
    def pooled(X, kernel_size, stride=None, padding=0, fill=0.0):  # PyTorch's maxima are not windows
        return torch.nn.functional.max_pool2d(X[None, None], kernel_size)[0, 0]

    with pytest.raises(AssertionError, match=r"has shape \(2, 3\); it should be \(H_out, W_out, p_h, p_w\)"):
        check_pool_windows(pooled, torch.randn(4, 6), 2)
    with pytest.raises(AssertionError, match="should return a torch.Tensor, but it returned a list"):
        check_pool_windows(lambda *args, **kwargs: [[1.0]], torch.randn(4, 6), 2)
    def stride_one(X, kernel_size, stride=None, padding=0, fill=0.0):  # right shape, windows at stride 1
        return _windows_by_hand(X, kernel_size, stride=1)[:2, :3]

    wrong_window = r"window of output position \(0, 1\) holds other values"
    with pytest.raises(AssertionError, match=wrong_window) as failure:
        check_pool_windows(stride_one, torch.arange(24.0).reshape(4, 6), 2)
    assert "tensor(" not in str(failure.value)  # no expected values in the message


def test_check_pool_windows_fails_a_fill_that_wins_a_max_with_the_hint():
    with pytest.raises(AssertionError, match=r"reduced by max they differ from F.max_pool2d .* never wins"):
        check_pool_windows(_windows_by_hand, -1.0 - torch.rand(4, 4), 2, stride=1, padding=1, fill=0.0,
                           hint="never wins")


@pytest.mark.parametrize(("table", "message"), [
    ([0.0, 0.0], "should be a dict with the keys 'max' and 'avg', got list"),
    ({"max": 0.0}, "should be a dict with the keys 'max' and 'avg'"),
    ({"max": True, "avg": 0.0}, r"PAD_FILL\['max'\] should be a number .* got a bool"),
    ({"max": "-inf", "avg": 0.0}, "got a str"),
])
def test_check_pad_fill_wants_a_number_for_each_mode(table, message):
    with pytest.raises(AssertionError, match=message):
        check_pad_fill("PAD_FILL", table)
    assert check_pad_fill("PAD_FILL", {"max": -math.inf, "avg": 0}) == {"max": -math.inf, "avg": 0.0}


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


def test_build_layers_builds_a_specification_with_the_graders_own_torch_nn():
    spec = [("Conv2d", {"in_channels": 3, "out_channels": 8, "kernel_size": [3, 3], "padding": 1}),
            ("ReLU", {}), ("MaxPool2d", {"kernel_size": 2, "stride": 2})]
    block = build_layers("vgg_block_layers(1, 3, 8)", spec)
    assert [layer.__class__.__name__ for layer in block] == ["Conv2d", "ReLU", "MaxPool2d"]
    assert block[0].kernel_size == (3, 3) and block(torch.zeros(1, 3, 4, 4)).shape == (1, 8, 2, 2)


@pytest.mark.parametrize(("spec", "message"), [
    (torch.nn.Sequential(torch.nn.ReLU()), "should return a list of .layer_name, kwargs. pairs"),
    ([("ReLU",)], r"item 0 of f\(\) should be a \(layer_name, kwargs\) pair, got a tuple of length 1"),
    ([("ReLU", {}), ("Module", {})], "item 1 of f.. names the layer 'Module'; use the name of a torch.nn"),
    ([(torch.nn.ReLU, {})], "names the layer a type"),
    ([("ReLU", [("inplace", True)])], "the second element should be a dict of keyword arguments"),
    ([("Conv2d", {"in_channels": 1, "out_channels": 2, "kernel_size": torch.tensor(3)})],
     "argument 'kernel_size' is a Tensor"),
    ([("Conv2d", {"in_channels": 1, "out_channels": 2})], r"nn.Conv2d does not accept these arguments"),
    ([("Linear", {"in_features": 1 << 20, "out_features": 1 << 20})], "describes 1,099,512,676,352 param"),
])
def test_build_layers_turns_bad_data_into_a_message_naming_the_item(spec, message):
    with pytest.raises(AssertionError, match=message):
        build_layers("f()", spec)


def test_forward_or_explain_can_hide_pytorchs_message_with_the_expected_size():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(400, 3))
    with pytest.raises(AssertionError) as failure:
        forward_or_explain("net", model, torch.zeros(2, 16, 6, 6), "count the features", show_error=False)
    assert "400" not in str(failure.value) and "count the features" in str(failure.value)


class _FakeForward(torch.nn.Sequential):
    """Right-looking layers whose forward pass never runs them: zeros of the output's shape."""

    def forward(self, X):
        return torch.zeros(X.shape[0], self[-2].out_features)


def _small_lenet() -> list[torch.nn.Module]:
    return [torch.nn.Conv2d(2, 3, kernel_size=5, padding=2, bias=False), torch.nn.ReLU(),
            torch.nn.MaxPool2d(kernel_size=2, stride=2), torch.nn.AvgPool2d(2, ceil_mode=True),
            torch.nn.Flatten(), torch.nn.Linear(3 * 3 * 3, 4), torch.nn.Sigmoid()]


def test_layers_of_reads_each_layers_kind_and_constructor_sizes():
    spec = layers_of("net", torch.nn.Sequential(*_small_lenet()))
    assert [kind for kind, _ in spec] == ["Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "Flatten", "Linear",
                                          "Sigmoid"]
    assert spec[0][1] == {"in_channels": 2, "out_channels": 3, "kernel_size": (5, 5), "stride": (1, 1),
                          "padding": (2, 2), "dilation": (1, 1), "groups": 1, "padding_mode": "zeros",
                          "bias": False}
    assert spec[3][1]["ceil_mode"] is True and "divisor_override" not in spec[3][1]  # None is left out
    assert spec[5][1] == {"in_features": 27, "out_features": 4, "bias": True}


def test_rebuild_runs_the_students_layers_and_weights_not_its_forward():
    torch.manual_seed(0)
    model = _FakeForward(*_small_lenet())
    X = torch.randn(3, 2, 10, 10)
    network = rebuild("net", model)
    assert network.__class__ is torch.nn.Sequential
    expected = torch.nn.Sequential(*model)(X)  # the real layers, run in order
    torch.testing.assert_close(network(X), expected)
    assert not torch.equal(model(X), expected)  # what the fake forward would have reported


def test_rebuild_refuses_weights_that_do_not_fit_the_reported_sizes():
    model = torch.nn.Sequential(torch.nn.Linear(4, 2))
    model[0].in_features = 5  # an attribute that lies about the weight's size
    with pytest.raises(AssertionError, match=r"the weights of net do not fit the sizes its layers report "
                                             r"\(size mismatch for 0.weight"):
        rebuild("net", model)


@pytest.mark.parametrize(("layers", "message"), [
    ([torch.nn.LazyLinear(3)], "layer 0 of net is a LazyLinear: give every layer explicit sizes .no Lazy"),
    ([torch.nn.Softmax(1)], "layer 0 of net is a Softmax; the grader rebuilds networks made of the torch.nn "
                            "layers Conv2d, ReLU"),
    ([torch.nn.ReLU(), torch.nn.Sequential(torch.nn.ReLU())], "layer 1 of net is a Sequential"),
    ([torch.nn.GELU()], "layer 0 of net is a GELU"),
])
def test_layers_of_names_a_layer_outside_spec_layers(layers, message):
    with pytest.raises(AssertionError, match=message):
        layers_of("net", torch.nn.Sequential(*layers))


def test_layers_of_asks_for_an_nn_sequential_and_a_layers_attributes():
    with pytest.raises(AssertionError, match="net should return an nn.Sequential, got Linear"):
        layers_of("net", torch.nn.Linear(2, 3))

    class Linear(torch.nn.Module):  # named like torch's, built otherwise
        def forward(self, X):
            return X

    with pytest.raises(AssertionError, match="layer 0 of net is a Linear without the attribute 'in_feat"):
        layers_of("net", torch.nn.Sequential(Linear()))


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


def test_call_batch_norm_grades_what_comes_back_in_place_updates_or_not():
    """An in-place update is seen only by the student's kernel (which can be made to deny it), so
    only the returned tuple counts: an in-place and a fresh version of the same arithmetic agree."""
    inputs = random_batch_norm_inputs((4, 3), torch.Generator().manual_seed(0))

    def in_place(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        running_mean.mul_(1 - momentum).add_(momentum * X.mean(dim=0))
        return X, running_mean, running_var

    def fresh(X, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        return X.clone(), (1 - momentum) * running_mean + momentum * X.mean(dim=0), running_var.clone()

    Y, mean, var = call_batch_norm(in_place, *[t.clone() for t in inputs], training=True)
    assert torch.allclose(mean, call_batch_norm(fresh, *inputs, training=True)[1])
    assert torch.equal(Y, inputs[0]) and torch.equal(var, inputs[4])
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
