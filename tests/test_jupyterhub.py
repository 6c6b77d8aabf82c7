"""The class on JupyterHub (deploy/jupyterhub): one instructor, two students, ps1 from release to feedback.

The scenario test installs the deployment with its own scripts, creates three real Unix users with
random passwords, starts the hub on 127.0.0.1 as a real class runs it (PAM logins) and drives the
whole nbgrader cycle through the hub's REST API and each user's Jupyter server: the instructor
generates, releases, collects and returns feedback through the formgrader's endpoints and grades
with ``grade`` as their own Unix user; the students fetch, submit and fetch feedback through the
Assignment List's endpoints, one of them in Chromium. Then it checks the grades, what each Unix
user can read, and that no user, process or port is left behind. On the way it checks, in Chromium,
what a student sees at their first login (the Lab open on 00_start_here, the chapters in their
home, no question about Jupyter news) and that the instructor is asked nothing either, and then
that a restarted server keeps a student's edited chapter and puts the course's newer version
beside it. It needs root (it creates users;
the hub spawns servers as them), npm and Debian's Chromium, as in CI; the shared environment is
built once into PREFIX and reused while pyproject.toml and the Python are unchanged.

The Kubernetes files cannot run here; a fast test keeps them consistent with the local setup.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "jupyterhub"
# The deployment under test; its environment is reused while the library and its pins are unchanged.
PREFIX = Path(os.environ.get("CNNCOURSE_HUB_TEST_PREFIX", "/var/tmp/cnncourse-hub-test"))
EXCHANGE = PREFIX / "exchange"
COURSE_ID = "cnncourse"
ASSIGNMENT = "ps1"
SOURCE_NB = ROOT / "course" / "source" / ASSIGNMENT / "cross_correlation.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHOICE = re.compile(r'^(answer_\w+) = "([A-Z])"$', re.MULTILINE)
CHAPTERS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
START_HERE = "notebooks/00_start_here.ipynb"  # where the Lab opens, in every user's home
NEWS_PLUGIN = "@jupyterlab/apputils-extension:notification"  # its fetchNews decides the news question
WAIT = 180_000  # ms: what a page may take to show something on a busy two-core machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` (connections closing in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run(*args: str | Path, user: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command (as ``user`` with no privileges when given), capturing its output."""
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups"] if user else []
    with subprocess.Popen([*prefix, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", start_new_session=True, env=env) as process:
        try:
            out, err = process.communicate(timeout=1200)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # pip and whatever else the script started
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def user_processes(user: str, grace: float = 10.0) -> list[str]:
    """The user's processes still there after ``grace`` seconds (a server that just exited may be a
    zombie for a moment, until its parent reaps it; one that stays, zombie or not, is listed)."""
    deadline = time.monotonic() + grace
    while True:
        found = subprocess.run(["ps", "-o", "pid=,args=", "-u", user], capture_output=True, text=True)
        if not found.stdout.strip() or time.monotonic() > deadline:
            return found.stdout.splitlines()
        time.sleep(0.5)


@dataclass
class Hub:
    """A running hub: its public URL, the admin service's token and each user's Unix password."""

    url: str
    token: str
    passwords: dict[str, str]
    process: subprocess.Popen
    log: Path

    def request(self, method: str, path: str, *, form: dict | None = None, body: Any = None,
                timeout: float = 300) -> Any:
        """``method path`` on the proxy with the service token; the decoded JSON reply (or None)."""
        data, headers = None, {"Authorization": f"token {self.token}"}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as reply:
                text = reply.read().decode()
        except urllib.error.HTTPError as err:
            raise AssertionError(f"{method} {path}: HTTP {err.code}: {err.read().decode()[:2000]}\n"
                                 f"hub log tail:\n{self.tail()}") from None
        return json.loads(text) if text.strip() else None

    def probe(self, path: str) -> tuple[int, Any]:
        """GET ``path`` with the service token: the status code and the reply's headers."""
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=120) as reply:
                return reply.status, reply.headers
        except urllib.error.HTTPError as err:
            return err.code, err.headers

    def tail(self) -> str:
        return self.log.read_text()[-3000:]

    def start_server(self, user: str) -> None:
        self.request("POST", f"/hub/api/users/{user}/server")
        deadline = time.monotonic() + 180
        while not self.request("GET", f"/hub/api/users/{user}")["servers"].get("", {}).get("ready"):
            assert time.monotonic() < deadline, f"{user}'s server never became ready:\n{self.tail()}"
            time.sleep(1)

    def stop_server(self, user: str) -> None:
        self.request("DELETE", f"/hub/api/users/{user}/server")
        deadline = time.monotonic() + 120
        while self.request("GET", f"/hub/api/users/{user}")["servers"]:
            assert time.monotonic() < deadline, f"{user}'s server never stopped:\n{self.tail()}"
            time.sleep(1)

    def listing(self, user: str, folder: str) -> list[str]:
        """The names in ``folder`` of ``user``'s home, as their Jupyter server lists them."""
        model = self.request("GET", f"/user/{user}/api/contents/{folder}")
        return sorted(item["name"] for item in model["content"])

    def formgrader(self, user: str, action: str) -> dict:
        """POST a formgrader action (``assignment/ps1/release``, ...) as ``user``; it must succeed."""
        reply = self.request("POST", f"/user/{user}/formgrader/api/{action}")
        assert reply["success"], f"formgrader {action} failed: {reply.get('error') or reply}"
        return reply

    def assignment_list(self, user: str, action: str) -> Any:
        """POST fetch / submit / fetch_feedback of ps1 on a student's Assignment List endpoint."""
        return self.request("POST", f"/user/{user}/assignments/{action}",
                            form={"course_id": COURSE_ID, "assignment_id": ASSIGNMENT})

    def notebook(self, user: str, path: str) -> nbformat.NotebookNode:
        model = self.request("GET", f"/user/{user}/api/contents/{path}?content=1")
        return nbformat.from_dict(model["content"])

    def save_notebook(self, user: str, path: str, nb: nbformat.NotebookNode) -> None:
        self.request("PUT", f"/user/{user}/api/contents/{path}", body={"type": "notebook", "content": nb})


@contextlib.contextmanager
def prefix_lock() -> Iterator[None]:
    """One hub test at a time per machine: they share PREFIX and its exchange (xdist runs two)."""
    PREFIX.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{PREFIX}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def class_on_hub(tmp_path: Path) -> Iterator[tuple[Hub, str, str, str]]:
    """Install, add an instructor and two students, start the hub; undo all of it afterwards."""
    tag = f"h{os.getpid() % 100000}{secrets.token_hex(2)}"
    instructor, alice, bob = f"{tag}i", f"{tag}a", f"{tag}b"
    people = [instructor, alice, bob]
    for name in people:
        assert run("id", name).returncode != 0, f"user {name} already exists"
    shutil.rmtree(EXCHANGE, ignore_errors=True)
    install = run("bash", DEPLOY / "install.sh", "--prefix", PREFIX, "--exchange", EXCHANGE)
    assert install.returncode == 0, install.stdout + install.stderr
    (PREFIX / "etc" / "roster").write_text("")
    hub = None
    ports = [free_port() for _ in range(3)]
    stack = contextlib.ExitStack()
    try:
        for role, names in (("instructor", [instructor]), ("student", [alice, bob])):
            added = run("bash", DEPLOY / "adduser.sh", "--prefix", PREFIX, role, *names)
            assert added.returncode == 0, added.stdout + added.stderr
        # A real class logs in with Unix passwords (PAM), so the test users get random ones.
        passwords = {name: secrets.token_urlsafe(12) for name in people}
        subprocess.run(["chpasswd"], input="".join(f"{n}:{p}\n" for n, p in passwords.items()),
                       text=True, check=True)
        state = tmp_path / "state"
        state.mkdir(mode=0o700)
        log = tmp_path / "jupyterhub.log"
        log_file = stack.enter_context(log.open("w"))
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(state),
               "CNNCOURSE_HUB_IP": "127.0.0.1", "CNNCOURSE_HUB_PORT": str(ports[0]),
               "CNNCOURSE_HUB_API_PORT": str(ports[1]), "CNNCOURSE_PROXY_API_PORT": str(ports[2]),
               "CNNCOURSE_STATE": str(state), "CNNCOURSE_API_TOKEN": secrets.token_hex(16)}
        process = subprocess.Popen(
            [PREFIX / "env" / "bin" / "jupyterhub", "-f", PREFIX / "etc" / "jupyterhub_config.py"],
            cwd=state, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        hub = Hub(f"http://127.0.0.1:{ports[0]}", env["CNNCOURSE_API_TOKEN"], passwords, process, log)
        deadline = time.monotonic() + 120
        while True:
            try:
                hub.request("GET", "/hub/api/", timeout=5)
                break
            except (OSError, AssertionError):
                assert process.poll() is None and time.monotonic() < deadline, \
                    f"the hub did not start:\n{log.read_text()[-3000:]}"
                time.sleep(0.5)
        yield hub, instructor, alice, bob
    finally:
        leftovers = stop_hub(hub) if hub is not None else []
        stack.close()
        # Only now may a user's process count as left behind: the hub stops the servers on SIGTERM.
        leftovers += [f"{name}: {line}" for name in people for line in user_processes(name)]
        removed = run("bash", DEPLOY / "adduser.sh", "--prefix", PREFIX, "remove", *people)
        shutil.rmtree(EXCHANGE, ignore_errors=True)
        assert not leftovers, "left running after the hub stopped:\n" + "\n".join(leftovers)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        for name in people:
            assert run("id", name).returncode != 0, f"user {name} is still there"
            assert run("getent", "group", name).returncode != 0, f"group {name} is still there"
            assert not Path("/home", name).exists(), f"/home/{name} is still there"
        assert all(port_is_free(port) for port in ports), f"a port of {ports} is still taken"


def stop_hub(hub: Hub) -> list[str]:
    """SIGTERM the hub, which stops the proxy and every server; what outlived it (then killed).

    The hub stops each server as LocalProcessSpawner does (SIGINT, SIGTERM 10 s later, SIGKILL 5 s
    after that); on the 2-core CI machine with a second test worker busy beside it, a fresh-clone run
    once needed more than 60 s for all of it, so the hub gets 120 s. What is still there then fails."""
    hub.process.send_signal(signal.SIGTERM)
    try:
        hub.process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(hub.process.pid, signal.SIGKILL)
        hub.process.wait()
        return ["the hub ignored SIGTERM for 120 s"]
    try:
        os.killpg(hub.process.pid, signal.SIGKILL)  # the proxy and anything else the hub started
    except ProcessLookupError:
        return []
    return ["a process of the hub's session (the proxy?) outlived the hub"]


def strip_solution_markers(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def answered(release: nbformat.NotebookNode, source: nbformat.NotebookNode, *,
             wrong_letters: bool) -> nbformat.NotebookNode:
    """The released notebook with every answer cell filled in from the source's solution.

    With ``wrong_letters`` every multiple-choice answer (``answer_x = "B"``) names another letter.
    """
    solutions = {cell.metadata.nbgrader.grade_id: strip_solution_markers(cell.source)
                 for cell in source.cells if cell.metadata.get("nbgrader", {}).get("solution")}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            text = solutions[meta["grade_id"]]
            if wrong_letters:
                text = CHOICE.sub(lambda m: f'{m[1]} = "{"A" if m[2] != "A" else "B"}"', text)
            cell.source = text
    return nb


def graded_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade")]


@contextlib.contextmanager
def chromium(profile: Path, requests: list[str]) -> Iterator[Any]:
    """Headless Chromium (a persistent context) that appends the URL of every request to ``requests``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            user_data_dir=str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": 1000})
        browser.on("request", lambda request: requests.append(request.url))
        try:
            yield browser
        finally:
            browser.close()


def log_in_to_the_lab(browser: Any, hub: Hub, user: str, shots: Path) -> Any:
    """Log in as ``user`` (a fresh session); the page once the Lab shows 00_start_here and asked nothing.

    The Lab must open on the start page of the user's own chapters, with its kernel ready, and show
    no toast (the "official Jupyter news?" question is one) a few seconds after that.
    """
    from playwright.sync_api import expect

    browser.clear_cookies()
    page = browser.new_page()
    page.set_default_timeout(WAIT)
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", hub.passwords[user])
        page.click("#login_submit")
        page.wait_for_url(re.compile(rf"/user/{user}/lab"))
        current = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
        expect(current).to_contain_text("00_start_here.ipynb", timeout=WAIT)
        expect(page.locator(".jp-Notebook").first).to_contain_text("Start here: convolutional networks",
                                                                  timeout=WAIT)
        page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).wait_for()
        page.wait_for_timeout(3000)  # the news question, when asked, comes within a second of this
        expect(page.get_by_text(re.compile("Jupyter news", re.I))).to_have_count(0, timeout=WAIT)
        expect(page.locator(".Toastify__toast")).to_have_count(0, timeout=WAIT)
    except Exception:
        page.screenshot(path=str(shots / f"{user}.png"), full_page=True)
        raise
    return page


def first_login_in_chromium(browser: Any, hub: Hub, student: str, shots: Path) -> None:
    """``student``'s first login: their chapters in the Lab; then Nbgrader > Assignment List, Fetch ps1."""
    from playwright.sync_api import expect

    page = log_in_to_the_lab(browser, hub, student, shots)
    try:
        # The file browser shows the chapters beside the start page, in notebooks/ of the home.
        listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
        for chapter in CHAPTERS:
            expect(listing.get_by_text(chapter, exact=True)).to_be_visible(timeout=WAIT)
        page.locator(".jp-BreadCrumbs-home").click()
        expect(listing).to_have_text(["notebooks"], timeout=WAIT)

        page.get_by_role("menuitem", name="Nbgrader", exact=True).click()
        assignment_list = page.get_by_role("menuitem", name="Assignment List")
        assignment_list.wait_for()
        # The student's menu has no instructor tools (their lab plugins are disabled).
        for tool in ("Formgrader", "Course List"):
            assert page.get_by_role("menuitem", name=tool).count() == 0, f"{student} sees {tool}"
        assignment_list.click()
        released = page.locator("#released_assignments_list")
        released.get_by_text(ASSIGNMENT, exact=True).wait_for()
        released.get_by_role("button", name="Fetch").click()
        page.locator("#fetched_assignments_list").get_by_role("button", name="Submit").wait_for()
    except Exception:
        page.screenshot(path=str(shots / f"{student}.png"), full_page=True)
        raise
    finally:
        page.close()


def asks_about_news(hub: Hub, user: str) -> tuple[Any, Any]:
    """The defaults ``user``'s Lab gets for fetchNews and checkForUpdates (after every override)."""
    reply = hub.request("GET", f"/user/{user}/lab/api/settings/{NEWS_PLUGIN}")
    properties = reply["schema"]["properties"]
    return properties["fetchNews"]["default"], properties["checkForUpdates"]["default"]


def edited(nb: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    """``nb`` with a markdown cell ``text`` at the end."""
    nb = copy.deepcopy(nb)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    return nb


def restart_keeps_the_students_chapter_and_puts_the_new_version_beside(hub: Hub, student: str) -> None:
    """The course changes a chapter the student edited and adds one; the student's server restarts."""
    chapter, added = CHAPTERS[1], "09_1_new_chapter.ipynb"
    path = f"notebooks/{chapter}"
    hub.save_notebook(student, path, edited(hub.notebook(student, path), "my notes"))
    # What rerunning install.sh after a `git pull` would change in the installed course.
    installed = PREFIX / "src" / "notebooks"
    new = edited(nbformat.read(installed / chapter, as_version=4), "new in the course")
    nbformat.write(new, installed / chapter)
    nbformat.write(nbformat.v4.new_notebook(), installed / added)
    before = hub.listing(student, "notebooks")
    hub.stop_server(student)
    hub.start_server(student)

    assert hub.notebook(student, path).cells[-1].source == "my notes", "the student's edit is gone"
    beside = [name for name in hub.listing(student, "notebooks") if name not in before]
    stem = chapter.removesuffix(".ipynb")
    assert len(beside) == 2 and added in beside, f"new in {student}'s notebooks/: {beside}"
    (dated,) = [name for name in beside if name != added]
    assert re.fullmatch(rf"{stem}\.release-\d{{4}}-\d{{2}}-\d{{2}}\.ipynb", dated), dated
    assert hub.notebook(student, f"notebooks/{dated}").cells[-1].source == "new in the course"
    # A further restart changes nothing: the new version is now the one the copy is compared with.
    hub.stop_server(student)
    hub.start_server(student)
    assert hub.listing(student, "notebooks") == sorted([*before, *beside])


@pytest.mark.slow
@pytest.mark.browser
def test_a_class_on_jupyterhub_takes_ps1_from_release_to_feedback(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("creates Unix users and runs the hub as root (CI runs as root)")
    source = nbformat.read(SOURCE_NB, as_version=4)
    total = sum(cell.metadata.nbgrader.points for cell in graded_cells(source))
    letters = CHOICE.findall("\n".join(cell.source for cell in source.cells))
    lost = sum(cell.metadata.nbgrader.points for cell in graded_cells(source)
               if any(name in cell.source for name, _ in letters))
    assert letters and 0 < lost < total, \
        f"{SOURCE_NB.name}: expected multiple-choice answers written as answer_x = \"B\" and tests of them"
    notebook = f"{ASSIGNMENT}/{SOURCE_NB.name}"

    with prefix_lock(), class_on_hub(tmp_path) as (hub, teacher, alice, bob):
        for user in (teacher, bob):  # alice's server starts at her first login, in Chromium
            hub.start_server(user)
        # Only the instructor has the formgrader, and only their Lab may show it in a frame.
        for user, formgrader, frames in ((teacher, 200, "'self'"), (bob, 404, "'none'")):
            status, _ = hub.probe(f"/user/{user}/formgrader/api/status")
            assert status == formgrader, f"{user}'s formgrader answered {status}"
            status, headers = hub.probe(f"/user/{user}/lab")
            assert status == 200 and f"frame-ancestors {frames}" in headers["Content-Security-Policy"], \
                f"{user}'s Lab: {status} {headers['Content-Security-Policy']}"
        hub.formgrader(teacher, f"assignment/{ASSIGNMENT}/assign")
        hub.formgrader(teacher, f"assignment/{ASSIGNMENT}/release")
        # Another course's release in the same exchange: the students must not see it.
        other = EXCHANGE / "othercourse" / "outbound" / "ps9"
        other.mkdir(parents=True)
        (other / "other.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
        shutil.chown(EXCHANGE / "othercourse", teacher)

        # alice's first login shows her own chapters, open on the start page; nobody is asked about
        # Jupyter news, and no Lab fetches news or checks for updates.
        requests: list[str] = []
        with chromium(tmp_path / "chromium", requests) as browser:
            first_login_in_chromium(browser, hub, alice, tmp_path)
            log_in_to_the_lab(browser, hub, teacher, tmp_path).close()
        assert not [url for url in requests if "/lab/api/news" in url or "/lab/api/update" in url]
        for user in (teacher, alice):
            assert asks_about_news(hub, user) == ("false", False), f"{user}'s Lab settings"
        assert hub.listing(alice, "notebooks") == CHAPTERS
        start_page = "\n".join(cell.source for cell in hub.notebook(alice, START_HERE).cells)
        assert "In a class on JupyterHub" in start_page and "Nbgrader › Assignment List" in start_page
        assert (Path("/home", alice) / START_HERE).stat().st_uid == Path("/home", alice).stat().st_uid
        hub.assignment_list(bob, "fetch")
        for student in (alice, bob):
            listed = hub.request("GET", f"/user/{student}/assignments?course_id=")
            seen = {(a["course_id"], a["assignment_id"]) for a in listed["value"]}
            assert seen == {(COURSE_ID, ASSIGNMENT)}, f"{student} sees {seen}"
            assert hub.request("GET", f"/user/{student}/courses")["value"] == [COURSE_ID]

        for student, wrong in ((alice, False), (bob, True)):
            release = hub.notebook(student, notebook)
            hub.save_notebook(student, notebook, answered(release, source, wrong_letters=wrong))
            reply = hub.assignment_list(student, "submit")
            assert reply["success"], reply

        hub.formgrader(teacher, f"assignment/{ASSIGNMENT}/collect")
        # The instructor grades with the course's `grade` (what they type in a Jupyter terminal).
        course = Path("/home", teacher, "cnncourse")
        terminal = {"PATH": f"{PREFIX / 'env' / 'bin'}:/usr/bin:/bin", "HOME": str(course.parent),
                    "LANG": "C.UTF-8"}
        graded = run("cnncourse-autograder", "grade", ASSIGNMENT, "--course", course, "--workers", "2",
                     user=teacher, env=terminal)
        assert graded.returncode == 0, graded.stdout + graded.stderr
        assert "bubblewrap sandbox" in graded.stdout, graded.stdout  # students' code ran isolated
        scores = {row["student"]: (row["score"], row["max_score"])
                  for row in hub.request("GET", f"/user/{teacher}/formgrader/api/submissions/{ASSIGNMENT}")}
        assert scores == {alice: (total, total), bob: (total - lost, total)}

        hub.formgrader(teacher, f"assignment/{ASSIGNMENT}/generate_feedback")
        hub.formgrader(teacher, f"assignment/{ASSIGNMENT}/release_feedback")
        for student, score in ((alice, total), (bob, total - lost)):
            hub.assignment_list(student, "fetch_feedback")
            runs = hub.request("GET", f"/user/{student}/api/contents/{ASSIGNMENT}/feedback")["content"]
            assert len(runs) == 1, runs
            html_path = urllib.parse.quote(f"{runs[0]['path']}/cross_correlation.html")  # "2026-... UTC"
            html = hub.request("GET", f"/user/{student}/api/contents/{html_path}"
                               "?content=1&format=text&type=file")["content"]
            assert re.search(rf"Score:\s*{score:g}(\.0)?\s*/\s*{total:g}", html), html[:3000]
            assert "BEGIN HIDDEN TESTS" not in html

        # Who can read what: every check is made once by a user who may (so it can fail) and
        # once by one who may not.
        home = {name: Path("/home", name) for name in (teacher, alice, bob)}
        assert all(path.stat().st_mode & 0o777 == 0o700 for path in home.values())
        private = [(alice, home[alice] / notebook),
                   (teacher, home[teacher] / "cnncourse" / "source" / notebook),
                   (teacher, home[teacher] / "cnncourse" / "gradebook.db")]
        for owner, path in private:
            assert run("cat", path, user=owner).returncode == 0, f"{owner} cannot read their own {path}"
            assert run("cat", path, user=bob).returncode != 0, f"{bob} can read {path}"
        inbound = EXCHANGE / COURSE_ID / "inbound"
        assert run("ls", inbound, user=teacher).returncode == 0
        assert run("ls", inbound, user=bob).returncode != 0, f"{bob} can list the submissions"

        restart_keeps_the_students_chapter_and_puts_the_new_version_beside(hub, alice)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status == 200
    except OSError:
        return False


def log_in(url: str, user: str, password: str) -> urllib.request.OpenerDirector:
    """A browser-like session (cookies, redirects) after posting the hub's login form."""
    session = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with session.open(f"{url}/hub/login", timeout=60) as page:
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.read().decode())[1]
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode()
    session.open(f"{url}/hub/login", data=form, timeout=120).close()
    return session


@pytest.mark.slow
def test_trial_script_brings_the_class_up_on_localhost_and_takes_it_away(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("creates Unix users and runs the hub as root (CI runs as root)")
    users = ["trial-teacher", "trial-student1", "trial-student2"]
    ports = [free_port() for _ in range(3)]
    password = secrets.token_urlsafe(12)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "CNNCOURSE_SHARED_PASSWORD": password,
           "CNNCOURSE_HUB_API_PORT": str(ports[1]), "CNNCOURSE_PROXY_API_PORT": str(ports[2])}
    url = f"http://127.0.0.1:{ports[0]}"
    with prefix_lock():
        for name in users:
            assert run("id", name).returncode != 0, f"{name} exists: a trial is installed; trial.sh --remove"
        shutil.rmtree(EXCHANGE, ignore_errors=True)
        log = tmp_path / "trial.log"
        command = ["bash", DEPLOY / "trial.sh", "--prefix", PREFIX, "--port", str(ports[0])]
        with log.open("w") as log_file:
            trial = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        leftovers: list[str] = []
        try:
            deadline = time.monotonic() + 1200  # the first run installs the environment
            while not answers(f"{url}/hub/login"):
                assert trial.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(1)
            assert f"with the password: {password}" in log.read_text()
            # The printed password opens a student's JupyterLab; a wrong one does not.
            with pytest.raises(urllib.error.HTTPError):
                log_in(url, users[1], password + "x")
            session = log_in(url, users[1], password)
            deadline = time.monotonic() + 180
            while True:
                with session.open(f"{url}/user/{users[1]}/lab", timeout=120) as page:
                    if page.url.endswith(f"/user/{users[1]}/lab") and "JupyterLab" in page.read().decode():
                        break
                assert time.monotonic() < deadline, f"no Lab: {page.url}\n{log.read_text()[-3000:]}"
                time.sleep(2)
        finally:
            trial.send_signal(signal.SIGTERM)
            try:
                trial.wait(timeout=60)
            except subprocess.TimeoutExpired:
                leftovers.append("the trial's hub ignored SIGTERM for 60 s")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(trial.pid, signal.SIGKILL)
                leftovers.append("a process of the trial's session outlived the hub")
            leftovers += [f"{name}: {line}" for name in users for line in user_processes(name)]
            removed = run("bash", DEPLOY / "trial.sh", "--prefix", PREFIX, "--remove")
            shutil.rmtree(EXCHANGE, ignore_errors=True)
    assert not leftovers, leftovers
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert all(run("id", name).returncode != 0 and not Path("/home", name).exists() for name in users)
    assert all(port_is_free(port) for port in ports), f"a port of {ports} is still taken"


def assigned(path: Path, setting: str) -> str:
    """The string a config file assigns to ``setting`` (``c.CourseDirectory.course_id = "..."``)."""
    match = re.search(rf'^{re.escape(setting)} = "([^"]*)"', path.read_text(), re.MULTILINE)
    assert match, f"{path} does not set {setting}"
    return match[1]


def test_kubernetes_and_systemd_files_name_the_same_course_paths_and_roles_as_install_sh():
    values = yaml.safe_load((DEPLOY / "z2jh-values.yaml").read_text())
    custom = values["custom"]
    course_ids = {assigned(path, "c.CourseDirectory.course_id")
                  for path in (DEPLOY / "nbgrader_config.py", ROOT / "course" / "nbgrader_config.py")}
    assert course_ids == {custom["courseId"]}
    install_default = re.search(r"^EXCHANGE=(\S+)$", (DEPLOY / "install.sh").read_text(), re.MULTILINE)[1]
    mounts = {m["name"]: m["mountPath"] for m in values["singleuser"]["storage"]["extraVolumeMounts"]}
    assert custom["exchange"] == install_default == mounts["nbgrader-exchange"]
    unit = (DEPLOY / "cnncourse-hub.service").read_text()
    prefix = re.search(r"^PREFIX=(\S+)$", (DEPLOY / "install.sh").read_text(), re.MULTILINE)[1]
    assert f"ExecStart={prefix}/env/bin/jupyterhub -f {prefix}/etc/jupyterhub_config.py" in unit
    dockerfile = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")  # continued lines joined
    assert f"s|@EXCHANGE@|{custom['exchange']}|g" in dockerfile
    # Both start every server with cnncourse-singleuser (the chapters) and open the start page.
    hub_config = (DEPLOY / "jupyterhub_config.py").read_text()
    assert 'c.Spawner.cmd = [str(ENV / "bin" / "cnncourse-singleuser")]' in hub_config
    assert values["singleuser"]["cmd"] == "cnncourse-singleuser"
    assert "> /usr/local/bin/cnncourse-singleuser" in dockerfile
    assert f'c.Spawner.default_url = "{values["singleuser"]["defaultUrl"]}"' in hub_config
    assert values["singleuser"]["defaultUrl"] == f"/lab/tree/{START_HERE}"
    # Everything the image copies exists, from the repository root (the build context).
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"
    # The hub's extra configuration is Python that compiles; every role has its config folder.
    compile(values["hub"]["extraConfig"]["cnncourse"], "z2jh-values.yaml extraConfig", "exec")
    roster = custom["roster"]
    assert {person["role"] for person in roster.values()} == {"instructor", "student"}
    assert all((DEPLOY / "jupyter" / role).is_dir() for role in ("instructor", "student", "class"))
    uids = [person["uid"] for person in roster.values()]
    assert len(set(uids)) == len(uids) and min(uids) > 1000, f"distinct uids, not root's or jovyan's: {uids}"


@pytest.mark.parametrize(("script", "args", "message"), [
    ("install.sh", ["--prefx", "/opt/x"], "unknown argument '--prefx'; expected --prefix DIR"),
    ("adduser.sh", ["teacher", "ann"], "expected a role 'instructor', 'student' or 'remove'"),
    ("adduser.sh", ["student"], "no NAME given after 'student'"),
    ("trial.sh", ["--port"], "trial.sh: --port needs a value"),
])
def test_deployment_scripts_refuse_bad_arguments_and_say_what_they_expected(script, args, message):
    done = subprocess.run(["bash", DEPLOY / script, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr, (done.returncode, done.stderr)
