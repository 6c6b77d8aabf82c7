"""Plausible wrong answers to problem set 4 (modern CNNs; Sections 8.1-8.6).

Each mutant replaces whole answer cells (by grade_id) with what a student might really write;
the hidden tests must take at least one point from every one of them. ``PARTIAL`` is a
student who solved some parts and left the others as released.
"""

_BUILD = """
def build(layers: list) -> nn.Sequential:
    return nn.Sequential(*(getattr(nn, name)(**kwargs) for name, kwargs in layers))
"""

_VGG = _BUILD + """

def vgg_block_layers(num_convs: int, in_channels: int, out_channels: int) -> list:
    layers = []
    for _ in range(num_convs):
        layers += [("Conv2d", {"in_channels": in_channels, "out_channels": out_channels, "kernel_size": <k>,
                               "padding": <p>}), ("ReLU", {})]
        in_channels = out_channels
    layers.append(("MaxPool2d", {"kernel_size": 2, "stride": 2}))
    return layers


def vgg_block_student(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    return build(vgg_block_layers(num_convs, in_channels, out_channels))
"""


def _vgg(k: str = "3", p: str = "1") -> str:
    return _VGG.replace("<k>", k).replace("<p>", p)


_NIN = """
def nin_block_layers(in_channels: int, out_channels: int, kernel_size: int, stride: int,
                     padding: int) -> list:
    return [
        ("Conv2d", {"in_channels": in_channels, "out_channels": out_channels, "kernel_size": kernel_size,
                    "stride": stride, "padding": padding}), ("ReLU", {}),
        ("Conv2d", {"in_channels": out_channels, "out_channels": out_channels, "kernel_size": <k>,
                    "padding": <p>}), ("ReLU", {}),
        ("Conv2d", {"in_channels": out_channels, "out_channels": out_channels, "kernel_size": <k>,
                    "padding": <p>}), ("ReLU", {}),
    ]


def nin_block_student(in_channels: int, out_channels: int, kernel_size: int, stride: int,
                      padding: int) -> nn.Sequential:
    return build(nin_block_layers(in_channels, out_channels, kernel_size, stride, padding))
"""


def _nin(k: str = "1", p: str = "0") -> str:
    return _NIN.replace("<k>", k).replace("<p>", p)


_INCEPTION = '''
def inception_out_channels(c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int) -> int:
    return {out}


def inception_param_count(in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int],
                          c4: int) -> int:
    def conv(c_in, c_out, k):
        return {conv}

    path1 = conv(in_channels, c1, 1)
    path2 = conv(in_channels, c2[0], 1) + conv(c2[0], c2[1], {k2})
    path3 = conv(in_channels, c3[0], 1) + conv(c3[0], c3[1], {k3})
    path4 = {path4}
    return path1 + path2 + path3 + path4
'''
_INCEPTION_RIGHT = {"out": "c1 + c2[1] + c3[1] + c4", "conv": "c_out * c_in * k * k + c_out", "k2": "3",
                    "k3": "5", "path4": "conv(in_channels, c4, 1)"}


def _inception(**wrong: str) -> str:
    return _INCEPTION.format(**{**_INCEPTION_RIGHT, **wrong})


_BATCH_NORM = '''
def batch_norm_student(X, gamma, beta, running_mean, running_var, training: bool,
                       momentum: float = 0.1, eps: float = 1e-5):
    axes = {axes}
    shape = [1, -1] + [1] * (X.dim() - 2)
    if {use_batch}:
        mean = X.mean(dim=axes, keepdim=True)
        var = X.var(dim=axes, unbiased={unbiased_norm}, keepdim=True)
        m = X.numel() // X.shape[1]
        {update_mean}
        new_var = {update_var}
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
        new_mean, new_var = running_mean, running_var
    X_hat = {normalise}
    return gamma.reshape(shape) * X_hat + beta.reshape(shape), new_mean, new_var
'''
_BATCH_NORM_RIGHT = {
    "axes": "[0] + list(range(2, X.dim()))",
    "use_batch": "training",
    "unbiased_norm": "False",
    "update_mean": "new_mean = (1 - momentum) * running_mean + momentum * mean.reshape(-1)",
    "update_var": "(1 - momentum) * running_var + momentum * var.reshape(-1) * m / (m - 1)",
    "normalise": "(X - mean) / torch.sqrt(var + eps)",
}


def _batch_norm(**wrong: str) -> str:
    return _BATCH_NORM.format(**{**_BATCH_NORM_RIGHT, **wrong})


