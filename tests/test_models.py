"""Tests for cnncourse.models: shapes, gradients, parameter counts and the book's printouts.

Big models at 224x224 are built on the meta device for counts and shapes (PyTorch infers
shapes without computing); real forward/backward passes at 224 are marked slow.
"""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from cnncourse.models import (
    VGG,
    AlexNet,
    GoogLeNet,
    Inception,
    LayerCost,
    LeNet,
    NiN,
    Residual,
    ResNet,
    ResNeXtBlock,
    layer_costs,
    layer_summary,
    lenet5,
    nin_block,
    resnet18,
    vgg11,
    vgg_block,
)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def on_meta(build):
    with torch.device("meta"):
        return build()


def assert_trains(model: nn.Module, X: torch.Tensor, num_classes: int = 10) -> None:
    """One forward/backward pass: right shape, finite output, a gradient on every parameter."""
    model.train()
    out = model(X)
    assert out.shape == (X.shape[0], num_classes)
    assert torch.isfinite(out).all()
    (out * torch.randn_like(out)).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"no gradient reached {name}"
        assert torch.isfinite(p.grad).all(), f"non-finite gradient in {name}"
        if p.dim() > 1:  # biases right before batch norm get (numerically) zero gradient by design
            assert p.grad.abs().sum() > 0, f"all-zero gradient in {name}"


# ---------------------------------------------------------------- independent parameter counts

