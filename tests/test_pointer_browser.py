"""The pointing convolution explorer in a real JupyterLab, driven by headless Chromium (Playwright).

The mouse goes to pixel positions on the drawing; what the page then shows (the window, the
weight on each cell, the multiply-sum, the output cells an input feeds, the output after
painting, the copied code) is checked against ``torch`` itself. The browser may reach only
the local Lab, so this also proves the explorer works offline. The tests share one page and
run in order (pin, then copy, then paint).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse.widgets.pointer_data import number_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = Path(__file__).parent / "browser_fixtures" / "conv_pointer.ipynb"


def notebook_namespace() -> dict:
    """The fixture notebook's code run here: the same tensors and settings as on the page."""
    namespace: dict = {}
    for cell in json.loads(NOTEBOOK.read_text())["cells"]:
        exec("".join(cell["source"]), namespace)  # noqa: S102 - our own fixture notebook
    return namespace


def weights(Y: torch.Tensor, grid: torch.Tensor, index: int) -> torch.Tensor:
    """d Y[index] / d grid: the weight output cell ``index`` puts on each input cell (autograd)."""
    return torch.autograd.grad(Y.reshape(-1)[index], grid, retain_graph=True)[0]


def torch_conv(X: torch.Tensor, K: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The notebook's first explorer by PyTorch: the padded grid (a leaf), Y, and Y for an all-ones K."""
    grid = F.pad(X.double(), (1, 1, 1, 1)).requires_grad_(True)
    Y, Y_ones = (F.conv2d(grid[None, None], W.double()[None, None], stride=(2, 1), dilation=(1, 2))[0, 0]
                 for W in (K, torch.ones_like(K)))
    return grid, Y, Y_ones


def window(Y: torch.Tensor, Y_ones: torch.Tensor, grid: torch.Tensor, index: int) -> dict:
    """The cells output ``index`` reads (by autograd through an all-ones kernel, so zero weights
    count too) with the weight on each, as the page writes it."""
    w, reads = weights(Y, grid, index), weights(Y_ones, grid, index)
    return {(r, c): "×" + number_text(float(w[r, c])) for r, c in torch.nonzero(reads).tolist()}


@pytest.fixture(scope="module")
def page(lab_browser):
    page = lab_browser.open_notebook(NOTEBOOK.name)
    page.locator(".cp-root").nth(4).locator(".cp-output .cp-cell").first.wait_for()  # all five drawn
    yield page
    page.close()


def point(page, explorer: int, panel: str, row: int, col: int, click: bool = False, grid: int = 0) -> None:
    """Move the mouse to the centre of cell (row, col) of a panel's grid, by pixels; click if asked."""
    grid = page.locator(".cp-root").nth(explorer).locator(f".cp-{panel} .cp-grid").nth(grid)
    grid.scroll_into_view_if_needed()
    box, cell = grid.bounding_box(), int(grid.get_attribute("data-cell"))
    assert box["width"] == pytest.approx(cell * int(grid.get_attribute("data-cols")), abs=1)
    x, y = box["x"] + (col + 0.5) * cell, box["y"] + (row + 0.5) * cell
    page.mouse.move(x, y)
    if click:
        page.mouse.click(x, y)


def marked(page, explorer: int, panel: str, css: str, grid: int = 0) -> dict[tuple[int, int], str]:
    """The cells of a panel's grid that carry a class, with the weight written on them."""
    cells = page.locator(".cp-root").nth(explorer).locator(f".cp-{panel} .{css}")
    found = cells.evaluate_all("cells => cells.map(c => ({row: c.dataset.row, col: c.dataset.col, "
                               "grid: c.dataset.grid, weight: c.dataset.weight || ''}))")
    return {(int(c["row"]), int(c["col"])): c["weight"] for c in found if int(c["grid"]) == grid}


def info(page, explorer: int) -> str:
    return page.locator(".cp-root").nth(explorer).locator(".cp-info").inner_text()


def output_labels(page, explorer: int) -> list[str]:
    return page.locator(".cp-root").nth(explorer).locator(".cp-output .cp-cell").all_inner_texts()


def screenshot(page, explorer: int, path: Path) -> None:
    """The explorer's whole output (sliders and drawing), kept under the test's temporary folder."""
    output = page.locator(".jp-OutputArea-output", has=page.locator(".cp-root")).nth(explorer)
    output.screenshot(path=str(path))
    print(f"screenshot: {path}")


def test_pointer_hover_and_pin_an_output_cell_shows_window_weights_and_sum(page, tmp_path):
    ns = notebook_namespace()
    grid, Y, Y_ones = torch_conv(ns["X"], ns["K"])
    row, col = 1, 2
    point(page, 0, "output", row, col)
    expected = window(Y, Y_ones, grid, row * Y.shape[1] + col)
    assert len(expected) == 6
    assert marked(page, 0, "input", "cp-window") == expected  # the window and its weights
    assert set(marked(page, 0, "kernel", "cp-tap")) == {(a, b) for a in range(3) for b in range(2)}
    text = info(page, 0)
    assert text == ns["conv"].data.formulas()[row * Y.shape[1] + col]
    assert text.endswith(f"= {number_text(Y[row, col].item())}")  # the multiply-sum's value is torch's
    assert text.count("·") == 6  # one product per kernel weight
    point(page, 0, "output", row, col, click=True)
    page.mouse.move(5, 5)  # away: the pinned cell stays on show
    assert marked(page, 0, "input", "cp-window") == expected
    assert info(page, 0) == text
    assert marked(page, 0, "output", "cp-pinned") == {(row, col): ""}
    screenshot(page, 0, tmp_path / "conv_pointer.png")


def test_pointer_hover_an_input_cell_lights_every_output_it_feeds(page):
    ns = notebook_namespace()
    grid, _, Y = torch_conv(ns["X"], ns["K"])  # all-ones kernel: every read shows in the gradient
    for row, col in [(1, 1), (3, 4)]:  # a corner of X, and a cell inside
        point(page, 0, "input", row, col)
        feeds = {divmod(o, Y.shape[1]) for o in range(Y.numel()) if weights(Y, grid, o)[row, col] != 0}
        assert set(marked(page, 0, "output", "cp-fed")) == feeds
        assert f" is read by {len(feeds)} output cell(s)" in info(page, 0)


def test_pointer_transposed_output_cell_shows_the_inputs_that_scatter_into_it(page, tmp_path):
    ns = notebook_namespace()
    X = ns["X_up"].double().requires_grad_(True)
    Y, Y_ones = (F.conv_transpose2d(X[None, None], K.double()[None, None], stride=2, padding=(0, 1))[0, 0]
                 for K in (ns["K_up"], torch.ones_like(ns["K_up"])))
    for row, col in [(1, 1), (2, 2), (3, 4)]:
        point(page, 1, "output", row, col)
        expected = window(Y, Y_ones, X, row * Y.shape[1] + col)
        assert expected and marked(page, 1, "input", "cp-window") == expected
        assert info(page, 1).endswith(f"= {number_text(Y[row, col].item())}")
    screenshot(page, 1, tmp_path / "conv_pointer_transposed.png")


def test_pointer_copied_code_runs_and_gives_the_grid_on_the_page(page, lab_browser):
    ns = notebook_namespace()
    page.locator(".cp-root").nth(0).locator(".cp-copy").click()
    code = page.evaluate("navigator.clipboard.readText()")
    assert code == page.locator(".cp-root").nth(0).locator(".cp-code").inner_text().rstrip("\n") + "\n"
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, namespace)  # noqa: S102 - the explorer's generated code
    _, Y, _ = torch_conv(ns["X"], ns["K"])
    torch.testing.assert_close(namespace["Y"], Y.detach())
    assert tuple(namespace["shape"]) == tuple(Y.shape)
    assert output_labels(page, 0) == [number_text(v) for v in Y.reshape(-1).tolist()]
    assert lab_browser.outside == []  # nothing was fetched from outside the Lab


