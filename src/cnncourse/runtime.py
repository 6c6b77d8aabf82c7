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

How long each notebook takes in each mode was measured once, on the course machine (2 CPU cores,
no GPU), by ``benchmarks/bench_laptop_mode.py``; :data:`RUN_TIMES` is the one home of those
figures: every notebook's first cell prints its line (:func:`expected_time`), the start page the
whole table (:func:`run_time_table`), and a test checks that ``benchmarks/README.md`` shows the same.

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
           "in_notebook", "default_device", "evaluation_mode", "RunTime", "RUN_TIMES", "TIMED_ON",
           "expected_time", "run_time_table"]

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


@dataclasses.dataclass(frozen=True)
class RunTime:
    """How long one notebook took, run top to bottom headless on the course machine (Section 7.6).

    Attributes:
        notebook: the file name without ``.ipynb``.
        quick: minutes in quick mode (on the offline digits, as in CI).
        laptop_digits: minutes in laptop mode on the offline digits (no Fashion-MNIST cache, no network).
        laptop_fashion: minutes in laptop mode with a full-size Fashion-MNIST cache (60,000 training and
            10,000 validation images); None for a notebook that trains on no dataset.
        accuracy: the final validation accuracy of laptop mode on the offline digits; None for a
            notebook that trains on no dataset.
    """

    notebook: str
    quick: float
    laptop_digits: float
    laptop_fashion: float | None = None
    accuracy: float | None = None


TIMED_ON = "a 2-core CPU without a GPU"
# Minutes on the course machine (2 cores, no GPU), from benchmarks/bench_laptop_mode.py; the README
# there says when and how busy the machine was. Laptop mode on Fashion-MNIST (a full-size stand-in)
# was timed end to end for every training notebook (VGG at load average 2.5-2.9, so pessimistically).
# Book mode is not timed: the course machine has no GPU.
RUN_TIMES: tuple[RunTime, ...] = (
    RunTime("00_start_here", 0.05, 0.05),
    RunTime("07_1_from_dense_to_conv", 0.07, 0.06),
    RunTime("07_2_conv_for_images", 0.08, 0.12),
    RunTime("07_3_padding_and_stride", 0.12, 0.11),
    RunTime("07_4_channels", 0.12, 0.08),
    RunTime("07_5_pooling", 0.10, 0.06),
    RunTime("07_6_lenet", 0.29, 0.23, 2.9, 0.969),
    RunTime("08_1_alexnet", 0.21, 0.27, 2.9, 0.961),
    RunTime("08_2_vgg", 0.35, 0.76, 7.6, 0.964),
    RunTime("08_3_nin", 0.43, 0.35, 2.5, 0.972),
    RunTime("08_4_googlenet", 0.31, 0.38, 3.9, 0.953),
    RunTime("08_5_batch_norm", 0.17, 0.18, 2.1, 0.931),
    RunTime("08_6_resnet", 0.16, 0.23, 3.5, 0.953),
)


def _run_time(notebook: str) -> RunTime:
    for entry in RUN_TIMES:
        if entry.notebook == notebook:
            return entry
    names = ", ".join(entry.notebook for entry in RUN_TIMES)
    raise ValueError(f"expected_time: no measured time for notebook {notebook!r}; expected one of {names}")


def _minutes(minutes: float) -> str:
    if minutes < 1:
        return "under a minute"
    whole = int(minutes + 0.5)  # half up: "about 5 minutes" for 4.5
    return f"about {whole} minute{'s' if whole != 1 else ''}"


def expected_time(notebook: str, mode: str | None = None) -> str:
    """One line saying how long ``notebook`` takes in ``mode``, from :data:`RUN_TIMES` (Section 7.6).

    Every notebook's first cell prints it, so a student knows before pressing Run All.

    Args:
        notebook: the file name without ``.ipynb``, e.g. ``"08_2_vgg"``.
        mode: ``"book"``, ``"laptop"`` or ``"quick"``; None asks :func:`course_mode` (a notebook
            that trains on no dataset takes the same time in every mode and never asks).

    Raises:
        ValueError: an unknown notebook or mode.
    """
    entry = _run_time(notebook)
    source = f"on {TIMED_ON} (how it was measured: benchmarks/README.md)"
    if entry.laptop_fashion is None:
        return f"{notebook}: {_minutes(max(entry.quick, entry.laptop_digits))} in any mode, {source}"
    mode = course_mode() if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"expected_time: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "quick":
        return f"quick mode: {_minutes(entry.quick)} {source}"
    if mode == "laptop":
        return (f"laptop mode: {_minutes(entry.laptop_fashion)} with Fashion-MNIST, "
                f"{_minutes(entry.laptop_digits)} with the offline digits, {source}")
    return (f"book mode: not timed (the course machine has no GPU); laptop mode takes "
            f"{_minutes(entry.laptop_fashion)} {source}")


def run_time_table() -> str:
    """:data:`RUN_TIMES` as a printed table, minutes on :data:`TIMED_ON` (Section 7.6)."""
    from cnncourse.tables import format_table

    def shown(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    rows = [(e.notebook, shown(e.quick, ".1f"), shown(e.laptop_digits, ".1f"), shown(e.laptop_fashion, ".1f"),
             shown(e.accuracy, ".3f")) for e in RUN_TIMES]
    headers = ["notebook", "quick", "laptop, digits", "laptop, Fashion-MNIST", "accuracy (laptop, digits)"]
    return (f"Minutes per notebook on {TIMED_ON}, top to bottom (book mode needs a GPU and was not timed):\n"
            + format_table(headers, rows, align="<>>>>"))