def conv_p(c_in: int, c_out: int, k: int, groups: int = 1) -> int:
    return c_out * (c_in // groups * k * k + 1)


def linear_p(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def bn_p(c: int) -> int:
    return 2 * c


def lenet_p() -> int:
    return conv_p(1, 6, 5) + conv_p(6, 16, 5) + linear_p(400, 120) + linear_p(120, 84) + linear_p(84, 10)


def alexnet_p() -> int:
    convs = [(1, 96, 11), (96, 256, 5), (256, 384, 3), (384, 384, 3), (384, 256, 3)]
    return sum(conv_p(*c) for c in convs) + linear_p(6400, 4096) + linear_p(4096, 4096) + linear_p(4096, 10)


def vgg11_p() -> int:
    convs = [(1, 64), (64, 128), (128, 256), (256, 256), (256, 512), (512, 512), (512, 512), (512, 512)]
    classifier = linear_p(512 * 7 * 7, 4096) + linear_p(4096, 4096) + linear_p(4096, 10)
    return sum(conv_p(a, b, 3) for a, b in convs) + classifier


def nin_p() -> int:
    blocks = [(1, 96, 11), (96, 256, 5), (256, 384, 3), (384, 10, 3)]
    return sum(conv_p(a, b, k) + 2 * conv_p(b, b, 1) for a, b, k in blocks)


BOOK_INCEPTIONS = [  # (in_channels, c1, c2, c3, c4), Section 8.4
    (192, 64, (96, 128), (16, 32), 32), (256, 128, (128, 192), (32, 96), 64),
    (480, 192, (96, 208), (16, 48), 64), (512, 160, (112, 224), (24, 64), 64),
    (512, 128, (128, 256), (24, 64), 64), (512, 112, (144, 288), (32, 64), 64),
    (528, 256, (160, 320), (32, 128), 128), (832, 256, (160, 320), (32, 128), 128),
    (832, 384, (192, 384), (48, 128), 128),
]


def inception_p(c_in, c1, c2, c3, c4) -> int:
    return (conv_p(c_in, c1, 1) + conv_p(c_in, c2[0], 1) + conv_p(c2[0], c2[1], 3)
            + conv_p(c_in, c3[0], 1) + conv_p(c3[0], c3[1], 5) + conv_p(c_in, c4, 1))


def googlenet_p() -> int:
    stem = conv_p(1, 64, 7) + conv_p(64, 64, 1) + conv_p(64, 192, 3)
    return stem + sum(inception_p(*spec) for spec in BOOK_INCEPTIONS) + linear_p(1024, 10)


def residual_p(c_in: int, c_out: int, use_1x1conv: bool) -> int:
    shortcut = conv_p(c_in, c_out, 1) if use_1x1conv else 0
    return conv_p(c_in, c_out, 3) + conv_p(c_out, c_out, 3) + 2 * bn_p(c_out) + shortcut


def resnet18_p() -> int:
    blocks = [(64, 64, False), (64, 64, False), (64, 128, True), (128, 128, False),
              (128, 256, True), (256, 256, False), (256, 512, True), (512, 512, False)]
    return conv_p(1, 64, 7) + bn_p(64) + sum(residual_p(*b) for b in blocks) + linear_p(512, 10)


# NiN and GoogLeNet counts were obtained once with sum(p.numel() for p in model.parameters())
# on NiN() and GoogLeNet() (1 channel, 10 classes), and agree with nin_p() / googlenet_p() above.
PINNED = [
    ("lenet5", lenet5, 61_706, lenet_p),
    ("alexnet", AlexNet, 46_764_746, alexnet_p),
    ("vgg11", vgg11, 128_806_154, vgg11_p),
    ("nin", NiN, 1_992_166, nin_p),
    ("googlenet", GoogLeNet, 5_977_530, googlenet_p),
    ("resnet18", resnet18, 11_178_378, resnet18_p),
]


@pytest.mark.parametrize(("name", "build", "pinned", "formula"), PINNED, ids=[p[0] for p in PINNED])
def test_parameter_count_is_pinned_and_matches_hand_formula(name, build, pinned, formula):
    assert count(on_meta(build)) == pinned
    assert formula() == pinned


# ---------------------------------------------------------------- the book's layer-by-layer shapes

LENET_ROWS = [
    ("Conv2d", (1, 6, 28, 28)), ("Sigmoid", (1, 6, 28, 28)), ("AvgPool2d", (1, 6, 14, 14)),
    ("Conv2d", (1, 16, 10, 10)), ("Sigmoid", (1, 16, 10, 10)), ("AvgPool2d", (1, 16, 5, 5)),
    ("Flatten", (1, 400)), ("Linear", (1, 120)), ("Sigmoid", (1, 120)), ("Linear", (1, 84)),
    ("Sigmoid", (1, 84)), ("Linear", (1, 10)),
]
ALEXNET_ROWS = [
    ("Conv2d", (1, 96, 54, 54)), ("ReLU", (1, 96, 54, 54)), ("MaxPool2d", (1, 96, 26, 26)),
    ("Conv2d", (1, 256, 26, 26)), ("ReLU", (1, 256, 26, 26)), ("MaxPool2d", (1, 256, 12, 12)),
    ("Conv2d", (1, 384, 12, 12)), ("ReLU", (1, 384, 12, 12)), ("Conv2d", (1, 384, 12, 12)),
    ("ReLU", (1, 384, 12, 12)), ("Conv2d", (1, 256, 12, 12)), ("ReLU", (1, 256, 12, 12)),
    ("MaxPool2d", (1, 256, 5, 5)), ("Flatten", (1, 6400)), ("Linear", (1, 4096)), ("ReLU", (1, 4096)),
    ("Dropout", (1, 4096)), ("Linear", (1, 4096)), ("ReLU", (1, 4096)), ("Dropout", (1, 4096)),
    ("Linear", (1, 10)),
]
VGG11_ROWS = [
    ("Sequential", (1, 64, 112, 112)), ("Sequential", (1, 128, 56, 56)), ("Sequential", (1, 256, 28, 28)),
    ("Sequential", (1, 512, 14, 14)), ("Sequential", (1, 512, 7, 7)), ("Flatten", (1, 25088)),
    ("Linear", (1, 4096)), ("ReLU", (1, 4096)), ("Dropout", (1, 4096)), ("Linear", (1, 4096)),
    ("ReLU", (1, 4096)), ("Dropout", (1, 4096)), ("Linear", (1, 10)),
]
NIN_ROWS = [
    ("Sequential", (1, 96, 54, 54)), ("MaxPool2d", (1, 96, 26, 26)), ("Sequential", (1, 256, 26, 26)),
    ("MaxPool2d", (1, 256, 12, 12)), ("Sequential", (1, 384, 12, 12)), ("MaxPool2d", (1, 384, 5, 5)),
    ("Dropout", (1, 384, 5, 5)), ("Sequential", (1, 10, 5, 5)), ("AdaptiveAvgPool2d", (1, 10, 1, 1)),
    ("Flatten", (1, 10)),
]
GOOGLENET_ROWS = [
    ("Sequential", (1, 64, 24, 24)), ("Sequential", (1, 192, 12, 12)), ("Sequential", (1, 480, 6, 6)),
    ("Sequential", (1, 832, 3, 3)), ("Sequential", (1, 1024)), ("Linear", (1, 10)),
]
RESNET18_ROWS = [
    ("Sequential", (1, 64, 24, 24)), ("Sequential", (1, 64, 24, 24)), ("Sequential", (1, 128, 12, 12)),
    ("Sequential", (1, 256, 6, 6)), ("Sequential", (1, 512, 3, 3)), ("Sequential", (1, 10)),
]
BOOK_ROWS = [
    ("alexnet", AlexNet, 224, ALEXNET_ROWS),
    ("vgg11", vgg11, 224, VGG11_ROWS),
    ("nin", NiN, 224, NIN_ROWS),
    ("googlenet", GoogLeNet, 96, GOOGLENET_ROWS),
    ("resnet18", resnet18, 96, RESNET18_ROWS),
]


def test_lenet_layer_shapes_match_the_book():
    assert layer_summary(lenet5(), (1, 1, 28, 28)) == LENET_ROWS


@pytest.mark.parametrize(("name", "build", "size", "rows"), BOOK_ROWS, ids=[b[0] for b in BOOK_ROWS])
def test_book_layer_shapes_via_meta_model(name, build, size, rows):
    assert layer_summary(on_meta(build), (1, 1, size, size)) == rows


@pytest.mark.parametrize(("name", "build", "size", "rows"), BOOK_ROWS[3:], ids=["googlenet", "resnet18"])
def test_book_layer_shapes_with_real_tensors_at_96(name, build, size, rows):
    assert layer_summary(build(), (1, 1, size, size)) == rows


@pytest.mark.slow
@pytest.mark.parametrize(("name", "build", "size", "rows"), BOOK_ROWS[:3], ids=["alexnet", "vgg11", "nin"])
def test_book_layer_shapes_with_real_tensors_at_224(name, build, size, rows):
    assert layer_summary(build(), (1, 1, size, size)) == rows


def test_googlenet_and_resnet_top_level_children_are_named_blocks():
    assert [n for n, _ in on_meta(GoogLeNet).named_children()] == ["b1", "b2", "b3", "b4", "b5", "head"]
    assert [n for n, _ in on_meta(resnet18).named_children()] == [
        "stem", "stage1", "stage2", "stage3", "stage4", "head"]


# ---------------------------------------------------------------- forward + backward on every builder

FAST_TRAINING = [
    ("lenet5", lambda: lenet5(), 28, 2),
    ("alexnet-quick", lambda: AlexNet(image_size=65), 65, 2),
    ("vgg11-narrow", lambda: vgg11(image_size=32, width_divisor=8), 32, 2),
    ("nin-67", lambda: NiN(), 67, 2),  # 67 is NiN's smallest input
    ("googlenet-32", lambda: GoogLeNet(), 32, 2),  # b4 and b5 see 1x1 maps
    ("resnet18-32", lambda: resnet18(), 32, 2),  # stage4 sees 1x1 maps, batch 2 keeps batch norm defined
]


@pytest.mark.parametrize(("name", "build", "size", "batch"), FAST_TRAINING, ids=[f[0] for f in FAST_TRAINING])
def test_every_parameter_gets_a_gradient(name, build, size, batch):
    assert_trains(build(), torch.randn(batch, 1, size, size))


@pytest.mark.slow
@pytest.mark.parametrize("build", [AlexNet, vgg11, NiN], ids=["alexnet", "vgg11", "nin"])
def test_full_size_models_train_at_224(build):
    assert_trains(build(), torch.randn(1, 1, 224, 224))


def test_models_accept_rgb_input_and_other_class_counts():
    for model, size in [(LeNet(3, 5), 28), (NiN(3, 5), 80), (ResNet(((1, 8), (1, 16)), 3, 5), 32),
                        (VGG(((1, 8), (1, 16)), 3, 5, image_size=16), 16)]:
        with torch.no_grad():
            assert model.eval()(torch.randn(2, 3, size, size)).shape == (2, 5)


def test_small_resnet_arch_with_wider_first_stage_gets_a_1x1_shortcut():
    model = ResNet(((1, 32), (1, 48)))
    assert isinstance(model.stage1[0].shortcut, nn.Conv2d)  # 64 stem channels -> 32 needs a projection
    assert isinstance(resnet18().stage1[0].shortcut, nn.Identity)  # the book's 64 -> 64: identity
    assert_trains(model, torch.randn(2, 1, 32, 32))


def test_vgg11_width_divisor_four_is_the_books_training_vgg():
    blocks = list(vgg11(image_size=32, width_divisor=4))[:5]
    assert [b[-3].out_channels for b in blocks] == [16, 32, 64, 128, 128]
    assert [sum(isinstance(m, nn.Conv2d) for m in b) for b in blocks] == [1, 1, 2, 2, 2]


def test_vgg_block_halves_size_and_sets_channels():
    block = vgg_block(2, 3, 8)
    assert block(torch.randn(2, 3, 10, 10)).shape == (2, 8, 5, 5)
    assert sum(isinstance(m, nn.Conv2d) for m in block) == 2


def test_nin_block_uses_first_conv_geometry_then_1x1():
    block = nin_block(3, 7, kernel_size=5, stride=2, padding=1)
    assert block(torch.randn(1, 3, 11, 11)).shape == (1, 7, 5, 5)
    assert [m.kernel_size for m in block if isinstance(m, nn.Conv2d)] == [(5, 5), (1, 1), (1, 1)]


def test_inception_output_channels_are_the_sum_of_its_paths():
    block = Inception(192, 64, (96, 128), (16, 32), 32)
    assert block.out_channels == 256
    assert block(torch.randn(2, 192, 7, 7)).shape == (2, 256, 7, 7)
    assert count(block) == inception_p(192, 64, (96, 128), (16, 32), 32)


# ---------------------------------------------------------------- residual blocks

def test_residual_keeps_shape_as_in_the_book():
    block = Residual(3)
    assert block(torch.randn(4, 3, 6, 6)).shape == (4, 3, 6, 6)
    assert count(block) == residual_p(3, 3, False)


def test_residual_with_1x1conv_halves_size_and_changes_channels():
    block = Residual(6, use_1x1conv=True, stride=2, in_channels=3)
    X = torch.randn(4, 3, 6, 6)
    assert block(X).shape == (4, 6, 3, 3)
    assert count(block) == residual_p(3, 6, True)


def test_residual_output_is_relu_of_main_path_plus_shortcut():
    block = Residual(4).eval()
    X = torch.randn(2, 4, 5, 5)
    with torch.no_grad():
        main = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(X)))))
        torch.testing.assert_close(block(X), torch.relu(main + X))


