"""Result files (loadtest/util/files.py): written whole or not at all, and read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.util.files import read_tail, write_atomic, write_json_atomic


def test_write_atomic_creates_the_folder_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "summary.md"
    write_atomic(path, "## ✅\n")
    assert path.read_text(encoding="utf-8") == "## ✅\n"
    assert list(path.parent.iterdir()) == [path]
    assert path.stat().st_mode & 0o777 == 0o644  # readable by the CI's artifact upload, whatever the umask


def test_write_atomic_replaces_a_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "matrix.png"
    path.write_bytes(b"old and longer")
    write_atomic(path, b"\x89PNG")
    assert path.read_bytes() == b"\x89PNG"
    # Readable by other users (a container's app user reads the model's artifacts), writable by the owner.
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_write_that_fails_keeps_the_old_file_and_cleans_up(tmp_path: Path) -> None:
    # A folder where the file should go: the rename fails after the temporary file was written.
    (tmp_path / "verdict.json").mkdir()
    (tmp_path / "verdict.json" / "inside").write_text("kept", encoding="utf-8")
    with pytest.raises(IsADirectoryError, match=r"verdict\.json"):
        write_atomic(tmp_path / "verdict.json", "{}")
    assert [path.name for path in tmp_path.iterdir()] == ["verdict.json"]
    assert (tmp_path / "verdict.json" / "inside").read_text(encoding="utf-8") == "kept"


def test_json_is_pretty_utf8_with_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "matrix.json"
    write_json_atomic(path, {"cell": "r1", "note": "–"})
    text = path.read_text(encoding="utf-8")
    assert text == '{\n  "cell": "r1",\n  "note": "–"\n}\n'
    assert json.loads(text) == {"cell": "r1", "note": "–"}


def test_read_tail(tmp_path: Path) -> None:
    log = tmp_path / "locust.log"
    log.write_text("".join(f"line {n}\n" for n in range(1, 21)), encoding="utf-8")
    assert read_tail(log, lines=3) == "line 18\nline 19\nline 20"
    assert read_tail(log).splitlines()[0] == "line 6"  # 15 lines by default


def test_read_tail_of_a_missing_or_undecodable_log(tmp_path: Path) -> None:
    assert read_tail(tmp_path / "never-written.log") == ""
    (tmp_path / "binary.log").write_bytes(b"ok\n\xff\xfe broken\n")
    assert read_tail(tmp_path / "binary.log") == "ok\n\ufffd\ufffd broken"
