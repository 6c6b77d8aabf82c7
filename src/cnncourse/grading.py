"""Checks used inside the autograded test cells of the course assignments (Sections 7.1-8.6).

Every check raises ``AssertionError`` with a message that says what is wrong and where to
look, never what the expected answer is. Multiple-choice answers are compared through a
salted hash (:func:`answer_digest`), so a released notebook does not contain the letter.

Typical test cell::

    from cnncourse.grading import quiet; quiet()
    from cnncourse.grading import check_close
    check_close("Y_diag", Y_diag, corr2d(X_diag, K), hint="compute it with corr2d and K")
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

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


def quiet() -> None:
    """Silence Python warnings for the rest of the session.

    nbgrader gives a test cell zero points when anything reaches stderr, so a harmless
    deprecation warning from PyTorch must not be printed while a test runs.
    """
    warnings.simplefilter("ignore")


def _canonical_number(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    if float(x).is_integer():
        return str(int(x))
    return format(x, ".9g")


def normalise_answer(value: object) -> str:
    """Turn an answer into a canonical string: ``" b) "`` -> ``"B"``, ``2.0`` -> ``"2"``.

    Raises:
        TypeError: for values that are not strings, numbers or one-element tensors.
    """
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"expected a single value, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, (int, float)):
        return _canonical_number(float(value))
    if isinstance(value, str):
        text = value.strip().strip("()[].:'\" ").strip().upper()
        try:
            return _canonical_number(float(text))
        except ValueError:
            return text
    raise TypeError(f"expected a letter or a number, got {type(value).__name__}")


def answer_digest(value: object, salt: str) -> str:
    """The sha256 hex digest of ``salt`` and the normalised answer (what a test cell stores)."""
    text = f"{salt}\x00{normalise_answer(value)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_choice(name: str, value: object, digest: str, hint: str = "", choices: str | None = None) -> None:
    """Check a multiple-choice (or numeric) answer against a digest made by :func:`answer_digest`.

    Args:
        name: the variable's name, also the salt of the digest.
        value: the student's answer.
        digest: ``answer_digest(correct_answer, salt=name)``.
        hint: where to look when the answer is wrong.
        choices: the allowed letters, e.g. ``"ABCD"``; anything else is rejected as malformed.
    """
    try:
        answer = normalise_answer(value)
    except TypeError as error:
        raise AssertionError(f"{name} should be one letter such as 'A' ({error})") from None
    if choices is not None and answer not in tuple(choices):  # a letter, not a substring ("AB")
        allowed = ", ".join(choices)
        raise AssertionError(f"{name} should be one of the letters {allowed}; got {value!r}")
    if answer_digest(answer, salt=name) != digest:
        raise AssertionError(f"{name} = {value!r} is not the right choice. {hint}".rstrip())


def _shape_of(value: object) -> tuple[int, ...]:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    return tuple(int(n) for n in value)  # a torch.Size or a tuple


def check_tensor_like(name: str, value: object, shape: Sequence[int] | None = None,
                      dtype_floating: bool = True, ndim: int | None = None) -> None:
    """Check that ``value`` is a tensor (floating point, of a given rank or shape)."""
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{name} should be a torch.Tensor, but it is a {type(value).__name__}")
    if ndim is not None and value.dim() != ndim:
        raise AssertionError(f"{name} should be a {ndim}-D tensor, but it has shape {tuple(value.shape)}")
    if shape is not None:
        check_shape(name, value, shape)
    if dtype_floating and not value.is_floating_point():
        raise AssertionError(
            f"{name} has dtype {value.dtype}; use floating-point numbers (e.g. torch.float32 via .float())"
        )


def check_shape(name: str, actual: object, expected: object, hint: str = "") -> None:
    """Check a shape; ``actual``/``expected`` are tensors or shapes, ``hint`` explains the target."""
    got, want = _shape_of(actual), _shape_of(expected)
    if got != want:
        raise AssertionError(f"{name} has shape {got} but should have shape {want}. {hint}".rstrip())


def check_close(name: str, actual: object, expected: torch.Tensor, hint: str = "",
                atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Check a tensor's shape, then its values, against ``expected``.

    The message counts the wrong entries and names the first one, but never prints
    the expected values.
    """
    check_tensor_like(name, actual, dtype_floating=False)
    check_shape(name, actual, expected, hint)
    got = actual.detach().to(torch.float64)
    want = expected.detach().to(torch.float64)
    bad = ~torch.isclose(got, want, rtol=rtol, atol=atol)
    if bad.any():
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise AssertionError(
            f"{name} has the right shape {tuple(got.shape)}, but {int(bad.sum())} of {got.numel()} "
            f"entries are wrong (the first at index {first}). {hint}".rstrip()
        )


