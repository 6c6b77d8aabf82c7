"""cnncourse.images: the Section 7.2 test images and the bundled photograph."""

from __future__ import annotations

import pytest
import torch

from cnncourse import images


def test_stripes_is_the_books_image():
    X = images.stripes()
    assert X.shape == (6, 8) and X.dtype == torch.float32
    expected_row = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0])
    assert torch.equal(X, expected_row.expand(6, 8))


def test_images_are_fresh_copies():
    images.stripes()[0, 0] = 5.0
    images.photo()[0, 0] = 5.0
    assert images.stripes()[0, 0] == 1.0
    assert images.photo()[0, 0] <= 1.0


def test_diagonal_edge_is_lower_triangular_step():
    X = images.diagonal_edge(5)
    assert X.shape == (5, 5) and X.dtype == torch.float32
    assert torch.equal(X, torch.tril(torch.ones(5, 5)))
    assert X[4, 0] == 1.0 and X[0, 4] == 0.0
    assert images.diagonal_edge().shape == (8, 8)


def test_anti_diagonal_edge_mirrors_the_diagonal_edge():
    X = images.anti_diagonal_edge(4)
    assert torch.equal(X, torch.tensor([[0.0, 0, 0, 1], [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 1, 1]]))
    assert torch.equal(images.diagonal_line(3), torch.eye(3))


def test_checkerboard_tiles():
    X = images.checkerboard(6, square=2)
    assert X.shape == (6, 6) and X.dtype == torch.float32
    assert torch.equal(X[:2, :2], torch.zeros(2, 2)) and torch.equal(X[:2, 2:4], torch.ones(2, 2))
    assert torch.equal(X[2:4, :2], torch.ones(2, 2))
    assert X.sum() == 16  # 4 of the 9 tiles
    assert images.checkerboard().sum() == 32  # 8x8 with 2x2 tiles: half the pixels
    assert images.checkerboard((3, 5), square=1).shape == (3, 5)


@pytest.mark.parametrize("call,error,match", [
    (lambda: images.diagonal_edge(1), ValueError, "size must be >= 2"),
    (lambda: images.diagonal_edge(2.0), TypeError, "size must be an int"),
    (lambda: images.checkerboard(8, square=0), ValueError, "square must be >= 1"),
    (lambda: images.photo(size=0), ValueError, "size must be >= 1"),
    (lambda: images.photo(size="big"), TypeError, "size must be an int or a pair"),
])
def test_image_arguments_are_validated(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_photo_is_a_real_grayscale_photograph():
    X = images.photo()
    assert X.dim() == 2 and X.shape == (600, 512) and X.dtype == torch.float32
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert X.std() > 0.1  # not flat
    assert X.unique().numel() > 1000  # continuous tones, not a synthetic pattern
    # neighbouring pixels are strongly correlated in a photograph, unlike noise
    a, b = X[:, :-1].flatten(), X[:, 1:].flatten()
    assert torch.corrcoef(torch.stack([a, b]))[0, 1] > 0.9


def test_photo_resizes():
    assert images.photo(64).shape == (64, 64)
    small = images.photo((60, 40))
    assert small.shape == (60, 40) and small.min() >= 0.0 and small.max() <= 1.0
    assert abs(small.mean() - images.photo().mean()) < 0.02  # same picture, fewer pixels
