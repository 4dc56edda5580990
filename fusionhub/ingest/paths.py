"""Dotted paths into nested rows, shared by the JSON/XML connectors and the profile engine.

A row is a dict. Flat formats (CSV) give string values; structured formats (JSON, XML,
STIX) give nested dicts and lists. A path names a value the same way in both:

- ``person.name.last`` is looked up as a key first (a flattened JSON row has that key),
  then by walking ``person`` -> ``name`` -> ``last`` through nested dicts;
- ``offender[1].age`` picks one item of a list; a path that runs through a list without
  an index collects the value of every item (``offense.code`` -> ``["13A", "290"]``);
- ``$.header.ori`` starts at the whole row even when a profile entity is mapped over the
  items of a list (``each:``), where plain paths start at the item.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_INDEX = re.compile(r"^(.*)\[(\d+)\]$")
ROOT = "$."


class ItemRow(dict[str, Any]):
    """One item of a repeated element, seen as a row; ``$.`` paths reach the whole row."""

    def __init__(self, item: Any, root: dict[str, Any]) -> None:
        super().__init__(item if isinstance(item, dict) else {"value": item})
        self.root = root


class Resolved(dict[str, Any]):
    """An element that refers to another, carrying that element's content too.

    ``own_keys`` are the element's own values; the rest is a copy of what it points at,
    which is already kept at its own place in the row (so it is not reported twice).
    """

    own_keys: set[str]


def lookup(row: Any, path: str) -> Any:
    """The value at ``path`` in ``row``, ``None`` when there is none."""
    if path.startswith(ROOT):
        return _walk(getattr(row, "root", row), path[len(ROOT) :])
    return _walk(row, path)


def _walk(value: Any, path: str) -> Any:
    if isinstance(value, list):
        found: list[Any] = []
        for item in value:
            got = _walk(item, path)
            if got is None:
                continue
            if isinstance(got, list):
                found.extend(got)
            else:
                found.append(got)
        return found or None
    if not isinstance(value, dict) or not path:
        return None
    if path in value:
        return value[path]
    start = 0
    while True:
        dot = path.find(".", start)
        if dot < 0:
            break
        head, rest = path[:dot], path[dot + 1 :]
        child = _child(value, head)
        if child is not None:
            got = _walk(child, rest)
            if got is not None:
                return got
        start = dot + 1
    return _child(value, path)


def _child(value: dict[str, Any], key: str) -> Any:
    if key in value:
        return value[key]
    match = _INDEX.match(key)
    if not match or match.group(1) not in value:
        return None
    inner, index = value[match.group(1)], int(match.group(2))
    if isinstance(inner, list):
        return inner[index] if index < len(inner) else None
    return inner if index == 0 else None  # one element where a list could be


def items(row: Any, path: str) -> list[Any]:
    """The items at ``path``: a list as is, one value as a list of one, nothing as []."""
    value = lookup(row, path)
    if value is None:
        return []
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            if isinstance(item, list):
                out.extend(item)
            elif item is not None:
                out.append(item)
        return out
    return [value]


def flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys; lists stay lists (objects inside them flattened).

    Two source keys that flatten to one name (``{"a.b": 1, "a": {"b": 2}}``) are both kept:
    the later value joins the first in a list, never replacing it.
    """
    out: dict[str, Any] = {}
    _flatten_into(obj, prefix, out)
    return out


def _flatten_into(obj: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten_into(value, name + ".", out)
            continue
        if isinstance(value, list):
            value = [_flat_item(v) for v in value]
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value


def _flat_item(value: Any) -> Any:
    if isinstance(value, dict):
        return flatten(value)
    if isinstance(value, list):
        return [_flat_item(v) for v in value]
    return value


def leaves(value: Any, path: str = "", pattern: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every scalar under ``value`` as (indexed path, index-free pattern, value)."""
    if isinstance(value, dict):
        if not value:
            return
        own = getattr(value, "own_keys", None)
        for key, child in value.items():
            if own is not None and key not in own:
                continue
            yield from leaves(child, f"{path}.{key}" if path else key, f"{pattern}.{key}" if pattern else key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaves(child, f"{path}[{index}]", pattern)
    else:
        yield path, pattern, value


def pattern_of(path: str) -> str:
    """``a[0].b[2].c`` -> ``a.b.c`` (the index-free form used to compare paths)."""
    path = path.removeprefix(ROOT)
    return re.sub(r"\[\d+\]", "", path)


def covered(pattern: str, used: set[str]) -> bool:
    """Whether a mapped path names this leaf or one of the elements above it."""
    if pattern in used:
        return True
    dot = pattern.find(".")
    while dot >= 0:
        if pattern[:dot] in used:
            return True
        dot = pattern.find(".", dot + 1)
    return False
