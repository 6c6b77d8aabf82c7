"""Checks used inside the autograded test cells of the course assignments (Sections 7.1-8.6).

Every check raises ``AssertionError`` with a message that says what is wrong and where to
look, never what the expected answer is. Multiple-choice answers are compared through a
salted hash (:func:`answer_digest`), so not even the source of a test shows the letter.

Modules, by job: :mod:`.checks` (tensors, shapes, values), :mod:`.choices` (answers to
questions), :mod:`.calls` (which torch functions a student's code calls; refusing ready-made
ones under any alias), :mod:`.modules` (blocks built from torch.nn), and the problem-specific
checkers :mod:`.diagonal`, :mod:`.differences`, :mod:`.products`, :mod:`.pooling` and
:mod:`.normalization`. :mod:`.observe` calls a student's function and watches it, wherever it
lives: test cells are graded in a clean kernel (:mod:`.remote`, :mod:`.agent`, :mod:`.wire`)
where student names arrive as safe data or stand-ins.

Typical test cell::

    from cnncourse.grading import quiet; quiet()
    from cnncourse.grading import check_close
    check_close("Y_diag", Y_diag, corr2d(X_diag, K), hint="compute it with corr2d and K")
"""

from cnncourse.grading.calls import (
    CONVOLUTIONS,
    MATRIX_PRODUCTS,
    ProductRecorder,
    forbid_calls,
    no_modules_built,
    ready_made_refused,
    torch_calls,
)
from cnncourse.grading.checks import check_close, check_shape, check_tensor_like, quiet
from cnncourse.grading.choices import answer_digest, check_choice, check_letter, normalise_answer
from cnncourse.grading.diagonal import check_diagonal_edges, diagonal_edge_problem
from cnncourse.grading.differences import check_difference_kernel, difference_kernel_problem
from cnncourse.grading.modules import check_layers, forward_or_explain, parameter_count, same_forward
from cnncourse.grading.normalization import call_batch_norm, random_batch_norm_inputs, reference_batch_norm
from cnncourse.grading.observe import Observation, call_refusing, call_without_modules, observe
from cnncourse.grading.pooling import POOLING_READY_MADE, check_pool, torch_pool
from cnncourse.grading.products import check_matrix_product

__all__ = [
    "quiet",
    "normalise_answer",
    "answer_digest",
    "check_letter",
    "check_choice",
    "check_tensor_like",
    "check_shape",
    "check_close",
    "diagonal_edge_problem",
    "check_diagonal_edges",
    "difference_kernel_problem",
    "check_difference_kernel",
    "torch_calls",
    "forbid_calls",
    "ready_made_refused",
    "no_modules_built",
    "ProductRecorder",
    "Observation",
    "observe",
    "call_refusing",
    "call_without_modules",
    "MATRIX_PRODUCTS",
    "CONVOLUTIONS",
    "check_matrix_product",
    "POOLING_READY_MADE",
    "torch_pool",
    "check_pool",
    "reference_batch_norm",
    "random_batch_norm_inputs",
    "call_batch_norm",
    "parameter_count",
    "forward_or_explain",
    "check_layers",
    "same_forward",
]
