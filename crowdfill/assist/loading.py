"""Naming an assistant: a built-in (``vader``, ``http``), an entry point, or ``module:attr``.

A requester's own model is a Python object satisfying ``Assistant``, or a callable (a class, a
factory) that takes the options as keyword arguments and returns one. It is found by import and
attribute lookup only, never by evaluating text. Packages publish theirs under the
``crowdfill.assistants`` entry-point group, so ``--assistant mymodel`` finds them by name.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from collections.abc import Callable, Mapping
from typing import Any

from crowdfill.assist.errors import InvalidAssistant
from crowdfill.assist.port import Assistant

ENTRY_POINT_GROUP = "crowdfill.assistants"
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _vader(**options: Any) -> Assistant:
    # Imported on demand: a table without the built-in model never loads its lexicon.
    from crowdfill.assist.vader import VaderAssistant

    return VaderAssistant(**options)


def _http(**options: Any) -> Assistant:
    from crowdfill.assist.http_model import HttpAssistant

    return HttpAssistant(**options)


BUILTIN: Mapping[str, Callable[..., Assistant]] = {"vader": _vader, "http": _http}


def load_assistant(spec: str, options: Mapping[str, Any] | None = None) -> Assistant:
    """The assistant ``spec`` names, built with ``options``; InvalidAssistant says what is wrong."""
    options = dict(options or {})
    if not isinstance(spec, str) or not spec:
        raise InvalidAssistant(f"an assistant is named by a non-empty string, got {spec!r}")
    if spec in BUILTIN:
        return _build(BUILTIN[spec], spec, options)
    if ":" in spec:
        return _build(_import(spec), spec, options)
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=spec)
    if not found:
        known = sorted(
            {*BUILTIN, *(ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))}
        )
        raise InvalidAssistant(
            f"no assistant named {spec!r}: known names are {known}, or give 'module:attribute'"
        )
    (entry,) = list(found)[:1]
    return _build(_import(entry.value), spec, options)


def _import(target: str) -> object:
    module_name, _, attribute = target.partition(":")
    module_name, attribute = module_name.strip(), attribute.strip()
    if not _DOTTED.fullmatch(module_name) or not _DOTTED.fullmatch(attribute):
        raise InvalidAssistant(f"assistant {target!r} must look like 'package.module:attribute'")
    try:
        found: object = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidAssistant(f"assistant {target!r}: cannot import {module_name!r} ({error})") from error
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError as error:
            raise InvalidAssistant(f"assistant {target!r}: {module_name!r} has no {attribute!r}") from error
    return found


def _build(found: object, spec: str, options: dict[str, Any]) -> Assistant:
    if isinstance(found, Assistant) and not isinstance(found, type):
        if options:
            raise InvalidAssistant(
                f"assistant {spec!r} is an object, it takes no options (got {sorted(options)})"
            )
        return found
    if not callable(found):
        raise InvalidAssistant(f"assistant {spec!r} is neither an assistant nor a factory of one")
    try:
        built = found(**options)
    except TypeError as error:
        raise InvalidAssistant(f"assistant {spec!r} does not take these options: {error}") from error
    if not isinstance(built, Assistant):
        raise InvalidAssistant(
            f"assistant {spec!r} built a {type(built).__name__}, which lacks name, suggest and predict"
        )
    return built