def test_resnext_book_call_keeps_shape_and_has_16_groups():
    block = ResNeXtBlock(32, 16, 1)
    assert block(torch.randn(4, 32, 96, 96)).shape == (4, 32, 96, 96)
    assert block.conv2.groups == 16
    assert block.conv2.weight.shape == (32, 2, 3, 3)  # 16 groups of 32 / 16 = 2 input channels each


def test_resnext_grouped_conv_keeps_groups_independent():
    block = ResNeXtBlock(8, 4, 1).eval()
    Y = torch.randn(1, 8, 5, 5)
    Y2 = Y.clone()
    Y2[:, :2] += 1.0  # perturb only group 0's input channels
    with torch.no_grad():
        diff = (block.conv2(Y2) - block.conv2(Y)).abs().sum(dim=(0, 2, 3))
    assert (diff[:2] > 0).all() and (diff[2:] == 0).all()


def resnext_p(c_in: int, c_out: int, groups: int, multiplier: float, use_1x1conv: bool) -> int:
    bot = round(c_out * multiplier)
    main = (conv_p(c_in, bot, 1) + conv_p(bot, bot, 3, groups) + conv_p(bot, c_out, 1)
            + 2 * bn_p(bot) + bn_p(c_out))
    return main + (conv_p(c_in, c_out, 1) + bn_p(c_out) if use_1x1conv else 0)


