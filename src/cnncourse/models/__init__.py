"""The networks of Sections 7.6 and 8.1-8.6, one file per family.

Every model is an ``nn.Sequential`` whose top-level children are the rows the book prints
when it walks a dummy input through the network, so :func:`layer_summary` reproduces those
printouts. All layers have explicit channel counts (no lazy layers) and PyTorch's default
initialisation; call ``cnncourse.training.init_xavier`` for the book's Xavier initialisation.
"""

from .alexnet import AlexNet
from .googlenet import GoogLeNet, Inception
from .lenet import LeNet, lenet5
from .nin import NiN, nin_block
from .resnet import Residual, ResNet, ResNeXtBlock, resnet18
from .summary import LayerCost, layer_costs, layer_summary
from .vgg import VGG, vgg11, vgg_block

__all__ = [
    "LeNet",
    "lenet5",
    "AlexNet",
    "vgg_block",
    "VGG",
    "vgg11",
    "nin_block",
    "NiN",
    "Inception",
    "GoogLeNet",
    "Residual",
    "ResNet",
    "resnet18",
    "ResNeXtBlock",
    "layer_summary",
    "layer_costs",
    "LayerCost",
]