_RESIDUAL = '''
class ResidualStudent(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d({bn1_channels})
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        reshape = {reshape}
        self.shortcut = (nn.Conv2d(in_channels, out_channels, kernel_size=1, stride={shortcut_stride})
                         if reshape else nn.Identity())

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        A = {pre}
        Y = {main}
        skip = {shortcut}
        return {output}
'''
_RESIDUAL_RIGHT = {"bn1_channels": "in_channels", "reshape": "in_channels != out_channels or stride != 1",
                   "shortcut_stride": "stride", "pre": "F.relu(self.bn1(X))",
                   "main": "self.conv2(F.relu(self.bn2(self.conv1(A))))",
                   "shortcut": "X if isinstance(self.shortcut, nn.Identity) else self.shortcut(A)",
                   "output": "Y + skip"}
# Section 8.6's block (convolution, batch normalization, activation), whose bn1 normalises conv1's output.
_RESIDUAL_BOOK = {"bn1_channels": "out_channels", "pre": "X",
                  "main": "self.bn2(self.conv2(F.relu(self.bn1(self.conv1(A)))))",
                  "shortcut": "self.shortcut(X)"}


def _residual(**wrong: str) -> str:
    return _RESIDUAL.format(**{**_RESIDUAL_RIGHT, **wrong})


_RESNEXT = '''
def resnext_param_count(out_channels: int, groups: int, bottleneck_multiplier: float) -> int:
    b = int(round(out_channels * bottleneck_multiplier))
    conv1 = b * out_channels + {bias_b}
    conv2 = {grouped} * 3 * 3 + {bias_b}
    conv3 = out_channels * b + {bias_out}
    batch_norms = {bn}
    return conv1 + conv2 + conv3 + batch_norms
'''
_RESNEXT_RIGHT = {"bias_b": "b", "bias_out": "out_channels", "grouped": "b * (b // groups)",
                  "bn": "2 * b + 2 * b + 2 * out_channels"}


def _resnext(**wrong: str) -> str:
    return _RESNEXT.format(**{**_RESNEXT_RIGHT, **wrong})