def _run_lengths(edges: torch.Tensor, across: torch.Tensor, step: int) -> torch.Tensor:
    """Length of the longest diagonal run through each edge pixel.

    A run moves one row down and ``step`` (+1 or -1) columns to the side per pixel, and
    consecutive pixels respond with the same sign and a similar strength.
    """
    height, width = edges.shape
    linked = torch.zeros_like(edges)  # linked[i, j]: (i, j) continues into (i + 1, j + step)
    src = slice(0, width - 1) if step == 1 else slice(1, width)
    dst = slice(1, width) if step == 1 else slice(0, width - 1)
    a, b = across[:-1, src], across[1:, dst]
    similar = (a * b > 0) & (a.abs() <= 2 * b.abs()) & (b.abs() <= 2 * a.abs())
    linked[:-1, src] = edges[:-1, src] & edges[1:, dst] & similar
    before = edges.long()  # pixels in the run up to and including this one
    for i in range(1, height):
        prev = torch.zeros(width, dtype=torch.long)
        prev[dst] = torch.where(linked[i - 1, src], before[i - 1, src], 0)
        before[i] = torch.where(edges[i], prev + 1, 0)
    after = edges.long()  # pixels in the run from this one on
    for i in range(height - 2, -1, -1):
        nxt = torch.zeros(width, dtype=torch.long)
        nxt[src] = torch.where(linked[i, src], after[i + 1, dst], 0)
        after[i] = torch.where(edges[i], nxt + 1, 0)
    return before + after - 1


def diagonal_edge_problem(X: object, min_size: int = 6, min_run: int = 3) -> str | None:
    """Why ``X`` is not an image with diagonal edges (Section 7.2, exercise 1), or None if it is.

    ``X`` qualifies when it is a 2-D floating-point tensor of at least ``min_size`` pixels
    per side, it changes between horizontal and between vertical neighbours, and at least
    half of the places where the edge kernel ``[[1, -1]]`` responds lie on diagonal runs:
    the response moves one column sideways per row for at least ``min_run`` rows, with
    the same sign and a similar strength. A smooth ramp (the same response everywhere)
    does not count as an edge.
    """
    if not isinstance(X, torch.Tensor):
        return f"X_diag should be a torch.Tensor, but it is a {type(X).__name__}"
    if X.dim() != 2:
        return f"X_diag should be a 2-D image (height, width), but it has shape {tuple(X.shape)}"
    if not X.is_floating_point():
        return f"X_diag has dtype {X.dtype}; build it from floating-point numbers (e.g. add .float())"
    height, width = X.shape
    if height < min_size or width < min_size:
        return f"X_diag has shape {(height, width)}; make it at least {min_size} x {min_size}"
    image = X.detach().to(torch.float64)
    if not torch.isfinite(image).all():
        return "X_diag contains inf or nan values"
    tol = 1e-6 * max(float(image.abs().max()), 1.0)
    across = image[:, :-1] - image[:, 1:]  # what corr2d(X_diag, K) computes, (H, W - 1)
    down = image[:-1, :] - image[1:, :]  # what corr2d(X_diag, K.T) computes, (H - 1, W)
    if (across.abs() <= tol).all():
        return ("corr2d(X_diag, K) is zero everywhere: X_diag never changes between horizontal "
                "neighbours (a constant image or horizontal stripes?). A diagonal edge changes the "
                "intensity along the rows and along the columns.")
    if (down.abs() <= tol).all():
        return ("corr2d(X_diag, K.T) is zero everywhere: X_diag never changes between vertical "
                "neighbours, so its edges are vertical lines. A diagonal edge moves one column "
                "sideways from each row to the next.")
    if ((across - across[0, 0]).abs() <= tol).all():
        return ("corr2d(X_diag, K) has the same value everywhere: X_diag is a smooth ramp, not an "
                "image with an edge between two regions.")
    edges = across.abs() > tol
    on_run = torch.zeros_like(edges)
    for step in (1, -1):
        on_run |= edges & (_run_lengths(edges, across, step) >= min_run)
    share = float(on_run.sum()) / float(edges.sum())
    if share == 0:
        return ("The places where corr2d(X_diag, K) is nonzero do not line up along a diagonal. "
                f"Along a diagonal edge the change moves one column sideways per row for at least "
                f"{min_run} rows; print corr2d(X_diag, K) and look at where the nonzero entries are.")
    if share < 0.5:
        return (f"Only {share:.0%} of the places where corr2d(X_diag, K) is nonzero lie on diagonal "
                "lines; most edges in X_diag are vertical or scattered. Make diagonal edges the main "
                "feature of the image.")
    return None


