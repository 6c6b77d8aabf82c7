"""Fixtures shared by the browser tests: one JupyterLab and one Chromium per test module.

``open_notebook(name)`` opens a notebook of ``tests/browser_fixtures/`` in a real JupyterLab,
runs all its cells and returns the Playwright page. The browser may reach only the Lab on
127.0.0.1: any other request is refused and recorded in ``lab_browser.outside`` (the explorers
must work offline; anywidget ships their JavaScript inline).
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

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_FIXTURES = Path(__file__).parent / "browser_fixtures"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A JupyterLab on a free port with a random token, serving a copy of the browser fixtures."""

    def __init__(self, tmp: Path) -> None:
        root = tmp / "root"
        shutil.copytree(BROWSER_FIXTURES, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        # User settings: no "would you like news?" notification, no update check.
        settings = tmp / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.log_path = tmp / "jupyter.log"
        jupyter = Path(sys.executable).with_name("jupyter")
        env = {"JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(jupyter), "lab", "--no-browser", "--allow-root", f"--ServerApp.token={self.token}",
             "--ServerApp.ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
             f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **env})

    def wait(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                status = f"http://127.0.0.1:{self.port}/api/status?token={self.token}"
                with urllib.request.urlopen(status, timeout=5):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{self.log_path.read_text()[-3000:]}")
                time.sleep(0.5)

    def url(self, notebook: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?token={self.token}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        self.log.close()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """One JupyterLab for the test module, stopped however the tests end."""
    server = LabServer(tmp_path_factory.mktemp("lab"))
    try:
        server.wait()
        yield server
    finally:
        server.stop()


class LabBrowser:
    """Headless Chromium (Playwright) pointed at ``lab_server``; local requests only."""

    def __init__(self, playwright, server: LabServer, profile: Path) -> None:
        self.server, self.outside = server, []
        self.context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1200}, permissions=["clipboard-read", "clipboard-write"])
        self.context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), self._refuse)

    def _refuse(self, route) -> None:
        if route.request.url.startswith(("data:", "blob:")):
            route.continue_()
            return
        self.outside.append(route.request.url)
        route.abort()

    def open_notebook(self, name: str):
        """Open ``name`` in a new tab, wait for the kernel, Run All Cells; the page."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        page = self.context.new_page()
        page.set_default_timeout(90_000)
        page.goto(self.server.url(name))
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
        return page


@pytest.fixture(scope="module")
def lab_browser(lab_server, tmp_path_factory):
    """One Chromium for the test module; ``lab_browser.open_notebook(name)`` runs a fixture notebook."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); "
                    f"CI installs it in .ci/run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = LabBrowser(playwright, lab_server, tmp_path_factory.mktemp("chromium-profile"))
        try:
            yield browser
        finally:
            browser.context.close()