@pytest.mark.parametrize("groups", [1, 2, 4, 8, 16, 32])
def test_resnext_parameter_count_matches_formula(groups):
    block = ResNeXtBlock(64, groups, 0.5, use_1x1conv=True, stride=2, in_channels=32)
    assert count(block) == resnext_p(32, 64, groups, 0.5, True)
    assert block(torch.randn(2, 32, 7, 7)).shape == (2, 64, 4, 4)


def test_resnext_block_gets_gradients_everywhere():
    block = ResNeXtBlock(16, 4, 0.5, use_1x1conv=True, in_channels=8)
    out = block(torch.randn(2, 8, 6, 6))
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in block.parameters())


# ---------------------------------------------------------------- layer_summary behaviour

def test_layer_summary_prints_an_aligned_table_with_parameter_counts(capsys):
    layer_summary(lenet5(), (1, 1, 28, 28))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["layer", "output", "shape", "parameters"]
    assert "[1, 6, 28, 28]" in lines[2] and lines[2].endswith("156")
    assert lines[-1].startswith("total") and lines[-1].endswith("61,706")
    assert len({len(line) for line in lines[2:]}) == 1  # every row has the same width


def test_layer_summary_restores_each_modules_mode_and_keeps_batch_norm_stats():
    model = resnet18()
    model.train()
    model.stage2.eval()
    stats = model.stem[1].running_mean.clone()
    layer_summary(model, (2, 1, 32, 32))
    assert model.training and model.stem.training and not model.stage2.training
    assert not model.stage2[0].bn1.training and model.stage3[0].bn1.training
    torch.testing.assert_close(model.stem[1].running_mean, stats)  # ran in eval mode


