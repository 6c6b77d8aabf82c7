"""Plausible wrong answers to problem set 3 (pooling and LeNet; Sections 7.5-7.6).

Each mutant replaces whole answer cells (by grade_id) with what a student might really write;
the hidden tests must take at least one point from every one of them. ``PARTIAL`` is a
student who solved some parts and left the others as released.
"""

# A correct window cutter with holes: the stride default, the padding, the fill it pads with, the
# output size, where each window starts and the layout it returns; and the padding values
# PAD_FILL. Each mutant gets one of them wrong. The pooling itself (pool2d_student) is released.
_WINDOWS = """
import math


def pool2d_windows(X: torch.Tensor, kernel_size, stride=None, padding: int = 0,
                   fill: float = 0.0) -> torch.Tensor:
    p_h, p_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    s_h, s_w = <stride>
    X_pad = F.pad(X, <pad>, value=<fill>)
    h_out = <rounding>((X_pad.shape[0] - p_h) / s_h) + <plus>
    w_out = <rounding>((X_pad.shape[1] - p_w) / s_w) + <plus>
    windows = torch.zeros(h_out, w_out, p_h, p_w, dtype=X.dtype)
    for i in range(h_out):
        for j in range(w_out):
            windows[i, j] = X_pad[<rows>, <cols>]
    return <result>


def pool2d_student(X: torch.Tensor, kernel_size, stride=None, padding: int = 0,
                   mode: str = "max") -> torch.Tensor:
    windows = pool2d_windows(X, kernel_size, stride=stride, padding=padding, fill=PAD_FILL[mode])
    if mode == "max":
        return windows.amax(dim=(-2, -1))
    return windows.mean(dim=(-2, -1))


PAD_FILL = <pad_fill>
"""
_WINDOWS_RIGHT = {
    "stride": "(p_h, p_w) if stride is None else (stride, stride)",
    "pad": "(padding, padding, padding, padding)",
    "fill": "fill",
    "rounding": "math.floor",
    "plus": "1",
    "rows": "i * s_h:i * s_h + p_h",
    "cols": "j * s_w:j * s_w + p_w",
    "result": "windows",
    "pad_fill": '{"max": float("-inf"), "avg": 0.0}',
}


def _windows(**wrong: str) -> str:
    source = _WINDOWS
    for hole, text in {**_WINDOWS_RIGHT, **wrong}.items():
        source = source.replace(f"<{hole}>", text)
    return source


_AVG = """
def avg_pool_kernel(kernel_size: int) -> torch.Tensor:
    return <kernel>


def avg_pool_conv_args(channels: int, kernel_size: int) -> dict:
    weight = <weight>
    return <args>


def avg_pool_via_conv(X: torch.Tensor, kernel_size: int) -> torch.Tensor:
    args = avg_pool_conv_args(X.shape[1], kernel_size)
    return F.conv2d(X, **{**args, "weight": args["weight"].to(X.dtype)})
"""
_AVG_RIGHT = {
    "kernel": "torch.full((kernel_size, kernel_size), 1.0 / (kernel_size * kernel_size))",
    "weight": "torch.full((channels, 1, kernel_size, kernel_size), 1.0 / (kernel_size * kernel_size))",
    "args": '{"weight": weight, "stride": kernel_size, "groups": channels}',
}


def _avg(**wrong: str) -> str:
    source = _AVG
    for hole, text in {**_AVG_RIGHT, **wrong}.items():
        source = source.replace(f"<{hole}>", text)
    return source


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


_LOOKS_RIGHT = '''

class _LooksRight(nn.Sequential):
    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return torch.zeros(X.shape[0], self[-1].out_features)


def build_modern_lenet(in_channels: int, num_classes: int, image_size: int) -> nn.Sequential:
    return _LooksRight(*_guessed_lenet(in_channels, num_classes, image_size))
'''


def _lenet(**wrong: str) -> str:
    return _LENET.format(**{**_LENET_RIGHT, **wrong})


