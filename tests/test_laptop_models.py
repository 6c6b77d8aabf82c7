"""The laptop and quick modes of the training chapters (Sections 7.6, 8.1-8.6): how the mode is
chosen, and the narrower networks they train, which keep every block, its order and its kinds of
layers while the channel widths shrink."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from cnncourse import models, runtime, training


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _kinds(model: nn.Module) -> list[tuple[str, tuple]]:
    """Every leaf layer's type and geometry, channel counts left out: the architecture's skeleton."""
    out = []
    for module in model.modules():
        if list(module.children()):
            continue
        geometry = tuple(getattr(module, a, None) for a in ("kernel_size", "stride", "padding", "p"))
        out.append((type(module).__name__, geometry))
    return out


# ---- choosing the mode -------------------------------------------------------------------------

@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv(runtime.QUICK_ENV, raising=False)
    monkeypatch.delenv(runtime.MODE_ENV, raising=False)
    return monkeypatch


def test_without_a_gpu_the_default_is_laptop_and_the_reason_says_how_to_get_the_book(clean_env):
    clean_env.setattr(torch.cuda, "is_available", lambda: False)
    mode = runtime.choose_mode()
    assert mode.name == runtime.course_mode() == "laptop"
    assert "no CUDA GPU" in mode.reason and "CNNCOURSE_MODE=book" in mode.reason
    assert str(mode).startswith("laptop mode: ")


def test_with_a_gpu_the_default_is_the_book(clean_env):
    clean_env.setattr(torch.cuda, "is_available", lambda: True)
    clean_env.setattr(torch.cuda, "get_device_name", lambda index=0: "Test GPU")
    mode = runtime.choose_mode()
    assert mode.name == "book" and "Test GPU" in mode.reason and "CNNCOURSE_MODE=laptop" in mode.reason


@pytest.mark.parametrize("name", runtime.MODES)
def test_cnncourse_mode_forces_a_mode_whatever_the_hardware(clean_env, name):
    clean_env.setattr(torch.cuda, "is_available", lambda: True)
    clean_env.setenv(runtime.MODE_ENV, f" {name.upper()} ")
    mode = runtime.choose_mode()
    assert mode.name == name and f"CNNCOURSE_MODE={name}" in mode.reason
    assert runtime.quick_mode() is (name == "quick")


def test_cnncourse_quick_keeps_meaning_quick(clean_env):
    clean_env.setenv(runtime.QUICK_ENV, "1")
    clean_env.setenv(runtime.MODE_ENV, "book")
    assert runtime.choose_mode().name == "quick" and runtime.quick_mode() is True


def test_an_unknown_mode_is_refused_with_the_choices(clean_env):
    clean_env.setenv(runtime.MODE_ENV, "fast")
    expected = r"choose_mode: CNNCOURSE_MODE must be one of book, laptop, quick, got 'fast'"
    with pytest.raises(ValueError, match=expected):
        runtime.choose_mode()


def test_a_forced_mode_imports_no_torch(clean_env):
    code = ("import os, sys; os.environ['CNNCOURSE_MODE'] = 'laptop'; import cnncourse.runtime as r; "
            "print(r.course_mode(), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["laptop", "False"]


# ---- narrower networks, same architecture -------------------------------------------------------

BOOK_AND_NARROW = [
    ("AlexNet", lambda: models.AlexNet(),
     lambda: models.AlexNet(image_size=75, width_divisor=8, hidden_units=512), (2, 1, 75, 75)),
    ("VGG-11", lambda: models.vgg11(image_size=32),
     lambda: models.vgg11(image_size=32, width_divisor=8, hidden_units=512), (2, 1, 32, 32)),
    ("NiN", lambda: models.NiN(), lambda: models.NiN(width_divisor=4), (2, 1, 67, 67)),
    ("GoogLeNet", lambda: models.GoogLeNet(), lambda: models.GoogLeNet(width_divisor=8), (2, 1, 32, 32)),
    ("ResNet-18", lambda: models.resnet18(), lambda: models.resnet18(width_divisor=8), (2, 1, 32, 32)),
]


@pytest.mark.parametrize("name,book,narrow,shape", BOOK_AND_NARROW, ids=[b[0] for b in BOOK_AND_NARROW])
def test_a_narrow_network_keeps_every_layer_kind_and_geometry_and_trains(name, book, narrow, shape):
    torch.manual_seed(0)
    with torch.device("meta"):
        skeleton = _kinds(book())
    model = narrow()
    assert _kinds(model) == skeleton, f"{name}: the narrow network lost or changed a layer"
    X = torch.rand(shape)
    out = model(X)
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    out.square().sum().backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None]
    assert not no_grad, f"{name}: parameters without a gradient: {no_grad}"


def test_default_widths_keep_the_pinned_parameter_counts():
    with torch.device("meta"):
        counts = [_count(models.AlexNet()), _count(models.vgg11()), _count(models.NiN()),
                  _count(models.GoogLeNet()), _count(models.resnet18())]
    assert counts == [46_764_746, 128_806_154, 1_992_166, 5_977_530, 11_178_378]


def test_width_divisor_divides_the_channels_of_every_convolution():
    book = [m.out_channels for m in models.AlexNet().modules() if isinstance(m, nn.Conv2d)]
    narrow = [m.out_channels for m in models.AlexNet(width_divisor=4).modules() if isinstance(m, nn.Conv2d)]
    assert book == [96, 256, 384, 384, 256] and narrow == [24, 64, 96, 96, 64]
    nin = [m.out_channels for m in models.NiN(width_divisor=8).modules() if isinstance(m, nn.Conv2d)]
    assert nin == [12] * 3 + [32] * 3 + [48] * 3 + [10] * 3  # the class maps keep num_classes channels
    googlenet = models.GoogLeNet(width_divisor=8)
    inception = next(m for m in googlenet.modules() if isinstance(m, models.Inception))
    assert inception.out_channels == 256 // 8  # (64 + 128 + 32 + 32) / 8
    resnet = models.resnet18(width_divisor=4)
    widths = [resnet.stem[0].out_channels] + [stage[0].conv1.out_channels for stage in list(resnet)[1:5]]
    assert widths == [16, 16, 32, 64, 128]


def test_hidden_units_set_the_dense_head_of_alexnet_and_vgg():
    for model in (models.AlexNet(image_size=75, hidden_units=256),
                  models.vgg11(image_size=32, hidden_units=256)):
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        assert [m.out_features for m in linears] == [256, 256, 10]


@pytest.mark.parametrize("build,message", [
    (lambda: models.AlexNet(width_divisor=3),
     r"AlexNet: width_divisor must divide every channel count .*got 3; try one of \[1, 2, 4, 8, 16, 32\]"),
    (lambda: models.GoogLeNet(width_divisor=16),
     r"GoogLeNet: width_divisor must divide .*got 16; try one of \[1, 2, 4, 8\]"),
    (lambda: models.NiN(width_divisor=0), r"NiN: width_divisor must be >= 1, got 0"),
    (lambda: models.resnet18(width_divisor=3), r"resnet18: width_divisor must divide"),
    (lambda: models.AlexNet(hidden_units=0), r"AlexNet: hidden_units must be >= 1, got 0"),
])
def test_bad_widths_are_refused_naming_the_model_and_the_choices(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_init_he_draws_relu_scaled_weights_and_zero_biases():
    torch.manual_seed(0)
    conv, other = nn.Conv2d(64, 128, kernel_size=3), nn.BatchNorm2d(4)
    before = other.weight.detach().clone()
    for module in (conv, other):
        training.init_he(module)
    fan_in = 64 * 3 * 3
    std = conv.weight.std().item()
    assert abs(std - (2 / fan_in) ** 0.5) < 0.05 * (2 / fan_in) ** 0.5  # He et al.: variance 2 / fan_in
    assert torch.count_nonzero(conv.bias) == 0
    torch.testing.assert_close(other.weight.detach(), before)  # other layers are left alone
