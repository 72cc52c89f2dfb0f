"""Tables for people (loadtest/util/tables.py): GitHub Markdown and fixed-width terminal tables."""

from __future__ import annotations

from loadtest.util.tables import markdown_table, text_table

HEADERS = ["Error", "Count"]
ROWS = [["timeout", "1,234"], ["refused", "7"]]


def test_markdown_right_aligns_the_columns_marked_r() -> None:
    assert markdown_table(HEADERS, ROWS, "lr").splitlines() == [
        "| Error | Count |",
        "|---|---:|",
        "| timeout | 1,234 |",
        "| refused | 7 |",
    ]


def test_markdown_bolds_the_total_row_when_asked() -> None:
    lines = markdown_table(HEADERS, [*ROWS, ["total", "1,241"]], "lr", bold_last=True).splitlines()
    assert lines[-1] == "| **total** | **1,241** |"
    assert lines[-2] == "| refused | 7 |"


def test_markdown_cells_cannot_break_the_table() -> None:
    # Locust's error texts may hold a pipe or a newline; either would end the row in GitHub's renderer.
    table = markdown_table(HEADERS, [["HTTP 500 | body\nsecond line", "1"]], "lr")
    assert table.splitlines()[-1] == "| HTTP 500 \\| body second line | 1 |"


def test_text_table_pads_each_column_to_its_widest_cell() -> None:
    assert text_table(HEADERS, ROWS, "lr").splitlines() == [
        "Error    Count",
        "-------  -----",
        "timeout  1,234",
        "refused      7",
    ]


def test_text_table_leaves_no_trailing_blanks() -> None:
    lines = text_table(["Name", "Note"], [["a", ""], ["bb", "x"]], "ll").splitlines()
    assert lines[2] == "a"
    assert all(line == line.rstrip() for line in lines)
