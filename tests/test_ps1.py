"""ps1's open questions. "Build an image with diagonal edges": every image a teacher would accept
passes the hidden check, and images without diagonal edges fail it with a useful message.
"Cross-correlation as one matrix product": every honest way of building the matrix passes."""

from __future__ import annotations

import re

import pytest
import torch

from autograder.course import cells, read, source_notebooks
from autograder.gates.regions import reference_source
from cnncourse.functional import corr2d
from cnncourse.grading import (
    check_corr2d_matrix,
    check_corr2d_matrix_product,
    check_diagonal_edges,
    diagonal_edge_problem,
)
from cnncourse.images import anti_diagonal_edge, diagonal_edge, stripes


def _step_edge(size: int, offset: int, low: float, high: float, anti: bool = False) -> torch.Tensor:
    """Two grey levels meeting along a 45-degree line ``j = i + offset``."""
    rows, cols = torch.arange(size)[:, None], torch.arange(size)[None, :]
    if anti:
        cols = size - 1 - cols
    return torch.where(cols <= rows + offset, high, low)


def _triangle() -> torch.Tensor:
    """A right triangle in the middle of a dark image: one vertical and one diagonal edge."""
    X = torch.zeros(12, 12)
    X[3:9, 3:9] = torch.ones(6, 6).tril()
    return X


def _diamond() -> torch.Tensor:
    """A square rotated by 45 degrees: four diagonal edges."""
    rows, cols = torch.arange(11)[:, None], torch.arange(11)[None, :]
    return ((rows - 5).abs() + (cols - 5).abs() <= 4).float()


def _diagonal_stripes() -> torch.Tensor:
    rows, cols = torch.arange(10)[:, None], torch.arange(10)[None, :]
    return ((rows + cols) % 4 < 2).float()


def _short_diagonal_and_a_line() -> torch.Tensor:
    """A long vertical line and a four-pixel diagonal: most edges are vertical."""
    X = torch.zeros(12, 12)
    X[:, 10] = 1.0
    X[0:4, 2:6] = torch.eye(4)
    return X


ACCEPTED = {
    "identity 6x6": torch.eye(6),
    "identity 8x8": torch.eye(8),
    "identity 15x15 float64": torch.eye(15, dtype=torch.float64),
    "lower triangle 8x8": torch.ones(8, 8).tril(),
    "lower triangle 6x8 (ps1's reference)": torch.ones(6, 8).tril(),
    "upper triangle 9x7": torch.ones(9, 7).triu(),
    "anti-diagonal 7x7": torch.eye(7).flip(1),
    "library diagonal_edge(8)": diagonal_edge(8),
    "library anti_diagonal_edge(10)": anti_diagonal_edge(10),
    "step edge 0.2 / 0.9 with offset 2": _step_edge(9, 2, 0.2, 0.9),
    "step edge -3 / 5 anti-diagonal": _step_edge(8, -1, -3.0, 5.0, anti=True),
    "thick diagonal line": (torch.eye(10) + torch.eye(10).roll(1, dims=1)).clamp(max=1),
    "triangle in the middle": _triangle(),
    "diamond": _diamond(),
    "diagonal stripes": _diagonal_stripes(),
    "one-pixel checkerboard (lines along anti-diagonals)": (torch.arange(8)[:, None] + torch.arange(8)) % 2.0,
    "large identity 64x64": torch.eye(64),
}

REJECTED = {
    "the book's vertical stripes": (stripes(), "corr2d(X_diag, K.T) is zero everywhere"),
    "horizontal stripes": (stripes().T.contiguous(), "corr2d(X_diag, K) is zero everywhere"),
    "constant image": (torch.full((8, 8), 0.5), "corr2d(X_diag, K) is zero everywhere"),
    "horizontal ramp": (torch.arange(8.0).repeat(8, 1), "corr2d(X_diag, K.T) is zero everywhere"),
    "diagonal ramp": (torch.arange(8.0)[:, None] + torch.arange(8.0), "smooth ramp"),
    "too small": (torch.eye(5), "make it at least 6 x 6"),
    "integer dtype": (torch.eye(8, dtype=torch.int64), "floating-point"),
    "a 3-D tensor": (torch.eye(8)[None], "2-D image"),
    "a list": ([[1.0, 0.0], [0.0, 1.0]], "torch.Tensor"),
    "nan": (torch.full((8, 8), float("nan")), "inf or nan"),
    "mostly a vertical line, with a short diagonal": (_short_diagonal_and_a_line(), "lie on diagonal lines"),
}


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_images_with_diagonal_edges_pass(name):
    assert diagonal_edge_problem(ACCEPTED[name]) is None