def check_diagonal_edges(name: str, X: object) -> None:
    """Raise AssertionError unless ``X`` has diagonal edges (criterion: :func:`diagonal_edge_problem`)."""
    problem = diagonal_edge_problem(X)
    if problem is not None:
        raise AssertionError(problem.replace("X_diag", name))


class _Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        self.names.append(getattr(func, "__name__", repr(func)))
        return func(*args, **(kwargs or {}))


def torch_calls(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``fn`` and return its result with the names of the torch functions it called.

    Only the outermost calls are recorded (``X @ W`` is ``"matmul"``, not what it calls inside).
    """
    recorder = _Recorder()
    with recorder:
        result = fn(*args, **kwargs)
    return result, recorder.names


@contextlib.contextmanager
def forbid_calls(names: Sequence[str], *namespaces: dict | ModuleType, hint: str = "") -> Iterator[None]:
    """Within the block, calling any of ``names`` found in ``namespaces`` raises AssertionError.

    A namespace is a dict such as a notebook's ``globals()`` or a module; the original
    objects are put back when the block ends.
    """
    saved: list[tuple[dict, str, object]] = []
    for namespace in namespaces:
        table = vars(namespace) if isinstance(namespace, ModuleType) else namespace
        for name in names:
            if name in table:
                saved.append((table, name, table[name]))

                def refuse(*args: Any, _name: str = name, **kwargs: Any) -> None:
                    raise AssertionError(f"this part must not call {_name}. {hint}".rstrip())

                table[name] = refuse
    try:
        yield
    finally:
        for table, name, original in reversed(saved):
            table[name] = original


# Torch functions that multiply matrices (or vectors), by the name TorchFunctionMode sees.
MATRIX_PRODUCTS = frozenset({
    "matmul", "__matmul__", "__rmatmul__", "mm", "mv", "bmm", "dot", "vdot", "inner", "einsum",
    "tensordot", "linear", "addmm", "addmv", "addbmm", "baddbmm", "multi_dot", "chain_matmul",
})
_CONVOLUTIONS = frozenset({
    "conv1d", "conv2d", "conv3d", "convolution", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d",
})


def check_one_matrix_product(name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Check that ``fn(*args)`` does its work with exactly one matrix product and no convolution op.

    Returns:
        The result of the call, for further checks.
    """
    result, calls = torch_calls(fn, *args)
    convolutions = sorted(set(calls) & _CONVOLUTIONS)
    if convolutions:
        raise AssertionError(f"{name} calls {', '.join(convolutions)}; build the matrix product yourself")
    products = [call for call in calls if call in MATRIX_PRODUCTS]
    if not products:
        raise AssertionError(
            f"{name} performs no matrix product (@, torch.matmul, torch.mm, torch.mv, ...); "
            "the exercise asks for the whole cross-correlation as one matrix product"
        )
    if len(products) > 1:
        raise AssertionError(
            f"{name} performs {len(products)} matrix products for one input; arrange the numbers so "
            "that a single product computes every output entry at once"
        )
    return result