def test_layer_summary_accepts_module_with_net_attribute():
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten())

    assert layer_summary(Wrapper(), (1, 1, 4, 4)) == [("Conv2d", (1, 2, 2, 2)), ("Flatten", (1, 8))]


def test_layer_summary_rejects_non_sequential_models_and_bad_shapes():
    with pytest.raises(TypeError, match=r"layer_summary: model must be an nn.Sequential.*Residual"):
        layer_summary(Residual(3), (1, 3, 6, 6))
    with pytest.raises(TypeError, match=r"layer_summary: input_shape must be a tuple of ints"):
        layer_summary(lenet5(), 28)
    with pytest.raises(ValueError, match=r"layer_summary: input_shape must hold positive ints.*\(1, 0, 28\)"):
        layer_summary(lenet5(), (1, 0, 28))


def test_layer_summary_names_the_layer_that_fails():
    with pytest.raises(ValueError, match=r"layer 7 \(7: Linear\) failed on an input of shape \(1, 576\)"):
        layer_summary(lenet5(), (1, 1, 32, 32))


# ---------------------------------------------------------------- bad arguments

def test_too_small_image_names_layer_and_smallest_working_size():
    with pytest.raises(ValueError, match=r"AlexNet: image_size=8 is too small: layer 0 \(Conv2d\)") as info:
        AlexNet(image_size=8)
    smallest = int(re.search(r"image_size >= (\d+)", str(info.value)).group(1))
    with pytest.raises(ValueError, match="too small"):
        AlexNet(image_size=smallest - 1)
    assert count(on_meta(lambda: AlexNet(image_size=smallest))) > 0
    with pytest.raises(ValueError, match=r"VGG: image_size=16 is too small.*use image_size >= 32"):
        vgg11(image_size=16)


def test_image_size_sets_first_linear_in_features():
    assert on_meta(lambda: AlexNet(image_size=96))[14].in_features == 256 * 1 * 1
    assert on_meta(lambda: vgg11(image_size=96))[6].in_features == 512 * 3 * 3
    assert on_meta(AlexNet)[14].in_features == 6400


@pytest.mark.parametrize(("build", "error", "pattern"), [
    (lambda: LeNet(in_channels=0), ValueError, r"LeNet: in_channels must be >= 1, got 0"),
    (lambda: LeNet(num_classes=2.5), TypeError, r"LeNet: num_classes must be a positive int, got 2.5"),
    (lambda: AlexNet(image_size="224"), TypeError, r"AlexNet: image_size must be a positive int"),
    (lambda: VGG([]), TypeError, r"VGG: arch must be a non-empty sequence"),
    (lambda: VGG([(1, 64, 3)]), TypeError, r"VGG: arch\[0\] must be a \(num_convs, out_channels\) pair"),
    (lambda: VGG([(0, 64)]), ValueError, r"VGG: arch\[0\]\[0\] \(num_convs\) must be >= 1"),
    (lambda: vgg11(width_divisor=3), ValueError, r"vgg11: width_divisor must divide 64.*got 3"),
    (lambda: vgg_block(1, 0, 4), ValueError, r"vgg_block: in_channels must be >= 1"),
    (lambda: nin_block(1, 4, 0, 1, 0), ValueError, r"nin_block: kernel_size must be >= 1"),
    (lambda: nin_block(1, 4, 3, 1, -1), ValueError, r"nin_block: padding must be >= 0"),
    (lambda: Inception(8, 4, 4, (2, 4), 4), TypeError, r"Inception: c2 must be a pair"),
    (lambda: ResNet(((2, 64), (2,))), TypeError, r"ResNet: arch\[1\] must be a"),
    (lambda: Residual(6, in_channels=3), ValueError, r"Residual: an identity shortcut.*use_1x1conv=True"),
    (lambda: Residual(3, stride=2), ValueError, r"Residual: .*stride=2; pass use_1x1conv=True"),
    (lambda: ResNeXtBlock(32, 5, 1), ValueError, r"ResNeXtBlock: groups=5 must divide bottleneck channels"),
    (lambda: ResNeXtBlock(32, 4, 0.01), ValueError, r"ResNeXtBlock: bottleneck_multiplier=0.01 leaves"),
    (lambda: ResNeXtBlock(32, 0, 1), ValueError, r"ResNeXtBlock: groups must be >= 1"),
    (lambda: ResNeXtBlock(64, 4, 1, stride=2), ValueError, r"ResNeXtBlock: an identity shortcut"),
])
def test_bad_arguments_raise_teaching_errors(build, error, pattern):
    with pytest.raises(error, match=pattern):
        build()


