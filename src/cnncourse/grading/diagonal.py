"""Problem-specific checker: does an image have diagonal edges (Section 7.2, exercise 1)?
"""

from __future__ import annotations

import torch

__all__ = ["diagonal_edge_problem", "check_diagonal_edges"]


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
        return f"X_diag should be a torch.Tensor, but it is a {X.__class__.__name__}"
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
