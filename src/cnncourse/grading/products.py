"""Problem-specific checker: is a computation one matrix product? (Sections 7.2 and 7.4).

Counting calls is not enough (a loop of window sums plus one dummy product has one call), so
the check looks at the product itself: every output entry must come out of it, and its two
factors must be a matrix made from the kernel alone and a matrix made from the input alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from cnncourse.grading.observe import Observation, observe

__all__ = ["check_matrix_product"]


def _record(fn: Callable[..., Any], X: torch.Tensor, K: torch.Tensor, refuse: Sequence[str],
            hint: str) -> Observation:
    return observe(fn, X, K, refuse=refuse, hint=hint, record=True)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.equal(a, b)


def check_matrix_product(name: str, fn: Callable[..., Any], X: torch.Tensor, K: torch.Tensor,
                         refuse: Sequence[str] = (), hint: str = "") -> Any:
    """Check that ``fn(X, K)`` computes its whole output with one product of a K-matrix and an X-matrix.

    ``fn`` is called three times: on ``(X, K)``, on a different input with the same kernel and on
    the same input with a different kernel. It passes when it makes exactly one matrix product,
    no convolution, the product's entries are the output's entries, one factor changes only
    with the kernel and the other only with the input.

    Returns:
        The result of ``fn(X, K)``, for further checks.

    Raises:
        AssertionError: naming what is wrong with the product, never the expected matrix.
    """
    generator = torch.Generator().manual_seed(7207)
    first = _record(fn, X, K, refuse, hint)
    result = first.result
    if first.convolutions:
        raise AssertionError(f"{name} calls {', '.join(sorted(set(first.convolutions)))}; "
                             "build the matrix product yourself")
    if not first.products:
        raise AssertionError(f"{name} performs no matrix product (@, torch.matmul, torch.mm, torch.mv, ...); "
                             "the exercise asks for the whole computation as one matrix product")
    if len(first.products) > 1:
        raise AssertionError(f"{name} performs {len(first.products)} matrix products for one input; arrange "
                             "the numbers so that a single product computes every output entry at once")
    _, factors, product = first.products[0]
    if not isinstance(result, torch.Tensor) or product.numel() != result.numel() or not torch.allclose(
            product.reshape(-1).sort().values.to(torch.float64),
            result.detach().reshape(-1).sort().values.to(torch.float64), rtol=1e-4, atol=1e-5):
        raise AssertionError(f"the matrix product in {name} does not produce the output: every output entry "
                             "must be an entry of the product's result, not computed some other way")
    other_X = X + 0.5 + torch.rand(X.shape, generator=generator, dtype=X.dtype)  # every entry differs
    other_K = K + 0.5 + torch.rand(K.shape, generator=generator, dtype=K.dtype)
    new_X = _record(fn, other_X, K, refuse, hint)
    new_K = _record(fn, X, other_K, refuse, hint)
    if len(new_X.products) != 1 or len(new_K.products) != 1:
        raise AssertionError(f"{name} makes a different number of matrix products for other values of X or "
                             "K; one product must do the work whatever the numbers are")
    with_X, with_K = new_X.products[0][1], new_K.products[0][1]
    roles = [(index >= len(with_X) or not _same(factor, with_X[index]),  # (changes with X, with K)
              index >= len(with_K) or not _same(factor, with_K[index]))
             for index, factor in enumerate(factors)]
    if (True, True) in roles:
        raise AssertionError(f"one factor of the matrix product in {name} changes with both X and K, so "
                             "part of the multiply-adds happened before the product; multiply a matrix made "
                             "from K alone by one made from X alone (or the other way round)")
    if sorted(roles) != [(False, True), (True, False)]:
        raise AssertionError(f"the matrix product in {name} does not multiply numbers of K by numbers of X: "
                             "one factor must be made from K alone and the other from X alone")
    return result