@pytest.mark.parametrize("build", [lenet5, NiN, GoogLeNet, resnet18, lambda: AlexNet(image_size=67),
                                   lambda: vgg11(image_size=32, width_divisor=8)])
def test_models_check_their_input_once_at_the_entry(build):
    """A model is the public entry point: it names itself, the expected channels and the shape."""
    model = build()
    name = type(model).__name__
    wrong_channels = rf"{name}: X must have 1 channels, got 3 \(shape \(2, 3, 32, 32\)\); build the model"
    with pytest.raises(ValueError, match=wrong_channels + r" with in_channels=3"):
        model(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match=rf"{name}: X must be 4-D \(N, C, H, W\), got a 3-D tensor"):
        model(torch.randn(1, 32, 32))
    with pytest.raises(TypeError, match=rf"{name}: X must be a torch.Tensor, got list"):
        model([[0.0]])


def test_blocks_do_not_repeat_the_models_input_check():
    """Blocks run many times per step; a wrong input there still fails, in PyTorch's own words."""
    cases = ((Residual(3), torch.randn(1, 4, 6, 6)), (ResNeXtBlock(32, 16, 1), torch.randn(1, 8, 6, 6)),
             (Inception(8, 1, (1, 1), (1, 1), 1), torch.randn(1, 3, 4, 4)))
    for block, X in cases:
        with pytest.raises(RuntimeError, match="channels"):
            block(X)


def test_residual_loads_state_dicts_that_call_the_shortcut_conv3():
    """Checkpoints saved with the book's name ``conv3`` for the 1x1 shortcut still load."""
    source = Residual(6, use_1x1conv=True, stride=2, in_channels=3)
    old = {key.replace("shortcut.", "conv3."): value for key, value in source.state_dict().items()}
    assert "conv3.weight" in old
    target = Residual(6, use_1x1conv=True, stride=2, in_channels=3)
    target.load_state_dict(old)
    torch.testing.assert_close(target.shortcut.weight, source.shortcut.weight)


def test_resnet_head_averages_then_applies_its_linear_layer():
    """Does the global average pool really average? A constant map must give its constant."""
    head = resnet18().head
    X = torch.full((1, 512, 3, 3), 2.0)
    linear = head[2]
    torch.testing.assert_close(head(X), linear(torch.full((1, 512), 2.0)))
    assert count(head) == linear_p(512, 10)


@pytest.mark.parametrize("build", [LeNet, lambda: resnet18(), lambda: GoogLeNet()])
def test_slicing_a_model_gives_a_plain_sequential_sharing_its_layers(build):
    """`model[:k]` is how a chapter looks at intermediate activations (Section 7.6)."""
    model = build().eval()
    head = model[:2]
    assert type(head) is nn.Sequential
    assert list(head) == list(model)[:2]
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(head(x), model[1](model[0](x)))
    assert model[-1] is list(model)[-1]


# ---------------------------------------------------------------- layer_costs (Sections 8.1-8.4)

