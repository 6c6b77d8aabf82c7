"""What a student studying alone sees after ``make lab`` (issue 18, part 1).

The browser test runs the README's command itself, in a copy of the repository, and looks at the
Lab in headless Chromium the way a student would: the start page is open, no news question, the
chapters and the four assignments are in the file browser, ps1 opens with a click and its "Grade
yourself" cell shows the score table (rendered from Markdown), and ``course/`` (solutions, hidden
tests) is out of reach.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autograder.course import assignments, cells, read, source_notebooks

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_HERE = ROOT / "notebooks" / "00_start_here.ipynb"
WAIT = 120_000  # ms: what a page may take to show something on a busy two-core machine


def test_the_start_page_links_every_assignment_where_make_lab_puts_it():
    """00_start_here links ../assignments/<ps>/<name>.ipynb: the student's copy, seen from notebooks/."""
    text = "\n".join(cell.source for cell in read(START_HERE).cells if cell.cell_type == "markdown")
    linked = re.findall(r"\]\(\.\./assignments/(ps\d)/([\w.]+\.ipynb)\)", text)
    assert sorted(linked) == [(ps, source_notebooks(ps)[0].name) for ps in assignments()]


def test_the_labs_jupyter_configuration_turns_off_news_and_update_checks():
    """What Jupyter reads from jupyter/ once make lab has put it on JUPYTER_CONFIG_PATH."""
    code = ("import json; from jupyter_server.services.config import ConfigManager as C;"
            "print(json.dumps([C(config_dir_name='labconfig').get(n) for n in "
            "('default_setting_overrides', 'page_config')]))")
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(ROOT / "jupyter"))
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    overrides, page_config = json.loads(run.stdout)
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false",
                                                                         "checkForUpdates": False}
    assert page_config["disabledExtensions"]["@jupyter/nbgrader:formgrader"] is True
    server = json.loads((ROOT / "jupyter" / "jupyter_server_config.json").read_text())
    assert server["LabApp"] == {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}


def _fake_repository(into: Path) -> Path:
    """The Makefile with everything make lab needs already made, and a ``jupyter`` that only reports."""
    shutil.copy2(ROOT / "Makefile", into / "Makefile")
    for name in ("pyproject.toml", "course/nbgrader_config.py", "course/source/ps1/one.ipynb",
                 "notebooks/00_start_here.ipynb", ".venv/.cnncourse-installed", "assignments/.released"):
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        (into / name).write_text("{}")
        time.sleep(0.01)  # each one newer than the one before: the environment and the view are up to date
    jupyter = into / ".venv" / "bin" / "jupyter"
    jupyter.parent.mkdir()
    jupyter.write_text('#!/bin/sh\necho "MAKELEVEL=$MAKELEVEL MAKEFLAGS=$MAKEFLAGS"\n'
                       'echo "JUPYTER_CONFIG_PATH=$JUPYTER_CONFIG_PATH"\necho "$@"\n')
    jupyter.chmod(0o755)
    return into


