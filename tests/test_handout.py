"""Handing out course material: a student's copy is never overwritten (hub chapters, make lab assignments)."""

from __future__ import annotations

import datetime

import pytest

from cnncourse.handout import Handed, hand_out


def test_missing_files_are_copied_changed_ones_go_beside_and_a_students_copy_is_never_overwritten(tmp_path):
    course, home = tmp_path / "course", tmp_path / "home" / "notebooks"
    course.mkdir()
    for name in ("00_start_here.ipynb", "07_1_a.ipynb"):
        (course / name).write_text(f"{name} v1")
    (course / ".ipynb_checkpoints").mkdir()
    (course / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("not the course's")

    assert hand_out(course, home) == [Handed(home / "00_start_here.ipynb"), Handed(home / "07_1_a.ipynb")]
    assert sorted(p.name for p in home.iterdir() if not p.name.startswith(".")) == \
        ["00_start_here.ipynb", "07_1_a.ipynb"]
    (home / "07_1_a.ipynb").write_text("my notes")
    assert hand_out(course, home) == []  # the course has not changed: nothing to do
    (course / "07_1_a.ipynb").write_text("07_1_a.ipynb v2")
    (home / "00_start_here.ipynb").unlink()  # a deleted chapter comes back
    day = datetime.date(2026, 3, 1)
    assert hand_out(course, home, today=day) == [
        Handed(home / "00_start_here.ipynb"),
        Handed(home / "07_1_a.ipynb", home / "07_1_a.release-2026-03-01.ipynb")]
    assert (home / "07_1_a.ipynb").read_text() == "my notes"
    assert (home / "07_1_a.release-2026-03-01.ipynb").read_text() == "07_1_a.ipynb v2"
    assert hand_out(course, home, today=day) == []


def test_a_file_where_the_folder_should_be_is_kept_and_named(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    (course / "a.ipynb").write_text("a")
    in_the_way = tmp_path / "notebooks"
    in_the_way.write_text("a student's own file")
    with pytest.raises(NotADirectoryError, match=r"hand_out: .*notebooks is a file, not a folder"):
        hand_out(course, in_the_way)
    assert in_the_way.read_text() == "a student's own file"
