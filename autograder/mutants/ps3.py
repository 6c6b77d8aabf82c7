"""Plausible wrong answers to problem set 3 (pooling and LeNet; Sections 7.5-7.6).

Each mutant replaces whole answer cells (by grade_id) with what a student might really write;
the hidden tests must take at least one point from every one of them. ``PARTIAL`` is a
student who solved some parts and left the others as released.
"""

# A correct pooling loop with four holes: the stride default, the fill value of the padding,
# the size rounding and the divisor of the average. Each mutant gets one of them wrong.
_POOL = '''
import math


def pool2d_student(X: torch.Tensor, pool_size, stride=None, padding: int = 0,
                   mode: str = "max") -> torch.Tensor:
    p_h, p_w = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    s_h, s_w = {stride}
    fill = {fill}
    X_pad = F.pad(X, (padding, padding, padding, padding), value=fill)
    h_out = {rounding}((X_pad.shape[0] - p_h) / s_h) + 1
    w_out = {rounding}((X_pad.shape[1] - p_w) / s_w) + 1
    Y = torch.zeros(h_out, w_out, dtype=X.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = X_pad[i * s_h:i * s_h + p_h, j * s_w:j * s_w + p_w]
            if mode == "max":
                Y[i, j] = window.max()
            else:
                Y[i, j] = window.sum() / {divisor}
    return Y
'''
_POOL_RIGHT = {
    "stride": "(p_h, p_w) if stride is None else (stride, stride)",
    "fill": 'float("-inf") if mode == "max" else 0.0',
    "rounding": "math.floor",
    "divisor": "(p_h * p_w)",
}


def _pool(**wrong: str) -> str:
    return _POOL.format(**{**_POOL_RIGHT, **wrong})


_AVG_VIA_CONV = '''
def avg_pool_via_conv(X: torch.Tensor, k: int) -> torch.Tensor:
    channels = X.shape[1]
    K = torch.full((channels, 1, k, k), 1.0 / (k * k), dtype=X.dtype)
    return F.conv2d(X, K, stride=k, groups=channels)
'''

_AVG_KERNEL = '''
def avg_pool_kernel(k: int) -> torch.Tensor:
    return torch.full((k, k), 1.0 / (k * k))
'''

_LENET = '''
def build_modern_lenet(in_channels: int, num_classes: int, image_size: int) -> nn.Sequential:
    side = (image_size // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d({c_in}, {c1}, kernel_size=5, padding={pad}), {act}(),
        {pool},
        nn.Conv2d({c1}, 16, kernel_size=5), {act}(),
        {pool},
        nn.Flatten(),
        nn.Linear({flat}, 120), {act}(),
        nn.Linear(120, 84), {act}(),
        nn.Linear(84, {classes}),
    )
'''
_LENET_RIGHT = {"c_in": "in_channels", "c1": "6", "pad": "2", "act": "nn.ReLU",
                "pool": "nn.MaxPool2d(kernel_size=2, stride=2)", "flat": "16 * side * side",
                "classes": "num_classes"}


def _lenet(**wrong: str) -> str:
    return _LENET.format(**{**_LENET_RIGHT, **wrong})


