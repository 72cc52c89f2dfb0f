"""Tables for people: GitHub Markdown for summaries and PR comments, fixed width for terminals.

`align` has one letter a column: l(eft) or r(ight).
"""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str, bold_last: bool = False) -> str:
    """A GitHub Markdown table; `bold_last` sets the last row (a total) in bold."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if side == "r" else "---" for side in align) + "|",
    ]
    for index, row in enumerate(rows):
        cells = [cell(text) for text in row]
        if bold_last and index == len(rows) - 1:
            cells = [f"**{text}**" for text in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A plain fixed-width table for the terminal."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if side == "r" else c.ljust(w) for c, w, side in zip(cells, widths, align, strict=True)]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), "  ".join("-" * width for width in widths), *(line(row) for row in rows)])
