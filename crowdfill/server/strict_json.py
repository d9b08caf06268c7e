"""JSON as the edge accepts it: what the standard parser takes, minus what later breaks a table.

``json.loads`` accepts lone surrogates (``"\\udfff"``), ``NaN``/``Infinity``, numbers that overflow
to infinity, integers of thousands of digits and nesting deep enough to exhaust the stack. Each
of those either cannot be encoded back to UTF-8 JSON (so every later read of a table holding it
fails) or costs the server far more than the message is worth. ``loads`` refuses them all with a
``JsonRefused`` naming the problem; anything it returns can be stored, sent and exported.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
MAX_INT_DIGITS = 100
_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """``code`` is ``bad_json`` (not JSON at all) or ``malformed`` (JSON the server will not take)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _integer(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise JsonRefused("malformed", f"a number has {digits} digits; at most {MAX_INT_DIGITS} are allowed")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused("malformed", f"the number {text[:40]} is too large")
    return value


def _constant(text: str) -> float:
    raise JsonRefused("malformed", f"{text} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """The value of ``text``, or ``JsonRefused``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonRefused("bad_json", "the message is not valid UTF-8") from error
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except JsonRefused:
        raise
    except RecursionError as error:
        raise JsonRefused("malformed", f"the JSON is nested deeper than {MAX_DEPTH} levels") from error
    except ValueError as error:
        raise JsonRefused("bad_json", f"not valid JSON: {error}") from error
    # Cheap filters first: a text with few brackets cannot be deep, and one with neither a
    # \u escape nor a literal surrogate cannot hold a lone surrogate.
    deep = text.count("[") + text.count("{") > MAX_DEPTH
    if deep or "\\u" in text or _SURROGATE.search(text):
        check(value)
    return value


def check(value: Any) -> None:
    """Refuse a decoded value that is too deep or holds a string that is not valid Unicode."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                place = f" in {where}" if where else ""
                raise JsonRefused(
                    "malformed", f"a string{place} is not valid Unicode (it holds a lone surrogate)"
                )
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise JsonRefused("malformed", f"the JSON is nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                # Keys are strings too; a key that is not valid Unicode is reported by its parent.
                stack.append((key, depth, where))
                stack.append((child, depth + 1, _path(where, key)))
        else:
            # List positions are left out of the path: "value", not "1.value", reads better.
            stack.extend((child, depth + 1, where) for child in item)


def _path(where: str, key: str) -> str:
    shown = key if not _SURROGATE.search(key) and len(key) <= 40 else "?"
    return f"{where}.{shown}" if where else shown
