"""Short text for messages: the first line of an error, a sentence from a clause."""

from __future__ import annotations


def first_line(text: object, fallback: str = "unknown error") -> str:
    """The first non-blank line of `text` (an exception or a string), or `fallback`."""
    if isinstance(text, BaseException) and not str(text).strip():
        return type(text).__name__
    stripped = str(text if text is not None else "").strip()
    return stripped.splitlines()[0] if stripped else fallback


def sentence(text: str) -> str:
    """`text` with a capital first letter and one final full stop."""
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