def test_pointer_flip_toggle_flips_the_kernel_and_the_output_follows_torch(page):
    ns = notebook_namespace()
    output = page.locator(".jp-OutputArea-output", has=page.locator(".cp-root")).first
    toggle = output.locator(".widget-checkbox", has_text="convolution (flip the kernel)").locator("input")
    root = page.locator(".cp-root").first
    for flipped in (True, False):
        toggle.set_checked(flipped)
        K = ns["K"].flip(0, 1) if flipped else ns["K"]
        _, Y, _ = torch_conv(ns["X"], K)
        expected = [number_text(v) for v in Y.reshape(-1).tolist()]
        kernel = [number_text(v) for v in K.reshape(-1).tolist()]
        deadline = time.monotonic() + 30
        while output_labels(page, 0) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert output_labels(page, 0) == expected
        assert root.locator(".cp-kernel .cp-cell").all_inner_texts() == kernel
        assert ("flipped" in root.locator(".cp-kernel .cp-title").inner_text()) == flipped


def test_pointer_play_walks_the_pinned_window_over_the_output(page):
    ns = notebook_namespace()
    formulas = ns["conv"].data.formulas()
    page.mouse.move(5, 5)
    output = page.locator(".jp-OutputArea-output", has=page.locator(".cp-root")).first
    start = set(marked(page, 0, "output", "cp-pinned"))
    output.locator(".widget-play button").first.click()  # play
    deadline = time.monotonic() + 30
    while set(marked(page, 0, "output", "cp-pinned")) in (start, set()) and time.monotonic() < deadline:
        time.sleep(0.1)
    output.locator(".widget-play button").nth(1).click()  # pause
    time.sleep(1)  # a step already on its way may still arrive
    (row, col), = marked(page, 0, "output", "cp-pinned")
    assert (row, col) not in start
    assert info(page, 0) == formulas[row * ns["conv"].data.output.shape[1] + col]  # walked there, sum shown