@pytest.mark.parametrize("name", list(REJECTED))
def test_images_without_diagonal_edges_fail_with_a_message_that_points_at_the_problem(name):
    image, phrase = REJECTED[name]
    problem = diagonal_edge_problem(image)
    assert problem is not None and phrase in problem, problem


def test_random_sizes_offsets_and_intensities_of_step_edges_pass():
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        size = int(torch.randint(6, 40, (1,), generator=generator))
        offset = int(torch.randint(-(size // 3), size // 3 + 1, (1,), generator=generator))
        low, high = (torch.rand(2, generator=generator) * 10 - 5).tolist()
        if abs(high - low) < 0.1:
            continue
        anti = bool(torch.randint(0, 2, (1,), generator=generator))
        image = _step_edge(size, offset, low, high, anti=anti)
        assert diagonal_edge_problem(image) is None, (size, offset, low, high, anti)


def test_random_noise_is_not_an_image_with_diagonal_edges():
    generator = torch.Generator().manual_seed(1)
    for _ in range(50):
        size = int(torch.randint(6, 30, (1,), generator=generator))
        binary = torch.randint(0, 2, (size, size), generator=generator).float()
        gaussian = torch.randn(size, size, generator=generator)
        assert diagonal_edge_problem(binary) is not None
        assert diagonal_edge_problem(gaussian) is not None


def test_check_diagonal_edges_uses_the_students_variable_name():
    with pytest.raises(AssertionError, match="my_image has shape"):
        check_diagonal_edges("my_image", torch.eye(3))
    check_diagonal_edges("my_image", torch.eye(6))


# Questions 3.1-3.3 of ps1, option by option, as statements about the student's own X_diag. For
# every image the checker accepts (square or not) exactly one option must be true: the keyed one.
def _nonzero(Y: torch.Tensor) -> bool:
    return bool(Y.abs().max() > 1e-9)


def _same(A: torch.Tensor, B: torch.Tensor) -> bool:
    return A.shape == B.shape and torch.allclose(A, B)


def _statements(X: torch.Tensor) -> dict[str, dict[str, bool]]:
    K = torch.tensor([[1.0, -1.0]], dtype=X.dtype)
    h, w = X.shape
    Y, Y_XT, Y_KT = corr2d(X, K), corr2d(X.T, K), corr2d(X, K.T)
    edges = (Y.abs() > 1e-9).float()
    return {
        "answer_apply_K": {
            "A": not _nonzero(Y),
            "B": _nonzero(Y) and diagonal_edge_problem(X) is None,
            "C": _nonzero(Y) and not _nonzero(edges[:, 1:-1]),
            "D": _same(Y, X[:, :-1]),
        },
        "answer_transpose_X": {
            "A": _same(Y_XT, Y.T),
            "B": not _nonzero(Y_XT),
            "C": tuple(Y_XT.shape) == (w, h - 1) and _nonzero(Y_XT),
            "D": tuple(Y_XT.shape) == (w - 1, h),
        },
        "answer_transpose_K": {
            "A": tuple(Y_KT.shape) == (h, w - 1),
            "B": _same(Y_KT, Y),
            "C": tuple(Y_KT.shape) == (h - 1, w - 1),
            "D": tuple(Y_KT.shape) == (h - 1, w) and _same(Y_KT, corr2d(X.T, K).T),
        },
    }


def _keyed_answers() -> dict[str, str]:
    nb = read(source_notebooks("ps1")[0])
    found = {}
    for cell in cells(nb):
        if cell.is_answer:
            match = re.search(r'^(answer_\w+) = "([A-D])"$', reference_source(cell.source), re.M)
            if match:
                found[match[1]] = match[2]
    return found


def _images() -> dict[str, torch.Tensor]:
    images = dict(ACCEPTED)
    generator = torch.Generator().manual_seed(2)
    for trial in range(20):
        height, width = (int(n) for n in torch.randint(6, 14, (2,), generator=generator))
        images[f"random step edge {trial} ({height}x{width})"] = _step_edge(max(height, width), 1, 0.0, 1.0)[
            :height, :width]
    return {name: image for name, image in images.items() if diagonal_edge_problem(image) is None}


IMAGES = _images()


def test_the_accepted_images_include_square_and_non_square_ones():
    shapes = {tuple(image.shape) for image in IMAGES.values()}
    assert any(h == w for h, w in shapes) and any(h != w for h, w in shapes)


@pytest.mark.parametrize("name", list(IMAGES))
def test_every_question_about_the_image_has_exactly_one_true_option_the_keyed_one(name):
    key = _keyed_answers()
    assert set(key) == {"answer_apply_K", "answer_transpose_X", "answer_transpose_K"}
    for question, options in _statements(IMAGES[name]).items():
        true = [letter for letter, holds in options.items() if holds]
        assert true == [key[question]], (question, true)


def test_the_old_option_d_of_question_3_2_was_true_for_a_square_image():
    """The flaw fixed: "same shape as Y_diag, (h, w - 1)" held for torch.eye(6)."""
    X = torch.eye(6)
    h, w = X.shape
    assert tuple(corr2d(X.T, torch.tensor([[1.0, -1.0]])).shape) == (h, w - 1)


# Part 5 of ps1: corr2d_matrix(input_shape, K). The checks look only at the matrix; every honest way of
# building it earns the points, and the row-by-row description in the notebook is the only matrix that works.
MATRIX_SHAPES = [((3, 4), (2, 2)), ((5, 7), (2, 3)), ((6, 6), (3, 1)), ((4, 9), (1, 4)), ((3, 3), (3, 3)),
                 ((2, 7), (2, 7)), ((4, 5), (1, 1)), ((8, 5), (4, 2))]


def _reference_answer(grade_id: str) -> dict:
    """The namespace the reference answer of ``grade_id`` leaves, run on top of ps1's setup names."""
    nb = read(source_notebooks("ps1")[0])
    (source,) = [reference_source(c.source) for c in cells(nb) if c.is_answer and c.grade_id == grade_id]
    namespace = {"torch": torch, "corr2d": corr2d}
    exec(compile(source, grade_id, "exec"), namespace)  # noqa: S102 - the course's own reference answer
    return namespace


def _matrix_from_one_hot_images(input_shape, K):
    """Column c of the matrix is corr2d of the image whose only nonzero pixel, a 1, is pixel c."""
    h, w = input_shape
    images = torch.eye(h * w, dtype=K.dtype).reshape(h * w, h, w)
    return torch.stack([corr2d(image, K).reshape(-1) for image in images], dim=1)  # (H' W', H W)


@pytest.mark.parametrize(("input_shape", "kernel_shape"), MATRIX_SHAPES)
def test_the_reference_matrix_and_one_hot_images_pass_and_agree(input_shape, kernel_shape):
    corr2d_matrix = _reference_answer("corr2d_as_matmul_answer")["corr2d_matrix"]
    K = torch.randn(*kernel_shape, generator=torch.Generator().manual_seed(17))
    for build in (corr2d_matrix, _matrix_from_one_hot_images):
        check_corr2d_matrix_product(build, input_shape, K)
        check_corr2d_matrix(build, input_shape, K)
    assert torch.equal(corr2d_matrix(input_shape, K), _matrix_from_one_hot_images(input_shape, K))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("input_shape", "kernel_shape"), MATRIX_SHAPES)
def test_the_released_product_with_the_reference_matrix_is_corr2d(input_shape, kernel_shape, dtype):
    product = _reference_answer("corr2d_as_matmul_answer")["corr2d_as_matmul_student"]
    generator = torch.Generator().manual_seed(18)
    X = torch.randn(*input_shape, generator=generator, dtype=dtype)
    K = torch.randn(*kernel_shape, generator=generator, dtype=dtype)
    torch.testing.assert_close(product(X, K), corr2d(X, K))


def test_a_matrix_that_peeks_at_a_fixed_image_fails_the_product_check():
    """The check multiplies with images of its own, so a matrix fitted to one image does not pass."""
    def fitted(input_shape, K):
        X = torch.ones(input_shape)
        Y = corr2d(X, K).reshape(-1)
        return Y[:, None] * torch.ones(1, X.numel()) / X.numel()  # right for X = ones only

    with pytest.raises(AssertionError, match="does not compute the cross-correlation"):
        check_corr2d_matrix_product(fitted, (4, 5), torch.randn(2, 2))
