"""Tests for cnncourse.tables: the one formatter behind every printed table."""

from __future__ import annotations

import pytest

from cnncourse.tables import format_table


def test_format_table_aligns_columns_and_rules_off_header_and_footer():
    text = format_table(("name", "count"), [("a", "1,000"), ("long name", "7")],
                        footer=[("total", "1,007")], align="<>")
    assert text.splitlines() == [
        "name       count",
        "----------------",
        "a          1,000",
        "long name      7",
        "----------------",
        "total      1,007",
    ]


def test_format_table_without_footer_has_one_rule_and_no_trailing_spaces():
    lines = format_table(("x", "note"), [(1, ""), (22, "ok")]).splitlines()
    assert lines == ["x   note", "--------", "1", "22  ok"]


@pytest.mark.parametrize("call, pattern", [
    (lambda: format_table(("a", "b"), [("1",)]), r"format_table: every row must have 2 cells"),
    (lambda: format_table(("a", "b"), [], align="<"), r"align must be one '<' or '>' per column"),
    (lambda: format_table(("a",), [], align="^"), r"got '\^'"),
])
def test_format_table_rejects_ragged_rows_and_bad_alignment(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
