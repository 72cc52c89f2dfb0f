"""A request's bodies: a JSON Lines file of recorded payloads, one JSON document per line.

The loader reads the file once to check it (so a broken line stops the run before any replica
starts, naming the file and the line); each Locust process reads it again and sends the lines as
they are, so the service gets exactly the recorded bytes and Locust encodes nothing per request.
"""

from __future__ import annotations

import json
from pathlib import Path

MAX_ERRORS_SHOWN = 3


class BodiesError(ValueError):
    """The bodies file cannot be used; the message names the file and the line."""


def read_bodies(path: Path) -> list[bytes]:
    """Every body of the file, each line as its bytes (blank lines skipped); BodiesError if one is not JSON."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise BodiesError(f"{path}: no such bodies file") from None
    except IsADirectoryError:
        raise BodiesError(f"{path}: is a directory, not a JSON Lines file of bodies") from None
    except OSError as error:
        raise BodiesError(f"{path}: cannot be read: {error.strerror}") from None
    bodies: list[bytes] = []
    problems: list[str] = []
    for number, raw in enumerate(data.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            json.loads(line)
        except UnicodeDecodeError:
            problems.append(f"line {number} is not UTF-8 text")
        except json.JSONDecodeError as error:
            problems.append(f"line {number} is not JSON ({error.msg}, column {error.colno})")
        else:
            bodies.append(line)
    if problems:
        more = f" (and {len(problems) - MAX_ERRORS_SHOWN} more)" if len(problems) > MAX_ERRORS_SHOWN else ""
        raise BodiesError(f"{path}: " + "; ".join(problems[:MAX_ERRORS_SHOWN]) + more)
    if not bodies:
        raise BodiesError(f"{path}: holds no body; give one JSON document per line")
    return bodies