def test_make_lab_serves_the_repository_through_the_student_contents_manager(tmp_path):
    repo = _fake_repository(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MAKE", "MFLAGS"))}
    run = subprocess.run(["make", "--no-print-directory", "lab", "LAB_ARGS=--port=9"], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    make_env, config_path, argv = run.stdout.splitlines()[-3:]
    assert make_env == "MAKELEVEL= MAKEFLAGS="  # a make in a Lab terminal is not a sub-make of this one
    assert config_path == f"JUPYTER_CONFIG_PATH={repo}/jupyter"
    assert argv == (f"lab --allow-root --ServerApp.root_dir={repo} "
                    "--ServerApp.contents_manager_class=cnncourse.lab_contents.StudentContents "
                    f"--LabApp.workspaces_dir={repo}/.lab/workspaces "
                    f"--LabApp.user_settings_dir={repo}/.lab/user-settings "
                    "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb "
                    "notebooks/00_start_here.ipynb --port=9")
    assert not (repo / "lab").exists()
    env["JUPYTER_CONFIG_PATH"] = "/elsewhere"
    run = subprocess.run(["make", "--no-print-directory", "lab"], cwd=repo, env=env, capture_output=True,
                         text=True, timeout=60)
    assert f"JUPYTER_CONFIG_PATH={repo}/jupyter:/elsewhere" in run.stdout


def test_the_lab_has_no_assignment_list_and_keeps_validate():
    """make lab has no exchange to fetch from: nbgrader's Assignment List (server and page) is off,
    its Validate button stays."""
    server = json.loads((ROOT / "jupyter" / "jupyter_server_config.json").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions["nbgrader.server_extensions.assignment_list"] is False
    assert "nbgrader.server_extensions.validate_assignment" not in extensions
    page = json.loads((ROOT / "jupyter" / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader:assignment-list"] is True
    assert page["disabledExtensions"]["@jupyter/nbgrader:menu"] is True  # it would be empty
    assert "@jupyter/nbgrader:validate-assignment" not in page["disabledExtensions"]


# --- the browser test ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clone_worktree(into: Path) -> Path:
    """The repository's files as a fresh clone has them (tracked or not ignored) and the environment
    already built: make lab then does what it does on a student's first run (the student view of the
    assignments, the Lab's root) without touching this checkout's assignments/ or its .venv."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    # The environment running these tests, already set up: links to its parts, and a stamp of its own
    # newer than pyproject.toml (so make installs nothing, here or there).
    venv = Path(sys.prefix)
    (into / ".venv").mkdir()
    for part in venv.iterdir():
        if part.name != ".cnncourse-installed":
            (into / ".venv" / part.name).symlink_to(part)
    (into / ".venv" / ".cnncourse-installed").touch()
    return into


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class MakeLab:
    """``make lab`` running in ``repo``, with the browser it would open replaced by a recorder."""

    def __init__(self, repo: Path, scratch: Path):
        self.repo, self.port, self.token = repo, _free_port(), secrets.token_hex(16)
        self.opened = scratch / "opened-urls"
        browser = scratch / "record-browser"
        browser.write_text(f'#!/bin/sh\necho "$1" >> {self.opened}\n')
        browser.chmod(0o755)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "NBGRADER", "MAKE", "MFLAGS"))}
        env.update({
            "BROWSER": str(browser),  # Python's webbrowser module runs it with the URL to open
            "JUPYTER_CONFIG_DIR": str(scratch / "home-jupyter"),  # an empty ~/.jupyter; this one's untouched
            "JUPYTER_DATA_DIR": str(scratch / "home-data"), "IPYTHONDIR": str(scratch / "home-ipython"),
            "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
            "OMP_NUM_THREADS": "1"})
        args = (f"--port={self.port} --ServerApp.port_retries=0 --ServerApp.ip=127.0.0.1 "
                f"--IdentityProvider.token={self.token}")
        self.log_path = scratch / "make-lab.log"
        self.log = self.log_path.open("w")
        self.make = subprocess.Popen(["make", "lab", f"LAB_ARGS={args}"], cwd=repo, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return self.log_path.read_text()[-4000:]

    def wait_until_serving(self, seconds: float = 600) -> str:
        """The URL make lab asked the browser to open, once the server answers."""
        deadline = time.monotonic() + seconds
        while not (self.opened.exists() and self.opened.read_text().strip()):
            if self.make.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make lab did not open a browser:\n{self.log_tail()}")
            time.sleep(1)
        assert _status(f"{self.base}/api/status?token={self.token}") == 200
        return self.opened.read_text().split()[0]

    def stop(self) -> list[str]:
        """Stop make lab as a student's Ctrl-C would; return what is still running after 60 s."""
        started = _descendants(self.make.pid)
        os.killpg(self.make.pid, signal.SIGTERM)  # make and jupyter lab; jupyter shuts its kernels down
        try:
            self.make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = [f"{pid}: {_cmdline(pid)}" for pid in started if _alive(pid)]
        for pid in [self.make.pid, *started]:  # whatever did not stop by itself
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.make.wait(timeout=30)
        self.log.close()
        return left


@pytest.fixture
def make_lab(tmp_path):
    repo = _clone_worktree(tmp_path / "repository")
    lab = MakeLab(repo, tmp_path)
    try:
        yield lab
    finally:
        if lab.make.returncode is None:
            lab.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_make_lab_shows_the_chapters_and_assignments_and_hides_the_course(make_lab, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (tools/system-requirements does)")
    from playwright.sync_api import expect, sync_playwright

    opened = make_lab.wait_until_serving()
    base, token = make_lab.base, make_lab.token
    chapters = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    (ps1,) = source_notebooks("ps1")
    points = sum(c.points for c in cells(read(ps1)) if c.is_test)

    # The URLs jupyter prints (what a student with --no-browser copies) open the start page too.
    printed = make_lab.log_path.read_text()
    assert re.search(rf"{re.escape(base)}/lab/tree/notebooks/00_start_here\.ipynb\?token=", printed), printed
    # What the server serves: the two folders, and nothing of course/ by any path.
    with urllib.request.urlopen(f"{base}/api/contents?token={token}", timeout=30) as response:
        assert sorted(item["name"] for item in json.load(response)["content"]) == ["assignments", "notebooks"]
    for path in ("api/contents/course", "api/contents/course/source/ps1",
                 f"files/course/source/ps1/{ps1.name}", "api/contents/notebooks/../course/source",
                 "api/contents/assignments/../../course/source",
                 "api/contents/notebooks/%2E%2E/%2E%2E/course/source"):
        assert _status(f"{base}/{path}?token={token}") in (400, 403, 404), path

    requests: list[str] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM),
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000})
        page = context.pages[0] if context.pages else context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        try:
            page.set_default_timeout(120_000)
            page.goto(opened)  # the file make lab asked the browser to open; it forwards to the Lab
            # 00_start_here is open, its kernel has answered, and JupyterLab asked nothing about news.
            current = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
            expect(current).to_contain_text("00_start_here.ipynb", timeout=WAIT)
            start_here = page.locator(".jp-Notebook").first
            expect(start_here).to_contain_text("Start here: convolutional networks", timeout=WAIT)
            kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$"))
            kernel_idle.wait_for()
            page.wait_for_timeout(3000)  # the news question, when asked, comes within a second of this
            expect(page.get_by_text(re.compile("Jupyter news", re.I))).to_have_count(0, timeout=WAIT)
            menus = page.locator(".lm-MenuBar-itemLabel")
            expect(menus.first).to_be_visible(timeout=WAIT)
            expect(menus.filter(has_text="Nbgrader")).to_have_count(0)  # nothing in it here
            expect(page.locator(".Toastify__toast")).to_have_count(0, timeout=WAIT)

            # The file browser shows the chapters next to the start page, and the four assignments.
            listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
            for chapter in chapters:
                expect(listing.get_by_text(chapter, exact=True)).to_be_visible(timeout=WAIT)
            page.locator(".jp-BreadCrumbs-home").click()
            # The root: the two links, no course/ and nothing else of the repository.
            expect(listing).to_have_text(["assignments", "notebooks"], timeout=WAIT)
            listing.get_by_text("assignments", exact=True).dblclick()
            expect(listing).to_have_text(assignments(), timeout=WAIT)
            listing.get_by_text("ps1", exact=True).dblclick()
            listing.get_by_text(ps1.name, exact=True).dblclick()
            expect(current).to_contain_text(ps1.name, timeout=WAIT)

            # nbgrader's Validate button runs the notebook's tests (here they fail: nothing is answered).
            page.locator(".jp-NotebookPanel:visible").get_by_title("Validate Assignment").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog).to_contain_text("Validation Results", timeout=600_000)
            expect(dialog).to_contain_text("The following cell failed:", timeout=WAIT)
            expect(dialog).not_to_contain_text("Cannot validate")
            dialog.get_by_role("button", name=re.compile("ok", re.I)).click()

            # "Grade yourself", run where make lab put the notebook, says at once that it is grading,
            # then shows the report rendered from Markdown: a heading and the score table.
            notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
            cell = notebook.locator(".jp-CodeCell", has_text="autograder.tools.selfgrade")
            cell.scroll_into_view_if_needed()
            cell.locator(".jp-InputArea-editor").click()
            page.keyboard.press("Shift+Enter")
            outputs = cell.locator(".jp-OutputArea-output")
            expect(outputs.first).to_contain_text("grading ps1 with the hidden tests", timeout=WAIT)
            report = cell.locator(".jp-OutputArea .jp-RenderedMarkdown")  # the output widget itself
            expect(report.locator("h1")).to_contain_text(f"ps1: 0 / {points:g} points", timeout=600_000)
            expect(report.locator("th")).to_have_text(["part", "points", ""], timeout=WAIT)
            for part in [c for c in cells(read(ps1)) if c.is_test]:
                row = report.locator("tr", has=page.locator("td", has_text=re.compile(rf"^{part.grade_id}$")))
                expect(row.locator("td")).to_have_text([part.grade_id, f"0 / {part.points:g}", "failed"],
                                                       timeout=WAIT)
            expect(cell.locator(".jp-OutputArea")).not_to_contain_text("| part | points |")  # not raw text

            # course/ cannot be opened from the page either: not through the Lab's own API calls ...
            for path in ("course", "course/source/ps1", f"course/source/ps1/{ps1.name}"):
                assert page.request.get(f"{base}/api/contents/{path}").status == 404, path
            # ... nor by the Lab's "open this path" URL, which only shows an error.
            page.goto(f"{base}/lab/tree/course/source/ps1/{ps1.name}")
            refusal = re.compile("not found|could not|cannot", re.I)
            expect(page.locator(".jp-Dialog")).to_contain_text(refusal, timeout=WAIT)
            solution = page.locator(".jp-Notebook:visible", has_text="BEGIN SOLUTION")
            expect(solution).to_have_count(0, timeout=WAIT)
        finally:
            page.screenshot(path=str(tmp_path / "make_lab.png"), full_page=True)
            context.close()
    assert not [url for url in requests if "/lab/api/news" in url or "/lab/api/update" in url]

    # Stopping make lab stops everything it started: the server and both notebooks' kernels.
    kernels = [pid for pid in _descendants(make_lab.make.pid) if "ipykernel" in _cmdline(pid)]
    assert len(kernels) >= 2, "the start page and ps1 should each have had a kernel"
    assert make_lab.stop() == []
    # The open tabs were saved in the clone, not in the student's ~/.jupyter (where another clone's
    # Lab would reopen them). jupyter_core's own one-time "migrated" marker may appear there.
    home = tmp_path / "home-jupyter"
    assert not (home / "lab").exists(), list(home.rglob("*"))
    assert list((make_lab.repo / ".lab" / "workspaces").glob("*.jupyterlab-workspace"))
