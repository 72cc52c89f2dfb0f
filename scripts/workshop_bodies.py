"""Writes the workshop scenario's /predict bodies: every row of the Iris data set, one JSON body per line.

    .venv/bin/python -m scripts.workshop_bodies           # (re)write the file
    .venv/bin/python -m scripts.workshop_bodies --check   # exit 1 if the committed file differs

The bodies are `{"features": [sepal_length, sepal_width, petal_length, petal_width]}` (cm, the
API's field order), the 150 rows of scikit-learn's copy of Iris in its own order: real flowers,
where the workshop drew each feature uniformly in its range (combinations no flower has). The
output is deterministic, so the file is committed and shipped inside the package (the load
generator does not need scikit-learn); a unit test runs `--check`'s comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from model.data import FEATURE_NAMES

OUTPUT = Path(__file__).resolve().parent.parent / "loadtest" / "scenario" / "workshop_iris.jsonl"


def bodies_text() -> str:
    """The file's content: one body per Iris row, in the data set's order."""
    from sklearn.datasets import load_iris  # noqa: PLC0415 - the train group's; imported only when run

    rows = load_iris().data
    assert rows.shape[1] == len(FEATURE_NAMES)  # the API's four features, in its order
    lines = [json.dumps({"features": [round(float(value), 1) for value in row]}) for row in rows]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the bodies, or with --check compare them with the committed file."""
    parser = argparse.ArgumentParser(prog="python -m scripts.workshop_bodies", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file; exit 1 if it differs")
    args = parser.parse_args(argv)
    text = bodies_text()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print(f"{OUTPUT} differs from what this script writes; run it to rewrite the file", file=sys.stderr)
            return 1
        print(f"{OUTPUT}: up to date ({text.count(chr(10))} bodies)")
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} bodies to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