class _TwoBranch(nn.Module):
    """Not sequential: a plain conv, a grouped conv, global pooling and a dense layer."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, kernel_size=3, padding=1)               # (N, 8, 10, 10)
        self.grouped = nn.Conv2d(8, 12, kernel_size=(3, 5), stride=2, groups=4, bias=False)  # (N, 12, 4, 3)
        self.fc = nn.Linear(12 * 4 * 3, 5)

    def forward(self, X):
        return self.fc(torch.flatten(self.grouped(torch.relu(self.stem(X))), 1))


def test_layer_costs_counts_params_macs_and_outputs_by_hand_for_grouped_conv_and_linear(capsys):
    rows = layer_costs(_TwoBranch(), (2, 3, 10, 10), show=False)
    assert capsys.readouterr().out == ""
    assert rows == [
        # per example: C_out * H_out * W_out outputs, each (C_in / groups) * kh * kw MACs
        LayerCost("stem", "Conv2d", 8 * 3 * 3 * 3 + 8, (8 * 10 * 10) * (3 * 3 * 3), 8 * 10 * 10),
        LayerCost("grouped", "Conv2d", 12 * (8 // 4) * 3 * 5, (12 * 4 * 3) * (2 * 3 * 5), 12 * 4 * 3),
        LayerCost("fc", "Linear", 144 * 5 + 5, 144 * 5, 5),
    ]
    assert rows[1].macs == 4320 and rows[1].params == 360


def _alexnet_macs_at_224() -> int:
    """AlexNet's MACs from the book's architecture: (C_in, C_out, k, H_out) per convolution."""
    convs = [(1, 96, 11, 54), (96, 256, 5, 26), (256, 384, 3, 12), (384, 384, 3, 12), (384, 256, 3, 12)]
    dense = [(256 * 5 * 5, 4096), (4096, 4096), (4096, 10)]
    return (sum(c_out * h * h * c_in * k * k for c_in, c_out, k, h in convs)
            + sum(n_in * n_out for n_in, n_out in dense))


def test_layer_costs_totals_for_alexnet_at_224_on_the_meta_device(capsys):
    rows = layer_costs(on_meta(AlexNet), (1, 1, 224, 224))
    assert [row.kind for row in rows] == ["Conv2d"] * 5 + ["Linear"] * 3
    assert sum(row.params for row in rows) == 46_764_746
    assert sum(row.macs for row in rows) == _alexnet_macs_at_224() == 938_146_176
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["layer", "kind", "params", "MACs", "outputs"]
    assert lines[-1].split()[:3] == ["total", "46,764,746", "938,146,176"]
    assert any(line.split()[:2] == ["all", "Linear"] for line in lines)


def test_layer_costs_are_per_example_whatever_the_batch_size():
    model = on_meta(NiN)
    assert layer_costs(model, (3, 1, 96, 96), show=False) == layer_costs(model, (1, 1, 96, 96), show=False)


@pytest.mark.parametrize("train", [True, False])
def test_layer_costs_restores_each_modules_mode_and_removes_its_hooks(train):
    model = resnet18().train(train)
    model.stage2.train(not train)
    stats = model.stem[1].running_mean.clone()
    layer_costs(model, (2, 1, 32, 32), show=False)
    assert model.training is train and model.stage3[0].bn1.training is train
    assert model.stage2.training is not train and model.stage2[0].bn1.training is not train
    assert all(not m._forward_hooks for m in model.modules())
    torch.testing.assert_close(model.stem[1].running_mean, stats)  # ran in eval mode


def test_layer_costs_rejects_bad_arguments_with_a_hint():
    with pytest.raises(TypeError, match=r"got the class AlexNet; build the model first: AlexNet\(\)"):
        layer_costs(AlexNet, (1, 1, 224, 224))
    with pytest.raises(TypeError, match=r"layer_costs: model must be an nn.Module, got str"):
        layer_costs("alexnet", (1, 1, 224, 224))
    with pytest.raises(TypeError, match=r"layer_costs: input_shape must be a tuple of ints"):
        layer_costs(lenet5(), 28)
    with pytest.raises(ValueError, match=r"layer_costs: input_shape must hold positive ints.*\(1, 0, 28\)"):
        layer_costs(lenet5(), (1, 0, 28))
    model = lenet5()
    with pytest.raises(ValueError, match=r"layer_costs: LeNet failed on an input of shape \(1, 3, 28, 28\)"):
        layer_costs(model, (1, 3, 28, 28))
    assert model.training and all(not m._forward_hooks for m in model.modules())