MUTANTS: dict[str, dict[str, str]] = {
    # Part 1: pooling windows
    "windows_stride_default_one": {"pool2d_answer": _windows(
        stride="(1, 1) if stride is None else (stride, stride)")},
    "windows_ceil_output_size": {"pool2d_answer": _windows(rounding="math.ceil")},
    "windows_one_too_few": {"pool2d_answer": _windows(plus="0")},
    "windows_start_ignores_stride": {"pool2d_answer": _windows(rows="i:i + p_h", cols="j:j + p_w")},
    "windows_padding_one_side": {"pool2d_answer": _windows(pad="(0, padding, 0, padding)")},
    "windows_pad_with_zeros_not_fill": {"pool2d_answer": _windows(fill="0.0")},
    "windows_output_axes_swapped": {"pool2d_answer": _windows(result="windows.permute(1, 0, 2, 3)")},
    "windows_window_transposed": {"pool2d_answer": _windows(result="windows.transpose(2, 3)")},
    "windows_flattened": {"pool2d_answer": _windows(result="windows.reshape(h_out, w_out, p_h * p_w)")},
    "windows_as_nested_lists": {"pool2d_answer": _windows(result="[list(row) for row in windows]")},
    "windows_returns_pooled_maxima": {"pool2d_answer": _windows().replace(
        "    return windows\n", "    return F.max_pool2d(X[None, None], (p_h, p_w), stride=(s_h, s_w), "
        "padding=padding)[0, 0]\n")},
    "pad_fill_max_zero": {"pool2d_answer": _windows(pad_fill='{"max": 0.0, "avg": 0.0}')},
    "pad_fill_max_very_negative_constant": {"pool2d_answer": _windows(pad_fill='{"max": -1e9, "avg": 0.0}')},
    "pad_fill_avg_minus_inf": {"pool2d_answer": _windows(
        pad_fill='{"max": float("-inf"), "avg": float("-inf")}')},
    "pad_fill_avg_one": {"pool2d_answer": _windows(pad_fill='{"max": float("-inf"), "avg": 1.0}')},
    "pad_fill_as_a_list": {"pool2d_answer": _windows(pad_fill='[float("-inf"), 0.0]')},
    # Part 2: average pooling as a convolution
    "avg_kernel_not_normalised": {"avg_pool_answer": _avg(kernel="torch.ones(kernel_size, kernel_size)")},
    "avg_kernel_divides_by_kernel_size": {"avg_pool_answer": _avg(
        kernel="torch.full((kernel_size, kernel_size), 1.0 / kernel_size)")},
    "conv_args_stride_one": {"avg_pool_answer": _avg(
        args='{"weight": weight, "stride": 1, "groups": channels}')},
    "conv_args_mix_channels": {"avg_pool_answer": _avg(
        weight="torch.full((channels, channels, kernel_size, kernel_size), "
               "1.0 / (kernel_size * kernel_size))",
        args='{"weight": weight, "stride": kernel_size, "groups": 1}')},
    "conv_args_mix_channels_normalised": {"avg_pool_answer": _avg(
        weight="torch.full((channels, channels, kernel_size, kernel_size), "
               "1.0 / (channels * kernel_size * kernel_size))",
        args='{"weight": weight, "stride": kernel_size, "groups": 1}')},
    "conv_args_groups_forgotten": {"avg_pool_answer": _avg(
        args='{"weight": weight, "stride": kernel_size, "groups": 1}')},
    "conv_args_not_normalised": {"avg_pool_answer": _avg(
        weight="torch.ones(channels, 1, kernel_size, kernel_size)")},
    "conv_args_weight_without_channel_axes": {"avg_pool_answer": _avg(
        weight="torch.full((kernel_size, kernel_size), 1.0 / (kernel_size * kernel_size))")},
    "conv_args_no_groups_key": {"avg_pool_answer": _avg(args='{"weight": weight, "stride": kernel_size}')},
    "conv_args_positional_tuple": {"avg_pool_answer": _avg(args="(weight, kernel_size, channels)")},
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
    # A guessed feature count behind a forward pass that only returns zeros of the output's shape: the
    # tests rebuild the network from its layers and weights and run that, so the guess still fails.
    "lenet_guessed_features_behind_a_fake_forward": {"lenet_answer": _lenet(flat="100").replace(
        "def build_modern_lenet", "def _guessed_lenet") + _LOOKS_RIGHT},
    "lenet_lazy_first_linear": {"lenet_answer": _lenet(flat="16 * side * side").replace(
        "nn.Linear(16 * side * side, 120)", "nn.LazyLinear(120)")},
    # Part 4: concept
    "concept_wrong_choice": {"concept_answer": 'answer_pooling = "C"\n'},
    "concept_second_wrong_choice": {"concept_answer": 'answer_pooling = "A"\n'},
}

# Solves parts 1 and 3, but pads max pooling with zeros: 4 of part 1's 6 points (the padding test
# has negative inputs), then part 3's 5; part 2 (where the simulated looper loops) and 4 stay blank.
PARTIAL: dict = {
    "solved": ["pool2d_answer", "lenet_answer"],
    "expected_score": 9.0,
    "replacements": {"pool2d_answer": _windows(pad_fill='{"max": 0.0, "avg": 0.0}')},
}
