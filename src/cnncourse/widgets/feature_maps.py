"""The feature-map explorer (Section 7.6): what each layer of a trained network computes."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import torch
from torch import nn

from cnncourse._checks import check_floating, check_tensor
from cnncourse.runtime import evaluation_mode

from .base import Explorer, int_slider, lines_html
from .drawing import Heatmap, new_figure

__all__ = ["FeatureMapExplorer", "capture_activations"]

CSS_CLASS = "cnncourse-feature-info"


def _as_batch(images: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        images = torch.stack([check_tensor("feature_map_explorer", "images[i]", x, ndim=(2, 3))
                              for x in images])
    check_tensor("feature_map_explorer", "images", images, ndim=(3, 4), layout="(N, C, H, W) or (N, H, W)")
    check_floating("feature_map_explorer", "images", images)
    return images if images.dim() == 4 else images.unsqueeze(1)  # (N, C, H, W)


def capture_activations(model: nn.Module, images: torch.Tensor) -> list[tuple[str, nn.Module, torch.Tensor]]:
    """Run ``model`` once in eval mode and keep each top-level child's output.

    Forward hooks sit on ``model``'s direct children (a model that merely wraps one container
    is unwrapped first). Every submodule's train/eval mode is restored afterwards.

    Returns:
        ``(name, module, output)`` per child, in the order they ran; outputs are ``(N, ...)``.
    """
    root = model
    while len(list(root.children())) == 1 and len(list(next(root.children()).children())) > 0:
        root = next(root.children())
    captured: list[tuple[str, nn.Module, torch.Tensor]] = []

    def keep(name: str):
        def hook(module: nn.Module, args: tuple, out: object) -> None:
            if isinstance(out, torch.Tensor):  # skip children that return tuples or dicts
                captured.append((name, module, out.detach().clone()))
        return hook

    handles = [module.register_forward_hook(keep(name)) for name, module in root.named_children()]
    try:
        with evaluation_mode(model), torch.no_grad():
            model(images)
    finally:
        for handle in handles:
            handle.remove()
    if not captured:
        raise ValueError(f"feature_map_explorer: {type(model).__name__} has no child modules to look "
                         f"inside; pass a model built from layers, e.g. an nn.Sequential")
    return captured


class FeatureMapExplorer(Explorer):
    """Sliders over the images, layers and channels of a network's activations.

    Attributes:
        images: the ``(N, C, H, W)`` inputs; ``activations``: ``(name, module, output)`` per layer.
        output: the 2-D map shown for the current image/layer/channel (a tensor).
        shape_text: which layer, its output shape and the channel shown.
    """

    def __init__(self, model: nn.Module, images: torch.Tensor | Sequence[torch.Tensor]) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"feature_map_explorer: model must be an nn.Module, got {type(model).__name__}")
        self.images = _as_batch(images)
        self.activations = capture_activations(model, self.images)
        controls = {
            "image": int_slider("image", 0, 0, len(self.images) - 1),
            "layer": int_slider("layer", 0, 0, len(self.activations) - 1),
            "channel": int_slider("channel", 0, 0, 0),
        }
        self.info_html = widgets.HTML()
        self.info_html.add_class(CSS_CLASS)
        fig, axes = new_figure(9, 3.8, 2)
        self.maps = {"input": Heatmap(fig, axes[0], "gray"), "output": Heatmap(fig, axes[1], "viridis")}
        super().__init__(controls, fig, [*controls.values(), self.info_html])
        self.refresh()

    def _compute(self) -> None:
        n, layer = self.controls["image"].value, self.controls["layer"].value
        name, module, out = self.activations[layer]
        channel = self.controls["channel"]
        per_image = out[n]  # (C, H, W) for feature maps, (F,) after Flatten/Linear
        if per_image.dim() == 3:
            channel.max, channel.disabled = per_image.shape[0] - 1, False
            self.output = per_image[channel.value]  # (H, W)
            what = f"channel {channel.value} of {per_image.shape[0]}"
        else:
            channel.max, channel.disabled = 0, True
            self.output = per_image.reshape(1, -1)  # (1, F): one row of features
            what = f"all {self.output.shape[1]} features as one row"
        described = f"{type(module).__name__}({module.extra_repr()})"
        self.shape_text = (f"layer {layer} ({name}): {described} → output {tuple(per_image.shape)}; "
                           f"showing {what} for image {n}")
        self.info_html.value = lines_html([self.shape_text], CSS_CLASS)

    def _draw(self) -> None:
        n = self.controls["image"].value
        self.maps["input"].update(self.images[n].mean(dim=0).numpy(), f"image {n}")
        h, w = tuple(self.output.shape)
        self.maps["output"].update(self.output.numpy(), f"layer {self.controls['layer'].value}: {h} × {w}")
