"""The convolution explorer in a real JupyterLab, driven by headless Chromium (Playwright).

Checks what the pure-Python tests cannot: the widgets render, a key press on a slider reaches
the kernel, and the recomputed shape text comes back to the page.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cnncourse.functional import conv_output_shape
from cnncourse.widgets import conv_explorer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
FIXTURE = Path(__file__).parent / "browser_fixtures" / "conv_explorer.ipynb"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jupyter_lab(tmp_path):
    """A JupyterLab server on a free port with a random token, stopped however the test ends."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(FIXTURE, root / FIXTURE.name)
    # User settings: no "would you like news?" notification, no update check.
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    env = {"JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = (tmp_path / "jupyter.log").open("w")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", f"--ServerApp.token={token}",
         "--ServerApp.ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
         f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log_text = (tmp_path / "jupyter.log").read_text()
                    pytest.fail(f"JupyterLab did not start:\n{log_text[-3000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/{FIXTURE.name}?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)
        log.close()


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


def test_conv_explorer_stride_slider_updates_shape_in_jupyterlab(jupyter_lab, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
                    f"CI installs it in .ci/run")
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect, sync_playwright

    before, after, shape_line = expected_after_stride_step()
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM),
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(90_000)
            page.goto(jupyter_lab)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))
            kernel_idle.wait_for()  # the kernel has started and answered
            no_news = page.get_by_role("button", name="No", exact=True)
            if no_news.count():  # the settings above should prevent JupyterLab's news question
                no_news.first.click()
            started = page.locator(".jp-InputPrompt", has_text=re.compile(r"\[(\*|1)\]"))
            for _attempt in range(3):  # a menu click can land before the notebook is ready
                page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
                page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
                try:
                    started.first.wait_for(timeout=15_000)
                    break
                except PlaywrightTimeoutError:
                    page.keyboard.press("Escape")
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
            context.close()
