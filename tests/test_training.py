"""cnncourse.training: fit, evaluate, init_xavier, seeding and the history plot."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from cnncourse import training  # noqa: E402
from cnncourse.training import (  # noqa: E402
    evaluate,
    fit,
    init_xavier,
    plot_history,
    set_seed,
)


def blobs(n: int = 200, seed: int = 0) -> tuple[DataLoader, DataLoader]:
    """Two well separated Gaussian blobs in 2-D: an easy problem a linear model solves."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    X = torch.randn(n, 2, generator=g) * 0.5 + (y[:, None] * 2 - 1) * 2.0  # centres at (-2, -2), (2, 2)
    train = DataLoader(TensorDataset(X[: n // 2], y[: n // 2]), batch_size=16, shuffle=True,
                       generator=torch.Generator().manual_seed(seed))
    val = DataLoader(TensorDataset(X[n // 2:], y[n // 2:]), batch_size=32)
    return train, val


class ModeRecorder(nn.Module):
    """A linear classifier that records whether it ran in train or eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.modes: list[bool] = []

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return self.linear(X)


# ---------------------------------------------------------------- small helpers


def test_set_seed_makes_torch_repeatable():
    set_seed(7)
    a = torch.rand(3)
    set_seed(7)
    assert torch.equal(a, torch.rand(3))
    with pytest.raises(TypeError, match="seed must be an int"):
        set_seed(1.5)


def test_init_xavier_uses_the_xavier_uniform_bound():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 5), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(300, 100))
    bias_before = net[3].bias.clone()
    conv_before = net[0].weight.clone()
    net.apply(init_xavier)
    linear_bound = math.sqrt(6 / (300 + 100))
    conv_bound = math.sqrt(6 / (3 * 25 + 8 * 25))
    for weight, bound in ((net[3].weight, linear_bound), (net[0].weight, conv_bound)):
        assert weight.abs().max() <= bound
        assert weight.abs().max() > 0.95 * bound  # fills the range, unlike PyTorch's default
    assert not torch.equal(net[0].weight, conv_before)
    assert torch.equal(net[3].bias, bias_before)
    assert torch.equal(net[1].weight, torch.ones(8))  # BatchNorm is not touched


# ---------------------------------------------------------------- evaluate


def test_evaluate_matches_hand_computation_with_uneven_batches():
    model = nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
    X = torch.tensor([[2.0, 0.0], [0.0, 2.0], [-1.0, -1.0], [3.0, 1.0], [0.0, 5.0]])
    y = torch.tensor([0, 1, 2, 1, 0])  # predictions are 0, 1, 2, 0, 1: three of five right
    loader = DataLoader(TensorDataset(X, y), batch_size=3)  # batches of 3 and 2
    loss, acc = evaluate(model, loader, device="cpu")
    assert acc == pytest.approx(3 / 5)
    assert loss == pytest.approx(F.cross_entropy(model(X), y).item(), rel=1e-6)


def test_evaluate_uses_eval_mode_and_restores_it():
    model = ModeRecorder()
    _, val = blobs()
    model.train()
    evaluate(model, val)
    assert set(model.modes) == {False} and model.training
    model.eval()
    evaluate(model, val)
    assert not model.training


def test_evaluate_restores_train_mode_when_the_model_raises():
    model = nn.Linear(2, 2)
    model.train()
    bad = [(torch.zeros(3, 5), torch.zeros(3, dtype=torch.int64))]  # 5 features for a 2-input layer
    with pytest.raises(RuntimeError):
        evaluate(model, bad)
    assert model.training


def test_evaluate_empty_loader_is_an_error():
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64)), batch_size=4)
    with pytest.raises(ValueError, match="no examples"):
        evaluate(nn.Linear(2, 2), empty)


# ---------------------------------------------------------------- fit


def test_fit_returns_history_and_learns_a_tiny_problem():
    train, val = blobs()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    history = fit(model, train, val, epochs=5, lr=0.1, progress=False)
    assert set(history) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    assert all(len(v) == 5 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_loss"][-1] < 0.2 and history["val_acc"][-1] >= 0.95
    assert history["val_loss"][-1] == pytest.approx(evaluate(model, val)[0])


def test_fit_is_repeatable_with_a_seed():
    runs = []
    for _ in range(2):
        train, val = blobs()
        set_seed(1)
        model = nn.Linear(2, 2)
        runs.append(fit(model, train, val, epochs=2, lr=0.05, seed=3, progress=False))
    assert runs[0] == runs[1]


def test_fit_switches_between_train_and_eval_mode():
    train, val = blobs(n=64)
    model = ModeRecorder()
    fit(model, train, val, epochs=1, lr=0.1, progress=False)
    n_train, n_val = len(train), len(val)
    assert model.modes == [True] * n_train + [False] * n_val


def test_fit_accepts_an_optimizer_class_or_instance():
    train, val = blobs()
    model = nn.Linear(2, 2)
    h = fit(model, train, val, epochs=2, lr=0.05, optimizer=torch.optim.Adam, progress=False)
    assert h["val_acc"][-1] >= 0.9
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the weights must not move
    before = model.weight.clone()
    fit(model, train, val, epochs=1, lr=123.0, optimizer=opt, progress=False)
    assert torch.equal(model.weight, before)


def test_fit_rejects_bad_arguments():
    train, val = blobs()
    with pytest.raises(ValueError, match="fit: epochs must be >= 1, got 0"):
        fit(nn.Linear(2, 2), train, val, epochs=0, lr=0.1)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        fit(nn.Linear(2, 2), train, val, epochs=1, lr=-1.0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit(lambda X: X, train, val, epochs=1, lr=0.1)
    with pytest.raises(TypeError, match="optimizer must be None"):
        fit(nn.Linear(2, 2), train, val, epochs=1, lr=0.1, optimizer="sgd")


def test_fit_progress_goes_to_stdout_not_stderr(capsys):
    train, val = blobs()
    fit(nn.Linear(2, 2), train, val, epochs=2, lr=0.1, progress=True)
    out, err = capsys.readouterr()
    assert "epoch 2/2" in out and "val_acc=" in out
    assert err == ""


def test_fit_without_progress_prints_nothing(capsys):
    train, val = blobs()
    fit(nn.Linear(2, 2), train, val, epochs=1, lr=0.1, progress=False)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------- plots


def test_plot_history_draws_every_curve():
    history = {"train_loss": [2.0, 1.0, 0.5], "val_loss": [2.1, 1.2, 0.8], "val_acc": [0.3, 0.6, 0.8]}
    fig = plot_history(history)
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert sorted(lines) == ["train loss", "val acc", "val loss"]
    assert list(lines["val acc"].get_xdata()) == [1, 2, 3]
    assert list(lines["val acc"].get_ydata()) == [0.3, 0.6, 0.8]
    assert plt.get_fignums() == []  # made without pyplot: nothing to close
    with pytest.raises(ValueError, match="history has none of"):
        plot_history({"lr": [0.1]})


@pytest.mark.parametrize("epochs", [1, 2, 3, 7, 30])
def test_plot_history_labels_the_epoch_axis_with_whole_numbers(epochs):
    fig = plot_history({"train_loss": [1.0 / (k + 1) for k in range(epochs)]})
    (ax,) = fig.axes
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks, "the epoch axis has no ticks"
    assert all(float(t).is_integer() for t in ticks), f"non-integer epoch ticks {ticks}"


def test_fit_plot_headless_leaves_one_pyplot_figure():
    plt.close("all")
    train, val = blobs()
    fit(nn.Linear(2, 2), train, val, epochs=2, lr=0.1, progress=False, plot=True)
    try:
        assert len(plt.get_fignums()) == 1
        assert len(plt.gcf().axes[0].get_lines()) == 4
    finally:
        plt.close("all")


def test_fit_plot_in_notebook_updates_one_display_in_place(monkeypatch):
    import IPython.display

    calls = []

    class Handle:
        def update(self, obj):
            calls.append(("update", obj))

    def fake_display(obj, display_id=False):
        calls.append(("display", obj))
        return Handle()

    monkeypatch.setattr(training, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    plt.close("all")
    train, val = blobs()
    fit(nn.Linear(2, 2), train, val, epochs=3, lr=0.1, progress=False, plot=True)
    assert [kind for kind, _ in calls] == ["display", "update", "update"]
    assert len({id(fig) for _, fig in calls}) == 1  # the same figure every time
    assert len(calls[-1][1].axes[0].get_lines()[0].get_xdata()) == 3
    assert plt.get_fignums() == []  # no figure left open in pyplot


# ---------------------------------------------------------------- LeNet on the offline digits


@pytest.fixture
def one_thread():
    """Run on one intra-op thread: on a busy 2-core machine (or beside other pytest workers)
    two spinning threads slow tiny convolutions down tenfold, and LeNet gains nothing from them."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.mark.slow
def test_lenet_learns_the_offline_digits(one_thread):
    """Does the book's LeNet, trained briefly on digits resized to 28x28, beat 90% validation accuracy?"""
    from cnncourse.data import load_data
    from cnncourse.models import LeNet

    train, val = load_data("digits", 32, resize=28, seed=0)
    set_seed(0)
    model = LeNet()
    model.apply(init_xavier)
    # Plain SGD stalls on the sigmoid plateau with only 1,437 images; Adam gets past it quickly.
    history = fit(model, train, val, epochs=10, lr=0.005, optimizer=torch.optim.Adam, seed=0,
                  progress=False)
    assert max(history["val_acc"]) > 0.9, history["val_acc"]