def test_pointer_painting_input_cells_updates_the_output_like_torch(page, tmp_path):
    ns = notebook_namespace()
    root = page.locator(".cp-root").nth(0)
    checkbox = page.locator(".widget-checkbox", has_text="paint the input").first
    checkbox.locator("input").check()
    page.locator(".cp-input.cp-painting").first.wait_for()
    painted = ns["X"].double().clone()
    point(page, 0, "input", 2, 2)  # panel cells: X[1, 1], then a drag over X[1, 2] and X[1, 3]
    page.mouse.down()
    for col in (3, 4):
        point(page, 0, "input", 2, col)
    page.mouse.up()
    point(page, 0, "input", 4, 5, click=True)  # X[3, 4]
    painted[1, 1:4] = 1.0
    painted[3, 4] = 1.0
    grid, Y, _ = torch_conv(painted, ns["K"])
    expected = [number_text(v) for v in Y.reshape(-1).tolist()]
    deadline = time.monotonic() + 30
    while output_labels(page, 0) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    assert output_labels(page, 0) == expected
    cells = root.locator(".cp-input .cp-cell").all_inner_texts()
    assert cells == [number_text(v) for v in grid.reshape(-1).tolist()]
    screenshot(page, 0, tmp_path / "conv_pointer_painted.png")


def channel_windows(X: torch.Tensor, K: torch.Tensor, groups: int, index: int) -> dict:
    """Output ``index`` of the channels explorer (padding 1), by autograd: {channel: {(row, col): weight}}."""
    grid = F.pad(X.double(), (1, 1, 1, 1)).requires_grad_(True)
    Y, Y_ones = (F.conv2d(grid[None], W, groups=groups)[0] for W in (K, torch.ones_like(K)))
    w, reads = weights(Y, grid, index), weights(Y_ones, grid, index)
    found: dict = {}
    for ci, r, c in torch.nonzero(reads).tolist():
        found.setdefault(ci, {})[(r, c)] = "×" + number_text(float(w[ci, r, c]))
    return found


def test_channels_pointer_output_cell_reads_only_its_group_then_depthwise(page, tmp_path):
    ns = notebook_namespace()
    chan, X = ns["chan"], ns["X_ch"]
    pixels = chan.data.output[0].numel()
    width = chan.data.output.shape[2]
    for groups in (2, 4):
        if groups == 4:  # the dropdown, as a student picks it
            output = page.locator(".jp-OutputArea-output", has=page.locator(".cp-root")).nth(2)
            output.locator(".widget-dropdown", has_text="groups").locator("select").select_option("4")
            page.locator(".cp-root").nth(2).locator(".cp-lines", has_text="depthwise").wait_for()
            chan.set(groups=4)  # the Python twin follows: the same seeded kernels
        K = chan.K
        index = 3 * pixels + 1 * width + 2  # output channel 3, row 1, col 2
        point(page, 2, "output", 1, 2, grid=3)
        expected = channel_windows(X, K, groups, index)
        assert sorted(expected) == ([2, 3] if groups == 2 else [3])  # only its group's input channels
        for ci in range(4):
            assert marked(page, 2, "input", "cp-window", grid=ci) == expected.get(ci, {})
        assert info(page, 2) == chan.data.formulas()[index]
        assert info(page, 2).endswith("= " + number_text(float(chan.data.output.reshape(-1)[index])))
        point(page, 2, "input", 2, 2, grid=0)  # input channel 0 feeds only its group's outputs
        fed = {g for g in range(4) if marked(page, 2, "output", "cp-fed", grid=g)}
        assert fed == ({0, 1} if groups == 2 else {0})
    screenshot(page, 2, tmp_path / "channels_pointer.png")


def colour(page, explorer: int, panel: str, row: int, col: int, grid: int = 0) -> tuple[int, int, int]:
    """The background colour the page paints under a cell (its gray level when it is shaded)."""
    cell = page.locator(".cp-root").nth(explorer).locator(f".cp-{panel} .cp-grid").nth(grid).locator(
        f'.cp-cell[data-row="{row}"][data-col="{col}"]')
    text = cell.evaluate("c => getComputedStyle(c).backgroundColor")
    return tuple(int(v) for v in text[text.index("(") + 1:text.index(")")].split(",")[:3])


