"""A JSON Lines file of bodies (loadtest/scenario/bodies.py): the lines as written, or the lines that are wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.scenario.bodies import BodiesError, read_bodies


def test_each_line_is_one_body_kept_as_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_bytes(b'{"a": 1}\r\n\n  "text"  \n[1,2]')  # CRLF, a blank line, spaces, no final newline
    assert read_bodies(path) == [b'{"a": 1}', b'"text"', b"[1,2]"]


def test_every_bad_line_is_named_the_first_three_in_full(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_bytes(b"{}\nnope\n{\n\xff\n{}\nx\n")
    with pytest.raises(BodiesError) as raised:
        read_bodies(path)
    assert str(raised.value) == (
        f"{path}: line 2 is not JSON (Expecting value, column 1); line 3 is not JSON (Expecting property name "
        "enclosed in double quotes, column 2); line 4 is not UTF-8 text (and 1 more)"
    )


def test_a_directory_is_not_a_bodies_file(tmp_path: Path) -> None:
    with pytest.raises(BodiesError, match="is a directory, not a JSON Lines file of bodies"):
        read_bodies(tmp_path)