MUTANTS: dict[str, dict[str, str]] = {
    # Part 1: pooling
    "pool_stride_default_one": {"pool2d_answer": _pool(
        stride="(1, 1) if stride is None else (stride, stride)")},
    "pool_max_pads_with_zeros": {"pool2d_answer": _pool(fill="0.0")},
    "pool_avg_pads_with_minus_inf": {"pool2d_answer": _pool(fill='float("-inf")')},
    "pool_avg_excludes_padding_from_count": {"pool2d_answer": _pool(
        divisor="mask[i * s_h:i * s_h + p_h, j * s_w:j * s_w + p_w].sum()").replace(
        "    X_pad = F.pad(",
        "    mask = F.pad(torch.ones_like(X), (padding, padding, padding, padding))\n    X_pad = F.pad(")},
    "pool_ceil_output_size": {"pool2d_answer": _pool(rounding="math.ceil")},
    "pool_avg_sum_not_mean": {"pool2d_answer": _pool(divisor="1")},
    "pool_padding_one_side": {"pool2d_answer": _pool().replace(
        "(padding, padding, padding, padding)", "(0, padding, 0, padding)")},
    "pool_calls_pytorch": {"pool2d_answer": '''
def pool2d_student(X: torch.Tensor, pool_size, stride=None, padding: int = 0,
                   mode: str = "max") -> torch.Tensor:
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    return pool(X[None, None], pool_size, stride=stride, padding=padding)[0, 0]
'''},
    # Part 2: average pooling as a convolution
    "avg_kernel_not_normalised": {"avg_pool_answer": '''
def avg_pool_kernel(k: int) -> torch.Tensor:
    return torch.ones(k, k)
''' + _AVG_VIA_CONV},
    "avg_kernel_divides_by_k": {"avg_pool_answer": '''
def avg_pool_kernel(k: int) -> torch.Tensor:
    return torch.full((k, k), 1.0 / k)
''' + _AVG_VIA_CONV},
    "avg_via_conv_stride_one": {"avg_pool_answer": _AVG_KERNEL + _AVG_VIA_CONV.replace("stride=k",
                                                                                       "stride=1")},
    "avg_via_conv_mixes_channels": {"avg_pool_answer": _AVG_KERNEL + '''
def avg_pool_via_conv(X: torch.Tensor, k: int) -> torch.Tensor:
    channels = X.shape[1]
    K = torch.full((channels, channels, k, k), 1.0 / (k * k), dtype=X.dtype)
    return F.conv2d(X, K, stride=k)
'''},
    "avg_via_conv_not_normalised": {"avg_pool_answer": _AVG_KERNEL + _AVG_VIA_CONV.replace(
        "1.0 / (k * k)", "1.0")},
    "avg_via_conv_calls_avg_pool2d": {"avg_pool_answer": _AVG_KERNEL + '''
def avg_pool_via_conv(X: torch.Tensor, k: int) -> torch.Tensor:
    return F.avg_pool2d(X, k)
'''},
    "avg_via_conv_reshape_mean": {"avg_pool_answer": _AVG_KERNEL + '''
def avg_pool_via_conv(X: torch.Tensor, k: int) -> torch.Tensor:
    n, c, h, w = X.shape
    X = X[:, :, :h // k * k, :w // k * k]
    return X.reshape(n, c, h // k, k, w // k, k).mean(dim=(3, 5))
'''},
    # Part 3: modern LeNet
    "lenet_sigmoid_kept": {"lenet_answer": _lenet(act="nn.Sigmoid")},
    "lenet_avg_pool_kept": {"lenet_answer": _lenet(pool="nn.AvgPool2d(kernel_size=2, stride=2)")},
    "lenet_first_conv_unpadded": {"lenet_answer": _lenet(pad="0")},
    "lenet_wrong_channel_count": {"lenet_answer": _lenet(c1="8")},
    "lenet_pool_stride_one": {"lenet_answer": _lenet(pool="nn.MaxPool2d(kernel_size=2, stride=1)",
                                                     flat="16 * (image_size - 6) ** 2")},
    "lenet_3x3_pool_window": {"lenet_answer": _lenet(
        pool="nn.MaxPool2d(kernel_size=3, stride=2, padding=1)")},
    "lenet_no_flatten": {"lenet_answer": _lenet().replace("        nn.Flatten(),\n", "")},
    # Transcribing the chapter's network instead of working out the sizes.
    "lenet_book_transcription_400_features": {"lenet_answer": _lenet(flat="16 * 5 * 5")},
    "lenet_in_channels_ignored": {"lenet_answer": _lenet(c_in="1")},
    "lenet_num_classes_ignored": {"lenet_answer": _lenet(classes="10")},
    "lenet_side_without_the_padding": {"lenet_answer": _lenet().replace(
        "side = (image_size // 2 - 4) // 2", "side = ((image_size - 4) // 2 - 4) // 2")},
    "lenet_side_rounds_up": {"lenet_answer": _lenet().replace(
        "side = (image_size // 2 - 4) // 2", "side = -(-(-(-image_size // 2) - 4) // 2)")},
    # Part 4: concept
    "concept_wrong_choice": {"concept_answer": 'answer_pooling = "C"\n'},
    "concept_second_wrong_choice": {"concept_answer": 'answer_pooling = "A"\n'},
}

# Solves part 1 (all three cells) and the LeNet: 6 + 5 points.
PARTIAL: dict = {
    "solved": ["pool2d_answer", "lenet_answer"],
    "expected_score": 11.0,
    "replacements": {},
}
