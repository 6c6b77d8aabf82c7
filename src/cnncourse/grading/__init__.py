"""Checks used inside the autograded test cells of the course assignments (Sections 7.1-8.6).

Every check raises ``AssertionError`` with a message that says what is wrong and where to
look, never what the expected answer is. Multiple-choice answers are compared through a
salted hash (:func:`answer_digest`), so not even the source of a test shows the letter.

Every check looks at *what* a student's code returns, never at how it computed it: the kernel
that ran the student's code can be made to report anything about itself, so where a question is
about a method the student returns what the method produces (a matrix, the windows, a list of
layers) and the check recomputes the rest itself.

Modules, by job: :mod:`.checks` (tensors, shapes, values), :mod:`.choices` (answers to
questions), :mod:`.modules` (blocks built from torch.nn, layer specifications), and the
problem-specific checkers :mod:`.diagonal`, :mod:`.differences`, :mod:`.products`,
:mod:`.pooling` and :mod:`.normalization`. :mod:`.observe` calls a student's function wherever it
lives and can read its arguments back: test cells are graded in a clean kernel where student
names arrive as safe data or stand-ins (what runs inside the grading kernels is
:mod:`cnncourse.grading_kernels`, never imported by test cells). :mod:`.feedback` is not for test
cells either: it is the grader's nbgrader preprocessor that hides hidden tests in feedback.

Typical test cell::

    from cnncourse.grading import quiet; quiet()
    from cnncourse.grading import check_close
    check_close("Y_diag", Y_diag, corr2d(X_diag, K), hint="compute it with corr2d and K")
"""

from cnncourse.grading.checks import check_close, check_shape, check_tensor_like, quiet
from cnncourse.grading.choices import answer_digest, check_choice, check_letter, normalise_answer
from cnncourse.grading.diagonal import check_diagonal_edges, diagonal_edge_problem
from cnncourse.grading.differences import check_difference_kernel, difference_kernel_problem
from cnncourse.grading.modules import (
    MAX_SPEC_PARAMETERS,
    SPEC_LAYERS,
    build_layers,
    check_layers,
    forward_or_explain,
    layers_of,
    parameter_count,
    rebuild,
    same_forward,
)
from cnncourse.grading.normalization import call_batch_norm, random_batch_norm_inputs, reference_batch_norm
from cnncourse.grading.observe import Observation, observe
from cnncourse.grading.pooling import check_pad_fill, check_pool_windows, reference_windows, torch_pool
from cnncourse.grading.products import check_corr2d_matrix, check_corr2d_matrix_product, tensor_values

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
    "Observation",
    "observe",
    "tensor_values",
    "check_corr2d_matrix_product",
    "check_corr2d_matrix",
    "torch_pool",
    "reference_windows",
    "check_pad_fill",
    "check_pool_windows",
    "reference_batch_norm",
    "random_batch_norm_inputs",
    "call_batch_norm",
    "parameter_count",
    "forward_or_explain",
    "check_layers",
    "same_forward",
    "SPEC_LAYERS",
    "MAX_SPEC_PARAMETERS",
    "build_layers",
    "layers_of",
    "rebuild",
]
