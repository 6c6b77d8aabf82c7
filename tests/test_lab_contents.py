"""What ``make lab`` serves (cnncourse.lab_contents): notebooks/ and assignments/, nothing else."""

from __future__ import annotations

import asyncio

import pytest
from jupyter_server.files.handlers import FilesHandler
from jupyter_server.services.contents.handlers import validate_model
from tornado.web import HTTPError

from cnncourse.lab_contents import StudentContents, shown


@pytest.fixture
def contents(tmp_path):
    for name in ("notebooks/07_1.ipynb", "assignments/ps1/ps1.ipynb", "course/source/ps1/ps1.ipynb",
                 "src/cnncourse/__init__.py", "README.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    return StudentContents(root_dir=str(tmp_path)), tmp_path


def _run(coroutine):
    return asyncio.run(coroutine)


def test_the_root_lists_the_chapters_and_the_assignments_only(contents):
    cm, _ = contents
    root = _run(cm.get(""))
    assert [item["name"] for item in root["content"]] == ["notebooks", "assignments"]
    validate_model(root, expect_content=True)  # what the REST handler checks before it answers
    assert [item["name"] for item in _run(cm.get("notebooks"))["content"]] == ["07_1.ipynb"]
    assert _run(cm.get("assignments/ps1/ps1.ipynb"))["type"] == "notebook"


@pytest.mark.parametrize("path", ["course", "course/source/ps1/ps1.ipynb", "notebooks/../course/source",
                                  "assignments/../../etc/passwd", "README.md", "src", "./course",
                                  "notebooks/%2E%2E/course"])
def test_everything_else_is_not_found_for_reading_and_writing(contents, path):
    cm, root = contents
    with pytest.raises(HTTPError) as refused:
        _run(cm.get(path))
    assert refused.value.status_code == 404
    assert not cm.exists(path) and not _run(cm.file_exists(path)) and not _run(cm.dir_exists(path))
    model = {"type": "file", "format": "text", "content": "mine"}
    for write in (lambda: cm.save(model, f"{path}/new.txt"), lambda: cm.new_untitled(path, type="file"),
                  lambda: cm.rename("notebooks/07_1.ipynb", f"{path}/moved.ipynb"),
                  lambda: cm.delete(path), lambda: cm.copy(path, "notebooks")):
        with pytest.raises(HTTPError):
            result = write()
            if asyncio.iscoroutine(result):
                _run(result)
    assert (root / "course/source/ps1/ps1.ipynb").exists() and (root / "notebooks/07_1.ipynb").exists()


def test_downloads_go_through_the_same_checks_and_shown_resolves_dots():
    assert StudentContents(root_dir="/").files_handler_class is FilesHandler  # get() through the manager
    assert shown("") and shown("notebooks/x.ipynb") and shown("assignments/ps1/../ps2")
    assert not shown("notebooks/../course")
    assert not shown("course/../../notebooks/../course")
