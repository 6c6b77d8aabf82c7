"""How the course is running: quick mode, inside Jupyter or not, which device (Section 7.6).

Several modules ask these questions, so they are answered once, here. The module imports only
the standard library, so anything may import it cheaply; IPython and torch are imported inside
the functions that need them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["QUICK_ENV", "quick_mode", "in_notebook", "default_device"]

QUICK_ENV = "CNNCOURSE_QUICK"
_TRUE = {"1", "true", "yes", "on"}


def quick_mode() -> bool:
    """Whether notebooks should run small and fast: ``CNNCOURSE_QUICK`` is "1" or "true" (Section 7.6).

    CI and the notebook tests set it; chapter notebooks use it to shrink epochs and data.
    """
    return os.environ.get(QUICK_ENV, "").strip().lower() in _TRUE


def in_notebook() -> bool:
    """True inside a running Jupyter kernel, where figures and widgets can be updated in place.

    Plain Python, pytest and a terminal IPython all answer False.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is a dependency, but the question has an answer without it
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def default_device() -> torch.device:
    """The first CUDA GPU when there is one, else the CPU (Section 7.6)."""
    import torch

    return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
