"""Files written so that a reader never sees half of one (temp file, fsync, rename), and logs read back."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; results and artifacts are read by other users (a container's app user).
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_tail(path: Path, lines: int = 15) -> str:
    """The last `lines` lines of a text file such as a captured log ("" if it does not exist)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def write_json_atomic(path: Path, document: Any) -> None:
    """Pretty JSON (sorted as given, UTF-8, trailing newline), written atomically."""
    write_atomic(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
