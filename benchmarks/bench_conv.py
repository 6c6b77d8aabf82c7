"""Time the from-scratch correlations and convolution against F.conv2d. Prints numbers, asserts nothing.

Run: ``.venv/bin/python benchmarks/bench_conv.py``. Threads are left at PyTorch's default.
Each figure is the median of ``torch.utils.benchmark.Timer.blocked_autorange``; the IQR shows how
noisy the machine was. The teaching loop ``corr2d`` visits one output pixel per Python iteration
(about 10 us each), so it is timed at 64x64 and 256x256 only: 512x512 would take seconds per
call and 1024x1024 about a minute.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from cnncourse.functional import conv2d, corr2d, corr2d_fast

LOOP_SIZES = (64, 256)


def measure(label: str, fn, *args, min_run_time: float = 1.0) -> float:
    """Median seconds per call of ``fn(*args)``; prints the median and interquartile range."""
    m = benchmark.Timer("fn(*args)", globals={"fn": fn, "args": args}).blocked_autorange(
        min_run_time=min_run_time
    )
    print(f"  {label:<28} median {m.median * 1e3:10.3f} ms   IQR {m.iqr * 1e3:8.3f} ms"
          f"   ({len(m.times)} runs)")
    return m.median


def single_channel_conv(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    return F.conv2d(X[None, None], K[None, None])[0, 0]  # (H', W')


def bench_corr2d() -> None:
    print("corr2d (teaching loop) vs corr2d_fast (shifted slices) vs F.conv2d, 3x3 kernel, float32")
    torch.manual_seed(0)
    for size in (64, 256, 512, 1024):
        print(f"{size}x{size}:")
        X, K = torch.randn(size, size), torch.randn(3, 3)
        torch.testing.assert_close(corr2d_fast(X, K), single_channel_conv(X, K), rtol=1e-4, atol=1e-4)
        torch_s = measure("F.conv2d", single_channel_conv, X, K)
        fast_s = measure("corr2d_fast", corr2d_fast, X, K)
        line = f"  corr2d_fast / F.conv2d = {fast_s / torch_s:.2f}"
        if size in LOOP_SIZES:
            loop_s = measure("corr2d (loop)", corr2d, X, K, min_run_time=0.1 if size > 64 else 1.0)
            line += f";  corr2d loop / corr2d_fast = {loop_s / fast_s:.0f}"
        print(line)


def bench_conv2d() -> None:
    print("conv2d (im2col + matmul) vs F.conv2d: ResNet-like layer, N=32, 64->64 channels, 28x28, "
          "3x3, padding 1, float32")
    torch.manual_seed(0)
    X, K, b = torch.randn(32, 64, 28, 28), torch.randn(64, 64, 3, 3), torch.randn(64)
    torch.testing.assert_close(conv2d(X, K, b, padding=1), F.conv2d(X, K, b, padding=1),
                               rtol=1e-4, atol=1e-4)
    # The matrix product conv2d cannot avoid, with the im2col columns already built: a floor.
    weight = K.reshape(64, 64 * 9)  # (C_out, C_in kh kw)
    columns = F.unfold(X, 3, padding=1)  # (N, C_in kh kw, H W)
    ratios, floors = [], []
    for round_ in range(3):  # interleaved rounds: a busy machine slows both sides alike
        print(f" round {round_ + 1}:")
        torch_s = measure("F.conv2d forward", lambda: F.conv2d(X, K, b, padding=1))
        ours_s = measure("conv2d forward", lambda: conv2d(X, K, b, padding=1))
        floor_s = measure("its matmul alone", lambda: weight @ columns)
        ratios.append(ours_s / torch_s)
        floors.append(floor_s / torch_s)
        print(f"  conv2d / F.conv2d = {ratios[-1]:.2f};  matmul alone / F.conv2d = {floors[-1]:.2f}")
    print(f" conv2d / F.conv2d: best {min(ratios):.2f}, worst {max(ratios):.2f}; "
          f"matmul alone / F.conv2d: best {min(floors):.2f}")

    def train_step(fn):
        x, k = X.clone().requires_grad_(), K.clone().requires_grad_()
        fn(x, k, b, padding=1).sum().backward()

    torch_s = measure("F.conv2d forward+backward", train_step, F.conv2d)
    ours_s = measure("conv2d forward+backward", train_step, conv2d)
    print(f"  forward+backward conv2d / F.conv2d = {ours_s / torch_s:.2f}")


if __name__ == "__main__":
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench_corr2d()
    bench_conv2d()
