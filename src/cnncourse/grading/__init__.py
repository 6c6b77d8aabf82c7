"""Checks used inside the autograded test cells of the course assignments (Sections 7.1-8.6).

Every check raises ``AssertionError`` with a message that says what is wrong and where to
look, never what the expected answer is. Multiple-choice answers are compared through a
salted hash (:func:`answer_digest`), so a released notebook does not contain the letter.

Modules, by job: :mod:`.checks` (tensors, shapes, values), :mod:`.choices` (hashed answers),
:mod:`.calls` (which torch functions a student's code calls; refusing forbidden ones) and
problem-specific checkers such as :mod:`.diagonal`.

Typical test cell::

    from cnncourse.grading import quiet; quiet()
    from cnncourse.grading import check_close
    check_close("Y_diag", Y_diag, corr2d(X_diag, K), hint="compute it with corr2d and K")
"""

from cnncourse.grading.calls import MATRIX_PRODUCTS, check_one_matrix_product, forbid_calls, torch_calls
from cnncourse.grading.checks import check_close, check_shape, check_tensor_like, quiet
from cnncourse.grading.choices import answer_digest, check_choice, normalise_answer
from cnncourse.grading.diagonal import check_diagonal_edges, diagonal_edge_problem

__all__ = [
    "quiet",
    "normalise_answer",
    "answer_digest",
    "check_choice",
    "check_tensor_like",
    "check_shape",
    "check_close",
    "diagonal_edge_problem",
    "check_diagonal_edges",
    "torch_calls",
    "forbid_calls",
    "MATRIX_PRODUCTS",
    "check_one_matrix_product",
]
