"""Benchmarks for cnncourse.training.fit; prints numbers, asserts nothing.

1. Overhead of ``fit`` against a bare SGD loop doing the same work (training steps plus one
   validation pass per epoch) on the same model, data and epochs.
2. Wall-clock seconds for the book's LeNet to reach 95% validation accuracy on the offline
   digits (resized to 28x28), including loading the data.

Run: ``.venv/bin/python benchmarks/bench_training.py [--threads N] [--sgd]``
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import time

import torch
from torch import nn

from cnncourse.data import load_data
from cnncourse.models import LeNet
from cnncourse.training import evaluate, fit, init_xavier, set_seed


def bare_loop(model: nn.Module, train_loader, val_loader, epochs: int, lr: float) -> float:
    """The loop fit replaces, written out: SGD steps, then a validation pass, per epoch."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        for X, y in train_loader:
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        correct = count = 0
        with torch.no_grad():
            for X, y in val_loader:
                correct += (model(X).argmax(dim=1) == y).sum().item()
                count += len(y)
    return correct / count


def overhead(epochs: int = 3, repeats: int = 3) -> None:
    train_loader, val_loader = load_data("digits", 64, resize=28)
    set_seed(0)
    start = LeNet()
    start.apply(init_xavier)
    timings: dict[str, list[float]] = {"bare loop": [], "fit": [], "fit + progress bar": []}
    for _ in range(repeats):  # interleaved, best of N: robust to a noisy machine
        for name in timings:
            model = copy.deepcopy(start)
            t = time.perf_counter()
            if name == "bare loop":
                bare_loop(model, train_loader, val_loader, epochs, lr=0.9)
            else:
                with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                    fit(model, train_loader, val_loader, epochs, lr=0.9, device="cpu",
                        progress=name != "fit")
            timings[name].append(time.perf_counter() - t)
    base = min(timings["bare loop"])
    print(f"[1] fit vs bare loop: LeNet, digits 28x28, batch 64, {epochs} epochs, best of {repeats}")
    for name, values in timings.items():
        print(f"    {name:20s} {min(values):7.3f} s   overhead {100 * (min(values) / base - 1):+6.1f}%")


def time_to_accuracy(optimizer_name: str, lr: float, batch_size: int, target: float = 0.95,
                     max_epochs: int = 30) -> None:
    t0 = time.perf_counter()
    train_loader, val_loader = load_data("digits", batch_size, resize=28, seed=0)
    set_seed(0)
    model = LeNet()
    model.apply(init_xavier)
    make = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[optimizer_name]
    optimizer = make(model.parameters(), lr=lr)
    t_data = time.perf_counter() - t0
    accs = []
    for _ in range(max_epochs):
        history = fit(model, train_loader, val_loader, 1, lr, optimizer, device="cpu", progress=False)
        accs.append(history["val_acc"][-1])
        if accs[-1] >= target:
            break
    wall = time.perf_counter() - t0
    reached = accs[-1] >= target
    verdict = f"reached {target:.0%} after {len(accs)} epochs" if reached else \
        f"did NOT reach {target:.0%} in {max_epochs} epochs (best {max(accs):.3f})"
    print(f"[2] LeNet on digits 28x28, {optimizer_name} lr {lr}, batch {batch_size}, Xavier init: {verdict}; "
          f"{wall:.2f} s wall ({t_data:.2f} s loading data); final val acc {accs[-1]:.3f}, "
          f"evaluate() agrees: {evaluate(model, val_loader)[1]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--sgd", action="store_true", help="also time the book's plain SGD (lr 0.9)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    overhead()
    time_to_accuracy("adam", lr=0.005, batch_size=32)
    if args.sgd:
        time_to_accuracy("sgd", lr=0.9, batch_size=32, max_epochs=15)


if __name__ == "__main__":
    main()
