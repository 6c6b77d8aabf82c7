"""How long each notebook takes in laptop (and quick) mode on this machine, and what it learns.

``.venv/bin/python benchmarks/bench_laptop_mode.py [--passes quick,digits,fashion] [NOTEBOOK ...]``

Runs notebooks top to bottom headless (``autograder.tools.chapters.execute_notebook``, as CI does) in
up to three passes and prints one table: minutes, final validation accuracy, the dataset the
notebook says it used.

- ``quick``: quick mode, no Fashion-MNIST cache: the offline digits, as in CI.
- ``digits``: laptop mode with an empty cache folder and no network: the offline digits, which is
  what a student without Fashion-MNIST gets.
- ``fashion``: laptop mode with a **stand-in** Fashion-MNIST cache of full size (60,000 training and
  10,000 validation 28x28 images in the IDX gz files), written to a temporary folder. This machine
  cannot download Fashion-MNIST, and training time depends on the number and size of the images,
  not on what they show. The stand-in's images are the offline digits, upsampled to 28x28,
  shifted by up to two pixels and with noise added, so the networks have something to learn, but
  its accuracies say nothing about Fashion-MNIST.

The library checks every cached file against the published SHA-256 digests, which the stand-in
cannot match. The check stays as it is: only the kernels of the ``fashion`` pass learn the
stand-in's digests, from an IPython startup file in a temporary ``IPYTHONDIR`` that adds them to
``cnncourse.data.FASHION_MNIST_SHA256`` of that kernel. Each notebook prints which dataset it
loaded, and the table shows it.

Default: the training notebooks (7.6, 8.1-8.6), all three passes. Asserts nothing.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.tools.chapters import NotebookRun, chapter_notebooks, execute_notebook  # noqa: E402
from cnncourse.data import load_digits_tensors, resize_images, sha256_file  # noqa: E402

TRAINING = ["07_6_lenet", "08_1_alexnet", "08_2_vgg", "08_3_nin", "08_4_googlenet", "08_5_batch_norm",
            "08_6_resnet"]
SIZES = {"train": 60_000, "t10k": 10_000}  # Fashion-MNIST's two splits
PASSES = ("quick", "digits", "fashion")


def _idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as a gzip-compressed IDX file."""
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, 0x08, array.ndim, *array.shape)
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_stand_in(folder: Path, seed: int = 0) -> dict[str, str]:
    """Write a full-size stand-in Fashion-MNIST cache into ``folder``; return its SHA-256 digests."""
    X, y, _, _ = load_digits_tensors()  # (1437, 1, 8, 8) in [0, 1]
    digits = (resize_images(X, 24)[:, 0] * 255).numpy()  # (1437, 24, 24)
    rng = np.random.default_rng(seed)
    for split, n in SIZES.items():
        pick = rng.integers(0, len(digits), n)
        images = np.zeros((n, 28, 28), dtype=np.float32)
        dy, dx = rng.integers(0, 5, n), rng.integers(0, 5, n)  # where the 24x24 digit sits in 28x28
        for oy in range(5):
            for ox in range(5):
                rows = np.flatnonzero((dy == oy) & (dx == ox))
                images[rows, oy:oy + 24, ox:ox + 24] = digits[pick[rows]]
        images += rng.normal(0, 20, images.shape).astype(np.float32)
        _idx(folder / f"{split}-images-idx3-ubyte.gz", np.clip(images, 0, 255).astype(np.uint8))
        _idx(folder / f"{split}-labels-idx1-ubyte.gz", y.numpy()[pick].astype(np.uint8))
    return {p.name: sha256_file(p) for p in sorted(folder.glob("*.gz"))}


def write_startup(ipython_dir: Path, digests: dict[str, str]) -> None:
    """An IPython startup file that lets this benchmark's kernels accept the stand-in's digests."""
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-stand-in-digests.py").write_text(
        "# written by benchmarks/bench_laptop_mode.py for its own kernels only\n"
        "from cnncourse.data import fashion_mnist as _fm\n"
        f"_fm.FASHION_MNIST_SHA256.update({digests!r})\n"
        "del _fm\n")


def _accuracy(run: NotebookRun) -> str:
    found = re.findall(r"final validation accuracy:? ([0-9.]+)", run.text)
    return found[0] if found else "-"  # 8.5 prints the batch-norm network's first


def _dataset(run: NotebookRun) -> str:
    """What the notebook's loader said it used (the stand-in's folder is called stand-in)."""
    if "Using Fashion-MNIST" in run.text:
        return "Fashion-MNIST" + (" (stand-in)" if "stand-in)" in run.text else "")
    return "digits" if "Using the offline digits" in run.text else "-"


def _kernel_cpu_seconds() -> float:
    """CPU seconds of the finished kernels this process started (their rusage, once reaped).

    Other jobs on a shared 2-core machine stretch wall-clock times, and a 2-thread torch suffers
    more than its share (threads wait for each other); the kernel's own CPU time stretches far
    less, so the table shows both.
    """
    times = os.times()
    return times.children_user + times.children_system


def run_pass(name: str, paths: list[Path], env: dict[str, str]) -> list[tuple[str, NotebookRun, float]]:
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        runs = []
        for path in paths:
            load, before = os.getloadavg()[0], _kernel_cpu_seconds()
            run = execute_notebook(path, mode="quick" if name == "quick" else "laptop")
            cpu = _kernel_cpu_seconds() - before
            status = "ok" if run.clean else (run.error or f"stderr: {run.stderr[0][:80]!r}")
            print(f"{name:8} {run.name:26} {run.seconds / 60:6.2f} min (kernel CPU {cpu / 60:6.2f} min)  "
                  f"acc {_accuracy(run):6}  {_dataset(run):24} load {load:4.1f}-{os.getloadavg()[0]:4.1f}  "
                  f"{status}", flush=True)
            runs.append((name, run, cpu))
        return runs
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="e.g. 08_2_vgg (default: the training ones)")
    parser.add_argument("--passes", default=",".join(PASSES), help="comma-separated: quick, digits, fashion")
    parser.add_argument("--all", action="store_true", help="every notebook, not only the training ones")
    args = parser.parse_args(argv)
    passes = args.passes.split(",")
    if unknown := sorted(set(passes) - set(PASSES)):
        parser.error(f"unknown passes {unknown}; choose from {', '.join(PASSES)}")
    by_name = {p.stem: p for p in chapter_notebooks()}
    names = args.notebooks or (list(by_name) if args.all else TRAINING)
    paths = [by_name[n] for n in names]
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()}", flush=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-laptop-") as tmp:
        empty, cache, ipython = Path(tmp, "empty"), Path(tmp, "stand-in"), Path(tmp, "ipython")
        empty.mkdir()
        for name in passes:
            if name == "fashion":
                cache.mkdir()
                digests = write_stand_in(cache)
                write_startup(ipython, digests)
                env = {"CNNCOURSE_DATA": str(cache), "IPYTHONDIR": str(ipython)}
            else:
                env = {"CNNCOURSE_DATA": str(empty)}
            runs += run_pass(name, paths, env)
    print(f"\nload average after: {os.getloadavg()}")
    print(f"{'pass':8} {'notebook':26} {'minutes':>7}  {'CPU min':>7}  {'accuracy':>8}  dataset")
    for name, run, cpu in runs:
        print(f"{name:8} {run.name:26} {run.seconds / 60:7.2f}  {cpu / 60:7.2f}  {_accuracy(run):>8}  "
              f"{_dataset(run)}{'' if run.clean else '  FAILED: ' + (run.error or run.stderr[0][:80])}")
    return 0 if all(run.clean for _, run, _ in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
