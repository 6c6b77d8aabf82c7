"""The convolution explorer in a real JupyterLab, driven by headless Chromium (Playwright).

Checks what the pure-Python tests cannot: the widgets render, a key press on a slider reaches
the kernel, and the recomputed shape text comes back to the page.
"""

from __future__ import annotations

import re

import pytest

from cnncourse.functional import conv_output_shape
from cnncourse.widgets import conv_explorer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def expected_after_stride_step() -> tuple[str, str, str]:
    """The H formula line before and after one ArrowRight on "stride h", and the new shape line."""
    explorer = conv_explorer()
    s = explorer.settings()
    before = explorer.shape_text.split("\n")[0]
    stride = (s.stride[0] + 1, s.stride[1])
    h, w = conv_output_shape(s.input_size, s.kernel_size, stride, s.padding, s.dilation)
    explorer.set(stride_h=stride[0])
    after = explorer.shape_text.split("\n")[0]
    assert after.endswith(f"= {h}") and before != after
    return before, after, f"output shape: {h} × {w}"


def test_conv_explorer_stride_slider_updates_shape_in_jupyterlab(lab_browser, tmp_path):
    from playwright.sync_api import expect

    before, after, shape_line = expected_after_stride_step()
    page = lab_browser.open_notebook("conv_explorer.ipynb")
    try:
        kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))
        page.locator(".widget-slider .noUi-handle").first.wait_for()
        shape = page.locator(".cnncourse-conv-shape").last
        expect(shape).to_contain_text(before)
        expect(page.locator("img.widget-image").first).to_be_visible()  # the figure
        label = page.locator(".widget-label", has_text=re.compile(r"^stride h$"))
        slider = page.locator(".widget-slider", has=label)
        slider.locator(".noUi-handle").focus()
        page.keyboard.press("ArrowRight")
        expect(shape).to_contain_text(after)
        expect(shape).to_contain_text(shape_line)
        kernel_idle.wait_for()  # the redrawn figure follows the text; let it arrive
    finally:
        # After the checks: the proof; after a failure: what the page looked like.
        page.screenshot(path=str(tmp_path / "conv_explorer.png"), full_page=True)
        print(f"screenshot: {tmp_path / 'conv_explorer.png'}")
        page.close()
