"""cnncourse.diagrams: every drawing says what the model object holds, and its shapes are real."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from torch import nn  # noqa: E402

from cnncourse.diagrams import (  # noqa: E402
    draw_1x1_as_matmul,
    draw_multi_in,
    draw_multi_in_out,
    draw_network,
    draw_networks,
)
from cnncourse.functional import corr2d, corr2d_multi_in, corr2d_multi_in_out  # noqa: E402
from cnncourse.models import (  # noqa: E402
    AlexNet,
    GoogLeNet,
    Inception,
    LeNet,
    NiN,
    Residual,
    ResNeXtBlock,
    nin_block,
    resnet18,
    vgg11,
    vgg_block,
)
from cnncourse.plotting import NotebookFigure  # noqa: E402


def texts(ax) -> list[str]:
    """Every text drawn in one axes, in drawing order."""
    return [t.get_text() for t in ax.texts]


def layer_texts(ax) -> list[str]:
    """The upright texts: titles and box lines, without the italic shape labels."""
    return [t.get_text() for t in ax.texts if t.get_style() == "normal"]


def shape_labels(ax) -> list[str]:
    """The italic texts: the shapes written next to the arrows."""
    return [t.get_text() for t in ax.texts if t.get_style() == "italic"]


def boxes(ax) -> list[FancyBboxPatch]:
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)]


def shapes_after(model: nn.Sequential, X: torch.Tensor, ends: list[int]) -> list[str]:
    """Shapes that running the first ``k`` layers really gives, for each ``k`` in ``ends``."""
    with torch.no_grad():
        return [str(tuple(X.shape))] + [str(tuple(model[:k](X).shape)) for k in ends]


LENET_LAYERS = ["Conv 5×5, 6 ch, pad 2 · Sigmoid", "AvgPool 2×2, stride 2", "Conv 5×5, 16 ch · Sigmoid",
                "AvgPool 2×2, stride 2", "Flatten", "Linear 400 → 120 · Sigmoid", "Linear 120 → 84 · Sigmoid",
                "Linear 84 → 10"]


def test_lenet_lists_every_layer_in_order_with_real_shapes():
    model = LeNet().eval()
    X = torch.zeros(2, 1, 28, 28)
    fig = draw_network(model, (2, 1, 28, 28))
    (ax,) = fig.axes
    assert layer_texts(ax) == ["LeNet", "input", *LENET_LAYERS]
    # one box per layer (activations share their layer's box) plus the input
    assert len(boxes(ax)) == 1 + len(LENET_LAYERS)
    assert shape_labels(ax) == shapes_after(model, X, [2, 3, 5, 6, 7, 9, 11, 12])
    assert shape_labels(ax)[-1] == "(2, 10)"


def test_changing_the_model_changes_the_drawing():
    (ax,) = draw_network(LeNet(in_channels=3, num_classes=7), (1, 3, 28, 28)).axes
    assert "Linear 84 → 7" in texts(ax)
    assert shape_labels(ax)[-1] == "(1, 7)"
    (ax,) = draw_network(vgg_block(3, 8, 16)).axes
    assert layer_texts(ax) == ["VGG block (3 convs)", "input", *["Conv 3×3, 16 ch, pad 1 · ReLU"] * 3,
                               "MaxPool 2×2, stride 2"]
    assert shape_labels(ax) == []  # no input_shape, no forward pass, no shape labels


def test_alexnet_beside_lenet():
    models = [LeNet(), AlexNet()]
    fig = draw_networks(models, [(1, 1, 28, 28), (1, 1, 224, 224)])
    left, right = fig.axes
    assert texts(left)[0] == "LeNet" and texts(right)[0] == "AlexNet"
    assert left.get_position().x1 <= right.get_position().x0 + 1e-9
    assert layer_texts(right)[2:5] == ["Conv 11×11, 96 ch, stride 4, pad 1 · ReLU", "MaxPool 3×3, stride 2",
                                       "Conv 5×5, 256 ch, pad 2 · ReLU"]
    assert "Linear 6400 → 4096 · ReLU · Dropout 0.5" in texts(right)
    X = torch.zeros(1, 1, 224, 224)
    ends = [2, 3, 5, 6, 8, 10, 12, 13, 14, 17, 20, 21]  # where each box of AlexNet ends
    assert shape_labels(right) == shapes_after(models[1].eval(), X, ends)
    titled = draw_networks(models, titles=["small", "big"])
    assert [texts(ax)[0] for ax in titled.axes] == ["small", "big"]


def test_vgg_block_and_vgg11_stack():
    (ax,) = draw_network(vgg_block(2, 64, 128), (1, 64, 16, 16)).axes
    assert layer_texts(ax) == ["VGG block (2 convs)", "input", "Conv 3×3, 128 ch, pad 1 · ReLU",
                               "Conv 3×3, 128 ch, pad 1 · ReLU", "MaxPool 2×2, stride 2"]
    assert shape_labels(ax)[-1] == "(1, 128, 8, 8)"

    model = vgg11(image_size=32, width_divisor=8).eval()
    (ax,) = draw_network(model, (1, 1, 32, 32)).axes
    lines = layer_texts(ax)
    titles = [line for line in lines if line.startswith("VGG block")]
    assert titles == ["VGG block (1 conv)"] * 2 + ["VGG block (2 convs)"] * 3  # one box per block
    assert [line for line in lines if "Conv" in line] == [
        "Conv 3×3, 8 ch, pad 1 · ReLU", "Conv 3×3, 16 ch, pad 1 · ReLU", "2 × Conv 3×3, 32 ch, pad 1 · ReLU",
        "2 × Conv 3×3, 64 ch, pad 1 · ReLU", "2 × Conv 3×3, 64 ch, pad 1 · ReLU"]
    assert len(boxes(ax)) == 1 + 5 + 1 + 3  # input, five blocks, flatten, three linear boxes
    assert shape_labels(ax) == shapes_after(model, torch.zeros(1, 1, 32, 32), [1, 2, 3, 4, 5, 6, 9, 12, 13])


def test_a_model_on_the_meta_device_gets_its_shapes_without_arithmetic():
    with torch.device("meta"):
        model = vgg11()  # full width at 224x224: 7.5 G multiply-adds if it were computed
    (ax,) = draw_network(model, (1, 1, 224, 224)).axes
    assert shape_labels(ax)[:6] == ["(1, 1, 224, 224)", "(1, 64, 112, 112)", "(1, 128, 56, 56)",
                                    "(1, 256, 28, 28)", "(1, 512, 14, 14)", "(1, 512, 7, 7)"]


def test_nin_block_and_nin():
    (ax,) = draw_network(nin_block(1, 96, kernel_size=11, stride=4, padding=0), (1, 1, 224, 224)).axes
    assert layer_texts(ax) == ["NiN block", "input", "Conv 11×11, 96 ch, stride 4 · ReLU",
                               "Conv 1×1, 96 ch · ReLU", "Conv 1×1, 96 ch · ReLU"]
    assert shape_labels(ax) == ["(1, 1, 224, 224)"] + ["(1, 96, 54, 54)"] * 3
    (ax,) = draw_network(NiN(num_classes=5)).axes
    lines = layer_texts(ax)
    assert lines.count("NiN block") == 4
    assert "2 × Conv 1×1, 5 ch · ReLU" in lines  # the last block has one channel per class


def test_inception_shows_four_branches_and_their_channel_counts():
    block = Inception(192, 64, (96, 128), (16, 32), 32).eval()
    X = torch.zeros(1, 192, 12, 12)
    (ax,) = draw_network(block, tuple(X.shape)).axes
    lines = texts(ax)
    for line in ["Conv 1×1, 64 ch · ReLU", "Conv 1×1, 96 ch · ReLU", "Conv 3×3, 128 ch, pad 1 · ReLU",
                 "Conv 1×1, 16 ch · ReLU", "Conv 5×5, 32 ch, pad 2 · ReLU", "MaxPool 3×3, stride 1, pad 1",
                 "Conv 1×1, 32 ch · ReLU", "concatenate along channels", "64 + 128 + 32 + 32 = 256 channels"]:
        assert line in lines
    with torch.no_grad():
        expected = [str(tuple(X.shape))] + [str(tuple(p(X).shape)) for p in
                                            (block.path1, block.path2, block.path3, block.path4)]
        expected.append(str(tuple(block(X).shape)))
    assert shape_labels(ax) == expected
    other = texts(draw_network(Inception(8, 3, (4, 5), (2, 6), 7)).axes[0])
    assert "3 + 5 + 6 + 7 = 21 channels" in other and "Conv 5×5, 6 ch, pad 2 · ReLU" in other


def test_residual_with_identity_and_with_1x1_shortcut():
    (ax,) = draw_network(Residual(3), (4, 3, 6, 6)).axes
    lines = texts(ax)
    assert "identity" in lines and "shortcut" not in lines
    assert "Conv 3×3, 3 ch, pad 1 · BatchNorm · ReLU" in lines
    assert "Conv 3×3, 3 ch, pad 1 · BatchNorm" in lines
    assert "add" in lines and shape_labels(ax)[-1] == "(4, 3, 6, 6)"

    block = Residual(6, use_1x1conv=True, stride=2, in_channels=3).eval()
    (ax,) = draw_network(block, (4, 3, 6, 6)).axes
    lines = texts(ax)
    assert "identity" not in lines
    assert lines[lines.index("shortcut") + 1] == "Conv 1×1, 6 ch, stride 2"
    assert "Conv 3×3, 6 ch, stride 2, pad 1 · BatchNorm · ReLU" in lines
    with torch.no_grad():
        out = str(tuple(block(torch.zeros(4, 3, 6, 6)).shape))
    # input, after conv1, main path, shortcut, output: the last three carry the block's output shape
    assert shape_labels(ax) == ["(4, 3, 6, 6)", "(4, 6, 3, 3)", out, out, out]


def test_resnext_block_shows_groups_and_group_width():
    lines = texts(draw_network(ResNeXtBlock(32, 16, 1)).axes[0])
    assert "Conv 3×3, 32 ch, pad 1, 16 groups of 2 ch · BatchNorm · ReLU" in lines
    assert "identity" in lines
    block = ResNeXtBlock(64, 8, 0.5, use_1x1conv=True, stride=2, in_channels=32)
    (ax,) = draw_network(block, (2, 32, 8, 8)).axes
    lines = texts(ax)
    assert "Conv 3×3, 32 ch, stride 2, pad 1, 8 groups of 4 ch · BatchNorm · ReLU" in lines
    assert lines[lines.index("shortcut") + 1] == "Conv 1×1, 64 ch, stride 2 · BatchNorm"
    assert shape_labels(ax)[-1] == "(2, 64, 4, 4)"


def test_big_networks_draw_each_stage_as_one_box():
    (ax,) = draw_network(GoogLeNet(), (1, 1, 96, 96)).axes
    lines = texts(ax)
    stages = ["b1", "b2", "b3", "b4", "b5"]
    assert [line for line in lines if line in stages] == stages
    assert len(boxes(ax)) == 1 + 6
    assert sum(line.startswith("Inception ") for line in lines) == 9
    assert "Inception 64+128+32+32 = 256 ch" in lines
    assert shape_labels(ax)[1:] == ["(1, 64, 24, 24)", "(1, 192, 12, 12)", "(1, 480, 6, 6)", "(1, 832, 3, 3)",
                                    "(1, 1024)", "(1, 10)"]
    (ax,) = draw_network(resnet18(), (1, 1, 96, 96)).axes
    lines = texts(ax)
    assert len(boxes(ax)) == 1 + 6  # input, stem, four stages, head
    assert "2 × Residual 64 ch" in lines and "Residual 128 ch, stride 2, 1×1 shortcut" in lines


def test_figure_shows_itself_and_leaves_models_and_pyplot_alone():
    model = LeNet()
    model.train()
    before = plt.get_fignums()
    fig = draw_network(model, (1, 1, 28, 28))
    assert isinstance(fig, NotebookFigure)
    assert fig._repr_png_().startswith(b"\x89PNG")
    assert plt.get_fignums() == before
    assert all(m.training for m in model.modules())  # the forward pass ran in eval mode, then restored
    block = Residual(3)
    stats = block.bn1.running_mean.clone()
    draw_network(block, (2, 3, 5, 5))
    assert torch.equal(block.bn1.running_mean, stats)


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(2, 2), nn.Linear(2, 2)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.a(X) + self.b(X)


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: draw_network("LeNet"), TypeError, "must be an nn.Module"),
    (lambda: draw_network(Branchy()), TypeError, "Branchy"),
    (lambda: draw_network(LeNet(), (1, 3, 28, 28)), ValueError, "(1, 3, 28, 28)"),
    (lambda: draw_network(LeNet(), (1, 0, 28, 28)), ValueError, "positive ints"),
    (lambda: draw_network(LeNet(), "1x28x28"), TypeError, "input_shape"),
    (lambda: draw_networks(LeNet()), TypeError, "list of nn.Module"),
    (lambda: draw_networks([LeNet()], [(1, 1, 28, 28)] * 2), ValueError, "one entry per model"),
    (lambda: draw_networks([LeNet(), LeNet()], titles=["only one"]), ValueError, "titles"),
])
def test_bad_arguments_get_clear_errors(call, error, words):
    with pytest.raises(error, match="draw_network") as info:
        call()
    assert words in str(info.value)


def cells(fig, title: str) -> list[float]:
    """The numbers written in the matrix whose axes carries ``title``, row by row."""
    (ax,) = [ax for ax in fig.axes if ax.get_title() == title]
    return [float(t.get_text()) for t in ax.texts]


def values(M: torch.Tensor) -> list[float]:
    return M.flatten().tolist()


def test_multi_in_picture_shows_each_channel_and_their_sum():
    X = torch.stack([torch.arange(9.0).reshape(3, 3), torch.arange(1.0, 10.0).reshape(3, 3)])
    K = torch.stack([torch.arange(4.0).reshape(2, 2), torch.arange(1.0, 5.0).reshape(2, 2)])
    fig = draw_multi_in(X, K)
    assert cells(fig, "sum over channels") == values(corr2d_multi_in(X, K)) == [56.0, 72.0, 104.0, 120.0]
    for c in range(2):
        assert cells(fig, f"channel {c} ⋆ slice {c}") == values(corr2d(X[c], K[c]))
        assert cells(fig, f"kernel slice {c}") == values(K[c])
    other = draw_multi_in(X, -K)  # a different kernel, different numbers in the picture
    assert cells(other, "sum over channels") == [-56.0, -72.0, -104.0, -120.0]


def test_multi_in_out_picture_stacks_one_output_per_kernel_stack():
    X = torch.randint(-3, 4, (2, 4, 4)).double()
    K = torch.randint(-2, 3, (3, 2, 2, 2)).double()
    fig = draw_multi_in_out(X, K)
    Y = corr2d_multi_in_out(X, K)
    for o in range(3):
        assert cells(fig, f"output channel {o}") == values(Y[o])
        assert cells(fig, f"K[{o}, 1]") == values(K[o, 1])
    assert "(3, 3, 3)" in fig.get_suptitle()


def test_1x1_picture_is_a_matrix_product_with_the_pixel_outlined():
    X = torch.randint(-3, 4, (3, 2, 4)).float()
    K = torch.randint(-2, 3, (2, 3, 1, 1)).float()
    fig = draw_1x1_as_matmul(X, K, pixel=(1, 2))
    product = K[:, :, 0, 0] @ X.reshape(3, 8)  # (2, 8)
    assert cells(fig, "Y: 2×8") == values(product)
    assert cells(fig, "X: 3×8, a column per pixel") == values(X.reshape(3, 8))
    (y_ax,) = [ax for ax in fig.axes if ax.get_title() == "Y: 2×8"]
    (outline,) = y_ax.patches
    assert outline.get_x() == 1 * 4 + 2 - 0.5  # pixel (1, 2) is column 6 of the flattened map
    assert cells(draw_1x1_as_matmul(X, K[:, :, 0, 0]), "Y: 2×8") == values(product)  # (C_out, C) works too


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: draw_multi_in(torch.zeros(2, 3, 3), torch.zeros(3, 2, 2)), ValueError, "one slice per channel"),
    (lambda: draw_multi_in([[1.0]], torch.zeros(1, 1, 1)), TypeError, "torch.Tensor"),
    (lambda: draw_multi_in_out(torch.zeros(2, 3, 3), torch.zeros(2, 2, 2)), ValueError, "4-D"),
    (lambda: draw_1x1_as_matmul(torch.zeros(2, 3, 3), torch.zeros(4, 2, 3, 3)), ValueError, "1x1 kernels"),
    (lambda: draw_1x1_as_matmul(torch.zeros(2, 3, 3), torch.zeros(4, 2), pixel=(3, 0)), ValueError, "inside"),
])
def test_channel_pictures_reject_bad_arguments(call, error, words):
    with pytest.raises(error, match="draw_") as info:
        call()
    assert words in str(info.value)
