"""How the course is running: its mode, inside Jupyter or not, which device, eval mode (Section 7.6).

Several modules ask these questions, so they are answered once, here. The training chapters
(Sections 7.6 and 8.1-8.6) run in one of three modes, chosen by :func:`choose_mode`:

- ``"book"``: the book's settings (full data, its image sizes, optimisers, learning rates and
  epochs); the default when a CUDA GPU is present.
- ``"laptop"``: every architecture keeps its blocks, their order and its kinds of layers, with
  channel widths and image size scaled down by a factor each notebook states, and an optimiser
  that trains the smaller network quickly; the default on a machine without a CUDA GPU.
- ``"quick"``: the tests' mode: a small subset (Fashion-MNIST when cached, else the offline
  digits; never a download), a few epochs.

The module imports only the standard library, so anything may import it cheaply; IPython and
torch are imported inside the functions that need them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["QUICK_ENV", "MODE_ENV", "MODES", "CourseMode", "quick_mode", "choose_mode", "course_mode",
           "in_notebook", "default_device", "evaluation_mode"]

QUICK_ENV = "CNNCOURSE_QUICK"
MODE_ENV = "CNNCOURSE_MODE"
MODES = ("book", "laptop", "quick")
_TRUE = {"1", "true", "yes", "on"}


@dataclasses.dataclass(frozen=True)
class CourseMode:
    """The mode the training chapters run in, and why it was chosen (Section 7.6).

    Attributes:
        name: ``"book"``, ``"laptop"`` or ``"quick"``.
        reason: one sentence saying why, and how to choose another mode.
    """

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} mode: {self.reason}"


def _quick_env() -> bool:
    return os.environ.get(QUICK_ENV, "").strip().lower() in _TRUE


def _mode_env() -> str | None:
    """The mode ``CNNCOURSE_MODE`` forces, or None when it is unset or empty."""
    value = os.environ.get(MODE_ENV, "").strip().lower()
    if not value:
        return None
    if value not in MODES:
        raise ValueError(f"choose_mode: {MODE_ENV} must be one of {', '.join(MODES)}, got "
                         f"{os.environ[MODE_ENV]!r}; unset it to let the hardware decide")
    return value


def quick_mode() -> bool:
    """Whether notebooks should run small and fast (Section 7.6).

    True when ``CNNCOURSE_QUICK`` is "1" or "true" (CI and the notebook tests set it) or
    ``CNNCOURSE_MODE`` is "quick"; chapter notebooks and the data loaders then shrink epochs
    and data.
    """
    return _quick_env() or os.environ.get(MODE_ENV, "").strip().lower() == "quick"


def choose_mode() -> CourseMode:
    """Pick the training chapters' mode and say why (Section 7.6).

    ``CNNCOURSE_QUICK=1`` means quick, as it always has; otherwise ``CNNCOURSE_MODE`` forces
    ``book``, ``laptop`` or ``quick``; otherwise the hardware decides: ``book`` when
    ``torch.cuda.is_available()``, else ``laptop``.

    Raises:
        ValueError: when ``CNNCOURSE_MODE`` names no mode.
    """
    forced = _mode_env()
    if _quick_env():
        return CourseMode("quick", f"{QUICK_ENV}=1 (tests and CI): a small subset (Fashion-MNIST when "
                                   "cached, else the offline digits) and a few epochs")
    if forced is not None:
        others = ", ".join(m for m in MODES if m != forced)
        return CourseMode(forced, f"{MODE_ENV}={forced} forces it (other modes: {others})")
    import torch

    if torch.cuda.is_available():
        return CourseMode("book", f"a CUDA GPU was found ({torch.cuda.get_device_name(0)}); "
                                  f"set {MODE_ENV}=laptop for the smaller, faster networks")
    return CourseMode("laptop", f"no CUDA GPU found; set {MODE_ENV}=book for the book's settings")


def course_mode() -> str:
    """The mode :func:`choose_mode` picks: ``"book"``, ``"laptop"`` or ``"quick"`` (Section 7.6)."""
    return choose_mode().name


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


@contextmanager
def evaluation_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Switch ``model`` to eval mode for a block, then restore every submodule's mode (Section 7.6).

    Dropout is off and batch norm uses its running statistics inside the block. Afterwards each
    submodule gets back exactly the mode it had, even when the block raises, so a model that was
    partly frozen in eval mode (say, a pretrained body under a training head) stays that way.
    """
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes.items():
            module.training = training