MUTANTS: dict[str, dict[str, str]] = {
    # Part 1: VGG block
    "vgg_without_pool": {"vgg_block_answer": _vgg().replace(
        '    layers.append(("MaxPool2d", {"kernel_size": 2, "stride": 2}))\n', "")},
    "vgg_pool_inside_loop": {"vgg_block_answer": _vgg().replace(
        '("ReLU", {})]', '("ReLU", {}), ("MaxPool2d", {"kernel_size": 2, "stride": 2})]').replace(
        '    layers.append(("MaxPool2d", {"kernel_size": 2, "stride": 2}))\n', "")},
    "vgg_no_padding": {"vgg_block_answer": _vgg(p="0")},
    "vgg_5x5_kernels": {"vgg_block_answer": _vgg(k="5", p="2")},
    "vgg_channels_not_chained": {"vgg_block_answer": _vgg().replace(
        "        in_channels = out_channels\n", "")},
    "vgg_average_pooling": {"vgg_block_answer": _vgg().replace('("MaxPool2d"', '("AvgPool2d"')},
    "vgg_pool_stride_one": {"vgg_block_answer": _vgg().replace('"kernel_size": 2, "stride": 2',
                                                               '"kernel_size": 2, "stride": 1')},
    "vgg_returns_the_library_module": {"vgg_block_answer": _BUILD + """
from cnncourse.models import vgg_block


def vgg_block_layers(num_convs: int, in_channels: int, out_channels: int) -> list:
    return vgg_block(num_convs, in_channels, out_channels)
"""},
    "vgg_returns_layer_objects": {"vgg_block_answer": _BUILD + """
def vgg_block_layers(num_convs: int, in_channels: int, out_channels: int) -> list:
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    return layers + [nn.MaxPool2d(kernel_size=2, stride=2)]
"""},
    "vgg_lowercase_layer_names": {"vgg_block_answer": _vgg().replace('"Conv2d"', '"conv2d"').replace(
        '"ReLU"', '"relu"').replace('"MaxPool2d"', '"maxpool2d"')},
    "vgg_positional_arguments": {"vgg_block_answer": _BUILD + """
def vgg_block_layers(num_convs: int, in_channels: int, out_channels: int) -> list:
    layers = []
    for _ in range(num_convs):
        layers += [("Conv2d", (in_channels, out_channels, 3, 1, 1)), ("ReLU", ())]
        in_channels = out_channels
    return layers + [("MaxPool2d", (2, 2))]
"""},
    # Part 2: NiN block
    "nin_3x3_instead_of_1x1": {"nin_block_answer": _nin(k="3", p="1")},
    "nin_last_relu_missing": {"nin_block_answer": _nin().replace(
        '"padding": 0}), ("ReLU", {}),\n    ]', '"padding": 0}),\n    ]')},
    "nin_first_conv_ignores_stride": {"nin_block_answer": _nin().replace('"stride": stride, ', "")},
    "nin_1x1_reads_in_channels": {"nin_block_answer": _nin().replace(
        '("Conv2d", {"in_channels": out_channels, "out_channels": out_channels, "kernel_size": 1',
        '("Conv2d", {"in_channels": in_channels, "out_channels": out_channels, "kernel_size": 1', 1)},
    "nin_first_conv_unpadded": {"nin_block_answer": _nin().replace('"stride": stride, "padding": padding',
                                                                   '"stride": stride')},
    "nin_sigmoid_activations": {"nin_block_answer": _nin().replace('("ReLU", {})', '("Sigmoid", {})')},
    "nin_returns_the_library_module": {"nin_block_answer": """
from cnncourse.models import nin_block


def nin_block_layers(in_channels: int, out_channels: int, kernel_size: int, stride: int,
                     padding: int) -> list:
    return nin_block(in_channels, out_channels, kernel_size, stride, padding)
"""},
    # Part 3: Inception arithmetic
    "inception_counts_reduction_channels": {"inception_answer": _inception(
        out="c1 + sum(c2) + sum(c3) + c4")},
    "inception_forgets_biases": {"inception_answer": _inception(conv="c_out * c_in * k * k")},
    "inception_kernel_not_squared": {"inception_answer": _inception(conv="c_out * c_in * k + c_out")},
    "inception_5x5_counted_as_3x3": {"inception_answer": _inception(k3="3")},
    "inception_pool_path_reads_c4": {"inception_answer": _inception(path4="conv(c4, c4, 1)")},
    "inception_pool_path_forgotten": {"inception_answer": _inception(path4="0")},
    "inception_counts_a_block_built_on_meta": {"inception_answer": """
from cnncourse.models import Inception


def inception_out_channels(c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int) -> int:
    with torch.device("meta"):
        return Inception(1, c1, c2, c3, c4)(torch.zeros(1, 1, 4, 4)).shape[1]


def inception_param_count(in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int],
                          c4: int) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in Inception(in_channels, c1, c2, c3, c4).parameters())
"""},
    "inception_int64_tensor_arithmetic": {"inception_answer": _inception(
        conv="int(torch.tensor(c_out) * c_in * k * k + c_out)")},
    # Part 4: batch normalization
    "bn_biased_running_var": {"batch_norm_answer": _batch_norm(
        update_var="(1 - momentum) * running_var + momentum * var.reshape(-1)")},
    "bn_unbiased_var_to_normalise": {"batch_norm_answer": _batch_norm(unbiased_norm="True")},
    "bn_always_batch_stats": {"batch_norm_answer": _batch_norm(use_batch="True")},
    "bn_always_running_stats": {"batch_norm_answer": _batch_norm(use_batch="False")},
    "bn_momentum_wrong_way_round": {"batch_norm_answer": _batch_norm(
        update_mean="new_mean = momentum * running_mean + (1 - momentum) * mean.reshape(-1)",
        update_var="momentum * running_var + (1 - momentum) * var.reshape(-1) * m / (m - 1)")},
    "bn_statistics_over_batch_axis_only": {"batch_norm_answer": _batch_norm(axes="[0]").replace(
        "mean.reshape(-1)", "mean.mean(dim=tuple(range(2, X.dim())), keepdim=True).reshape(-1)").replace(
        "var.reshape(-1)", "var.mean(dim=tuple(range(2, X.dim())), keepdim=True).reshape(-1)")},
    "bn_statistics_over_all_axes": {"batch_norm_answer": _batch_norm(axes="list(range(X.dim()))").replace(
        "mean.reshape(-1)", "mean.reshape(-1).expand(X.shape[1])").replace(
        "var.reshape(-1)", "var.reshape(-1).expand(X.shape[1])")},
    "bn_eps_outside_sqrt": {"batch_norm_answer": _batch_norm(
        normalise="(X - mean) / (torch.sqrt(var) + eps)")},
    # Part 5: pre-activation residual block (every order, shortcut and final-ReLU error loses points)
    "residual_book_order_post_activation": {"residual_answer": _residual(**_RESIDUAL_BOOK)},
    "residual_book_block_with_final_relu": {"residual_answer": _residual(
        **_RESIDUAL_BOOK, output="F.relu(Y + skip)")},
    "residual_final_relu_kept": {"residual_answer": _residual(output="F.relu(Y + skip)")},
    "residual_no_shortcut": {"residual_answer": _residual(output="Y")},
    "residual_projection_reads_raw_input": {"residual_answer": _residual(
        shortcut="self.shortcut(X)")},
    "residual_projection_skips_batch_norm": {"residual_answer": _residual(
        shortcut="X if isinstance(self.shortcut, nn.Identity) else self.shortcut(F.relu(X))")},
    "residual_identity_reads_preactivated_input": {"residual_answer": _residual(
        shortcut="self.shortcut(A)")},
    "residual_projection_runs_bn1_a_second_time": {"residual_answer": _residual(
        shortcut="X if isinstance(self.shortcut, nn.Identity) else self.shortcut(F.relu(self.bn1(X)))")},
    "residual_relu_before_batch_norm": {"residual_answer": _residual(
        pre="self.bn1(F.relu(X))", main="self.conv2(self.bn2(F.relu(self.conv1(A))))")},
    "residual_second_relu_missing": {"residual_answer": _residual(
        main="self.conv2(self.bn2(self.conv1(A)))")},
    "residual_second_batch_norm_skipped": {"residual_answer": _residual(
        main="self.conv2(F.relu(self.conv1(A)))")},
    "residual_bn1_sized_for_the_output": {"residual_answer": _residual(bn1_channels="out_channels")},
    "residual_stride_on_the_second_conv": {"residual_answer": _residual().replace(
        "kernel_size=3, stride=stride, padding=1)", "kernel_size=3, padding=1)").replace(
        "nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)",
        "nn.Conv2d(out_channels, out_channels, kernel_size=3, stride=stride, padding=1)")},
    "residual_1x1_only_when_channels_change": {"residual_answer": _residual(
        reshape="in_channels != out_channels")},
    "residual_1x1_only_when_stride_changes": {"residual_answer": _residual(reshape="stride != 1")},
    "residual_shortcut_without_stride": {"residual_answer": _residual(shortcut_stride="1")},
    "residual_always_1x1_shortcut": {"residual_answer": _residual(reshape="True")},
    "residual_identity_shortcut_is_none": {"residual_answer": _residual().replace(
        "else nn.Identity())", "else None)").replace("isinstance(self.shortcut, nn.Identity)",
                                                     "self.shortcut is None")},
    # Part 6: ResNeXt parameters
    "resnext_ignores_groups": {"resnext_answer": _resnext(grouped="b * b")},
    "resnext_groups_as_group_width": {"resnext_answer": _resnext(grouped="b * groups")},
    "resnext_divides_all_weights_by_groups": {"resnext_answer": _resnext(grouped="b * b // groups").replace(
        "conv1 = b * out_channels", "conv1 = b * out_channels // groups").replace(
        "conv3 = out_channels * b", "conv3 = out_channels * b // groups")},
    "resnext_forgets_biases": {"resnext_answer": _resnext(bias_b="0", bias_out="0")},
    "resnext_forgets_batch_norm": {"resnext_answer": _resnext(bn="0")},
    "resnext_counts_running_stats": {"resnext_answer": _resnext(bn="4 * b + 4 * b + 4 * out_channels")},
    "resnext_counts_a_block_built_on_meta": {"resnext_answer": """
from cnncourse.models import ResNeXtBlock


def resnext_param_count(out_channels: int, groups: int, bottleneck_multiplier: float) -> int:
    with torch.device("meta"):
        block = ResNeXtBlock(out_channels, groups, bottleneck_multiplier)
    return sum(p.numel() for p in block.parameters())
"""},
    # Part 7: concept
    "concept_wrong_choice": {"concept_answer": 'answer_bn = "C"\n'},
    "concept_second_wrong_choice": {"concept_answer": 'answer_bn = "B"\n'},
}

# Solves parts 1, 3 and 5: 2 + (1 + 2) + (1 + 3) points; part 6 counts a block built on the meta
# device, right at small sizes but impossible at the hidden sizes no block can have: 0 of 2.
PARTIAL: dict = {
    "solved": ["vgg_block_answer", "inception_answer", "residual_answer", "resnext_answer"],
    "expected_score": 9.0,
    "replacements": {"resnext_answer": MUTANTS["resnext_counts_a_block_built_on_meta"]["resnext_answer"]},
}
