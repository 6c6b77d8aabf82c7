"""Training and evaluation loops shared by every chapter notebook (Sections 7.6 and 8.1-8.6).

``fit`` is the book's ``Trainer.fit`` written as one plain function: minibatch SGD on a
classification loss, one validation pass per epoch, a history dict of per-epoch numbers.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterable

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator
from torch import nn
from tqdm.auto import tqdm

from cnncourse._checks import positive_int
from cnncourse.plotting import NotebookFigure
from cnncourse.runtime import default_device, evaluation_mode, in_notebook, quick_mode

__all__ = [
    "quick_mode",  # re-exported from cnncourse.runtime: notebooks import these from here
    "default_device",
    "evaluation_mode",
    "set_seed",
    "init_xavier",
    "init_he",
    "evaluate",
    "fit",
    "plot_history",
]

History = dict[str, list[float]]
_CURVES = (("train_loss", "train loss", "-"), ("val_loss", "val loss", "--"),
           ("train_acc", "train acc", "-."), ("val_acc", "val acc", ":"))


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and CUDA) (Section 7.6)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"set_seed: seed must be an int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def init_xavier(module: nn.Module) -> None:
    """Xavier-uniform initialise the weights of ``Linear`` and ``Conv2d`` layers (Section 7.6).

    Use it as ``model.apply(init_xavier)``, as the book does for LeNet; other modules and
    all biases are left alone.
    """
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.xavier_uniform_(module.weight)


def init_he(module: nn.Module) -> None:
    """He-normal initialise ``Linear`` and ``Conv2d`` weights and zero their biases (Section 8.1).

    He et al. (2015) scale the weights for ReLU layers, which pass on only half of their
    input's variance; Xavier's rule assumes activations symmetric around zero. The laptop and
    quick modes of Chapter 8 use it for the deep ReLU networks without batch norm (NiN,
    GoogLeNet). Use it as ``model.apply(init_he)``.
    """
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def _check_model(who: str, model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{who}: model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _device_of(device: str | torch.device | None) -> torch.device:
    return default_device() if device is None else torch.device(device)


def evaluate(model: nn.Module, loader: Iterable, loss_fn: Callable | None = None,
             device: str | torch.device | None = None) -> tuple[float, float]:
    """Average loss and accuracy of ``model`` over every example in ``loader`` (Section 7.6).

    The model runs in :func:`evaluation_mode` (dropout off, BatchNorm uses running statistics,
    every submodule's mode restored afterwards); no gradients are computed.

    Args:
        model: a classifier returning logits of shape ``(N, num_classes)``.
        loader: yields ``(X, y)`` batches.
        loss_fn: a mean-reduced loss; default cross-entropy.
        device: where to run; default the model's first parameter's device (or the CPU).

    Returns:
        ``(loss, accuracy)``, both averaged over examples, accuracy in [0, 1].
    """
    _check_model("evaluate", model)
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    if device is None:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    total_loss, correct, count = torch.zeros(()), torch.zeros((), dtype=torch.int64), 0
    with evaluation_mode(model), torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            logits = model(X)  # (N, num_classes)
            total_loss += loss_fn(logits, y).cpu() * len(y)
            correct += (logits.argmax(dim=1) == y).sum().cpu()
            count += len(y)
    if count == 0:
        raise ValueError("evaluate: loader yielded no examples; check the dataset and batch size")
    return total_loss.item() / count, correct.item() / count


def _make_optimizer(optimizer: object, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or lr <= 0:
        raise ValueError(f"fit: lr must be a positive number, got {lr!r}")
    if optimizer is None:
        return torch.optim.SGD(model.parameters(), lr=lr)  # the book's plain minibatch SGD
    if callable(optimizer):
        return optimizer(model.parameters(), lr=lr)
    raise TypeError(f"fit: optimizer must be None, a torch.optim.Optimizer or an optimizer class, "
                    f"got {type(optimizer).__name__}")


def fit(model: nn.Module, train_loader: Iterable, val_loader: Iterable, epochs: int, lr: float,
        optimizer: torch.optim.Optimizer | Callable | None = None, *, loss_fn: Callable | None = None,
        device: str | torch.device | None = None, seed: int | None = None, progress: bool = True,
        plot: bool = False) -> History:
    """Train a classifier with minibatch SGD and validate it after every epoch (Section 7.6).

    Args:
        model: a classifier returning logits of shape ``(N, num_classes)``.
        train_loader: yields ``(X, y)`` training batches.
        val_loader: yields ``(X, y)`` validation batches.
        epochs: passes over the training data.
        lr: learning rate (ignored when ``optimizer`` is an optimizer instance).
        optimizer: None for plain SGD as in the book, an optimizer class such as
            ``torch.optim.Adam`` (called with ``lr``), or a ready ``torch.optim.Optimizer``.
        loss_fn: a mean-reduced loss; default cross-entropy.
        device: where to train; default CUDA when available, else the CPU. The model is moved.
        seed: seed all generators first (see :func:`set_seed`) for a repeatable run.
        progress: show a tqdm progress bar (a widget in Jupyter, text on stdout elsewhere).
        plot: draw the curves; in Jupyter one figure is updated in place after every epoch,
            elsewhere a pyplot figure is drawn at the end (call ``plt.show()`` to see it).

    Returns:
        A dict of per-epoch lists: ``train_loss`` and ``train_acc`` (averaged over the epoch's
        batches while the weights change, as the book reports them), ``val_loss``, ``val_acc``.
    """
    _check_model("fit", model)
    positive_int("fit", "epochs", epochs)
    if seed is not None:
        set_seed(seed)
    device = _device_of(device)
    model.to(device)
    optimizer = _make_optimizer(optimizer, model, lr)
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    history: History = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    live = _LivePlot() if plot and in_notebook() else None
    total = epochs * len(train_loader) if hasattr(train_loader, "__len__") else None
    # tqdm writes to stderr by default; notebook tests fail on anything there
    bar = tqdm(total=total, file=sys.stdout, disable=not progress, unit="batch", dynamic_ncols=True)
    try:
        for epoch in range(epochs):
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            model.train()
            # accumulate on the device; one .item() per epoch instead of one sync per batch
            total_loss = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.int64, device=device)
            count = 0
            for X, y in train_loader:
                X, y = X.to(device), y.to(device)
                logits = model(X)  # (N, num_classes)
                loss = loss_fn(logits, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total_loss += loss.detach() * len(y)
                correct += (logits.detach().argmax(dim=1) == y).sum()
                count += len(y)
                bar.update(1)
            if count == 0:
                raise ValueError("fit: train_loader yielded no examples; check the dataset and batch size")
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history["train_loss"].append(total_loss.item() / count)
            history["train_acc"].append(correct.item() / count)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            bar.set_postfix(loss=f"{history['train_loss'][-1]:.3f}", val_acc=f"{val_acc:.3f}")
            if live is not None:
                live.update(history)
    finally:
        bar.close()
    if plot and live is None:
        plot_history(history, ax=plt.figure(figsize=(5, 3.5)).add_subplot())
    return history


class _LivePlot:
    """One figure shown once in a notebook and redrawn in place after each epoch."""

    def __init__(self) -> None:
        # A Figure made without pyplot is never registered with it: nothing to close, nothing leaks.
        self.fig = NotebookFigure(figsize=(5, 3.5))
        self.ax = self.fig.add_subplot()
        self.handle = None

    def update(self, history: History) -> None:
        from IPython.display import display

        self.ax.clear()
        plot_history(history, ax=self.ax)
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)


def plot_history(history: History, ax: Axes | None = None) -> NotebookFigure:
    """Plot the per-epoch curves that :func:`fit` returns (Section 7.6).

    Args:
        history: a dict of equal-length lists, such as ``fit``'s result; the keys
            ``train_loss``, ``val_loss``, ``train_acc`` and ``val_acc`` are drawn when present.
        ax: the axes to draw on; default a new figure (made without pyplot, so it shows when
            it is the value of a notebook cell and never accumulates in pyplot).

    Returns:
        The figure holding the plot.
    """
    if not isinstance(history, dict):
        raise TypeError(f"plot_history: history must be a dict of lists, got {type(history).__name__}")
    curves = [(key, label, style) for key, label, style in _CURVES if history.get(key)]
    if not curves:
        raise ValueError(f"plot_history: history has none of {[key for key, _, _ in _CURVES]} "
                         f"with values, got keys {sorted(history)}")
    if ax is None:
        ax = NotebookFigure(figsize=(5, 3.5)).add_subplot()
    for key, label, style in curves:
        values = history[key]
        ax.plot(range(1, len(values) + 1), values, style, label=label)
    ax.set_xlabel("epoch")
    # integer ticks: no "epoch 1.5"; min_n_ticks=1 keeps the single tick of a one-epoch run whole
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax.figure