def test_field_pointer_lights_the_input_pixels_a_deep_lenet_unit_depends_on(page, tmp_path):
    ns = notebook_namespace()
    explorer, lenet, image = ns["field"], ns["lenet"], ns["X_field"]
    torch.manual_seed(0)
    layers = [nn.Conv2d(1, 2, 5, padding=2), nn.AvgPool2d(2, 2), nn.Conv2d(2, 2, 5), nn.AvgPool2d(2, 2)]
    X = torch.randn(1, 1, 28, 28, requires_grad=True)
    maps, Y = [X], X
    for layer in layers:  # LeNet's geometry; the sigmoids between do not change which pixels reach
        Y = layer(Y)
        Y.retain_grad()
        maps.append(Y)
    row, col = 1, 3
    Y[0, :, row, col].sum().backward()
    field = {tuple(rc) for rc in torch.nonzero(X.grad[0, 0]).tolist()}
    point(page, 3, "output", row, col)
    assert set(marked(page, 3, "input", "cp-window")) == field
    for g, m in enumerate(maps[1:-1]):  # the maps in between carry the field too
        assert set(marked(page, 3, "kernel", "cp-tap", grid=g)) == {
            tuple(rc) for rc in torch.nonzero(m.grad[0].abs().sum(0)).tolist()}
    assert info(page, 3) == explorer.drawing.formulas[row * 5 + col]
    assert f"depends on {len(field)} input pixel(s)" in info(page, 3)
    # The image under the cells, highlighted or not: the disc white, the rest black.
    inside = next(rc for rc in field if image[rc])
    assert colour(page, 3, "input", *inside) == (255, 255, 255)
    assert colour(page, 3, "input", 0, 0) == (0, 0, 0)
    # The deepest map as the trained-or-not network computes it, averaged over its 16 channels.
    with torch.no_grad():
        deep = nn.Sequential(*list(lenet.children())[:6])(image[None, None].float())[0].mean(0)
    level = (deep - deep.min()) / (deep.max() - deep.min())
    for r, c in [(row, col), (0, 0), (4, 4)]:
        gray = round(255 * float(level[r, c]))
        assert all(abs(v - gray) <= 1 for v in colour(page, 3, "output", r, c)), (r, c)
    value = number_text(float(deep[row, col]))
    assert info(page, 3).endswith(f"its value here is {value} (mean of 16 channels)")
    point(page, 3, "input", 0, 0)  # a corner pixel: seen by a single unit of the last layer
    assert set(marked(page, 3, "output", "cp-fed")) == {(0, 0)}
    screenshot(page, 3, tmp_path / "receptive_field_pointer.png")


def test_pool_pointer_shows_each_window_its_maximum_and_then_its_mean(page, tmp_path):
    ns = notebook_namespace()
    explorer, X = ns["pool"], ns["X_pool"].double()
    grid = F.pad(X, (1, 1, 1, 1)).requires_grad_(True)  # the padded input the page draws
    Y = F.avg_pool2d(grid[None, None], 3, stride=2)[0, 0]
    row, col = 1, 1
    point(page, 4, "output", row, col, click=True)
    window = torch.autograd.grad(Y[row, col], grid)[0]
    assert set(marked(page, 4, "input", "cp-window")) == {tuple(rc) for rc in torch.nonzero(window).tolist()}
    expected, where = F.max_pool2d(X[None, None], 3, 2, 1, return_indices=True)
    r, c = divmod(int(where[0, 0, row, col]), X.shape[1])
    assert info(page, 4) == explorer.drawing.formulas[row * 3 + col]
    assert info(page, 4).endswith(f"= {number_text(float(expected[0, 0, row, col]))}, at X[{r}, {c}]")
    point(page, 4, "input", 0, 0)  # a padding corner: in one window, never the maximum
    assert set(marked(page, 4, "output", "cp-fed")) == {(0, 0)}
    assert info(page, 4).endswith("lies in 1 window(s): it never wins a max")
    output = page.locator(".jp-OutputArea-output", has=page.locator(".cp-root")).nth(4)
    output.get_by_role("button", name="avg").click()  # the mode toggle above the drawing
    output.locator(".cp-kernel .cp-cell").first.wait_for()  # the weights 1/9 appear
    point(page, 4, "output", row, col)
    mean = F.avg_pool2d(X[None, None], 3, 2, 1)[0, 0, row, col]
    assert info(page, 4).endswith(f"/ 9 = {number_text(float(mean))}")
    assert set(marked(page, 4, "input", "cp-window").values()) == {"×1/9"}
    screenshot(page, 4, tmp_path / "pool_pointer.png")
