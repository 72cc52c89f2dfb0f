"""What to write instead of a profile's inline `scenario:` (the workshop's two kinds, before wave 3).

A profile used to set the workshop's `ordinary` and `heavy` users inline, each with its `share` and
`wait` (`between` or `constant_throughput`). Now a profile names a scenario file (`scenario_file`,
default the workshop's) and sets its kinds' paces (`pace`); the old key is refused with a message
that spells out the new keys for the mapping it found, so migrating is a copy and paste.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WORKSHOP_SHARE = 0.5
"""Each of the workshop's kinds' share in its scenario file."""


def inline_scenario_message(inline: Any) -> str:
    """Why a profile's inline `scenario:` is refused, and what to write instead."""
    advice = (
        "`scenario:` (inline kinds of users) is replaced by `scenario_file:` (a scenario file, default the "
        "workshop's) and `pace:` (its kinds' paces): see the README's changelog, 'Renamed in wave 3'"
    )
    pace, shares = _translated(inline)
    if pace:
        advice += f"; for this profile write `pace: {{{', '.join(pace)}}}`"
    if shares:
        advice += (
            f" and, for shares other than the workshop's {WORKSHOP_SHARE:g} each ({', '.join(shares)}), a scenario "
            "file of your own (copy loadtest/scenario/workshop.yaml and set each kind's `share`)"
        )
    return advice


def _translated(inline: Any) -> tuple[list[str], list[str]]:
    """The `pace:` entries and the shares that differ from the workshop's, as far as the mapping can be read."""
    pace: list[str] = []
    shares: list[str] = []
    if not isinstance(inline, Mapping):
        return pace, shares
    for kind, load in inline.items():
        if not isinstance(load, Mapping):
            continue
        wait = load.get("wait")
        if isinstance(wait, Mapping) and "constant_throughput" in wait:
            pace.append(f"{kind}: {{rate: {wait['constant_throughput']}}}")
        elif isinstance(wait, Mapping) and "between" in wait:
            pace.append(f"{kind}: {{between: {wait['between']}}}")
        share = load.get("share")
        if share is not None and share != WORKSHOP_SHARE:
            shares.append(f"{kind} {share}")
    return pace, shares
