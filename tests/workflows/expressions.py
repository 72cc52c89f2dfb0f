"""GitHub Actions expressions (`${{ ... }}` and `if:`), evaluated the way the runner does.

GitHub's own evaluator is JavaScript (@actions/expressions); this is the subset that the job and
step conditions, the concurrency groups and the artifact names use (the gate's decision is
`python -m loadtest verdict`, tested on its own), with its documented semantics: `&&`/`||` return
an operand, `==` compares strings without regard to case and coerces mismatched types to numbers,
a missing property is null, and an `if:` without a status function means `success() && (...)`.
A function it does not model is an error, not a guess. Reference:
https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Status = str
"""The job's status so far for the status functions: success, failure or cancelled."""

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w-]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,]))"
)
_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4}
_STATUS_FUNCTIONS = ("success", "failure", "cancelled", "always")


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read the expression at {text[position:]!r}")
        kind = match.lastgroup or "op"
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def truthy(value: Any) -> bool:
    """false, 0, -0, "", null and NaN are falsy; everything else (objects and arrays too) is truthy."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) or isinstance(left, dict | list) or isinstance(right, dict | list):
        return bool(left is right or left == right)
    return _number(left) == _number(right)


def to_text(value: Any) -> str:
    """How a value is written into a string (`${{ }}` in a step's env or run)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _property(value: Any, name: Any) -> Any:
    if isinstance(value, Mapping):
        wanted = str(name).casefold()
        return next((item for key, item in value.items() if str(key).casefold() == wanted), None)
    if isinstance(value, list) and isinstance(name, int | float) and 0 <= int(name) < len(value):
        return value[int(name)]
    return None


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any], status: Status) -> None:
        self.tokens, self.position = _tokens(text), 0
        self.contexts, self.status = contexts, status
        self.functions: dict[str, Callable[..., Any]] = {
            "fromjson": json.loads,
            "tojson": lambda value: json.dumps(value, indent=2),
            "success": lambda: status == "success",
            "failure": lambda: status == "failure",
            "cancelled": lambda: status == "cancelled",
            "always": lambda: True,
        }

    def peek(self) -> _Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, text: str | None = None) -> _Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise ValueError(f"expected {text or 'more'} at token {self.position}")
        self.position += 1
        return token

    def parse(self) -> Any:
        value = self.binary(1)
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()}")
        return value

    def binary(self, level: int) -> Any:
        left = self.unary()
        while (token := self.peek()) is not None and _PRECEDENCE.get(token.text, 0) >= level:
            operator = self.take().text
            if operator in ("&&", "||"):
                # Both sides are parsed; the result is an operand, as in JavaScript.
                right = self.binary(_PRECEDENCE[operator] + 1)
                left = (right if truthy(left) else left) if operator == "&&" else (left if truthy(left) else right)
                continue
            right = self.binary(_PRECEDENCE[operator] + 1)
            if operator == "==":
                left = _equal(left, right)
            elif operator == "!=":
                left = not _equal(left, right)
            else:
                a, b = _number(left), _number(right)
                left = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]
        return left

    def unary(self) -> Any:
        if (token := self.peek()) is not None and token.text == "!":
            self.take()
            return not truthy(self.unary())
        return self.postfix(self.primary())

    def primary(self) -> Any:
        token = self.take()
        if token.text == "(":
            value = self.binary(1)
            self.take(")")
            return value
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'")
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "name":
            lowered = token.text.casefold()
            if lowered in ("true", "false"):
                return lowered == "true"
            if lowered == "null":
                return None
            if (following := self.peek()) is not None and following.text == "(":
                self.take("(")
                args = []
                while (closing := self.peek()) is not None and closing.text != ")":
                    args.append(self.binary(1))
                    if (comma := self.peek()) is not None and comma.text == ",":
                        self.take(",")
                self.take(")")
                if lowered not in self.functions:
                    raise ValueError(f"function {token.text}() is not modelled here: add it with GitHub's semantics")
                return self.functions[lowered](*args)
            return _property(self.contexts, token.text)
        raise ValueError(f"unexpected {token.text!r}")

    def postfix(self, value: Any) -> Any:
        while (token := self.peek()) is not None and token.text in (".", "["):
            self.take()
            if token.text == ".":
                value = _property(value, self.take().text)
            else:
                key = self.binary(1)
                self.take("]")
                value = _property(value, key)
        return value


def evaluate(expression: str, contexts: Mapping[str, Any], status: Status = "success") -> Any:
    """The value of one expression (the text inside `${{ }}`)."""
    return _Parser(expression, contexts, status).parse()


def interpolate(text: Any, contexts: Mapping[str, Any], status: Status = "success") -> Any:
    """A workflow value with its `${{ }}` parts evaluated; a value that is one whole expression keeps its type."""
    if not isinstance(text, str):
        return text
    whole = re.fullmatch(r"\s*\$\{\{((?:(?!\}\}).)*)\}\}\s*", text, re.DOTALL)
    if whole:
        return evaluate(whole.group(1), contexts, status)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: to_text(evaluate(m.group(1), contexts, status)), text, flags=re.DOTALL)


def condition(text: Any, contexts: Mapping[str, Any], status: Status = "success") -> bool:
    """Whether a job or step with this `if:` runs (no `if:`: only when all before succeeded)."""
    if text is None:
        return status == "success"
    expression = str(text).strip()
    if expression.startswith("${{") and expression.endswith("}}"):
        expression = expression[3:-2]
    if not any(re.search(rf"\b{name}\s*\(", expression, re.IGNORECASE) for name in _STATUS_FUNCTIONS):
        expression = f"success() && ({expression})"
    return truthy(evaluate(expression, contexts, status))
