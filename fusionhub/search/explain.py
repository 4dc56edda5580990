"""Why a hit matched: for each clause of the query, which field and which way.

Computed from the hit's own values (rebuilt with the same code that indexed them), so
the explanation says what the analyst needs to weigh the hit: ``exact``, ``nickname``,
``fuzzy`` (with the edit distance), ``phonetic``, ``initial``, ``swapped`` (given and
family names in each other's place), ``day/month swap``, ``within tolerance``,
``confusable`` (plate characters O/0, I/1, B/8...) or ``wildcard``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import jellyfish

from fusionhub.model.types.identifiers import PLATE_CONFUSIONS
from fusionhub.model.types.name import name_tokens, parse_name
from fusionhub.search.documents import SearchDocument, day_number
from fusionhub.search.names import NicknameTable, fuzzy_distance, phonetic_keys
from fusionhub.search.query import (
    Address,
    BirthDate,
    Box,
    Facet,
    Key,
    Leaf,
    Name,
    Node,
    Plate,
    Radius,
    Text,
    TimeRange,
    leaves,
)
from fusionhub.search.tantivy_query import KEY_FIELD

Match = dict[str, Any]


def token_match(token: str, candidates: list[str], nicknames: NicknameTable) -> tuple[str, str] | None:
    """The best way ``token`` matches one of ``candidates``: (how, value) or None."""
    if not candidates:
        return None
    if token in candidates:
        return "exact", token
    if len(token) == 1:
        for value in candidates:
            if value.startswith(token):
                return "initial", value
        return None
    variants = nicknames.expand(token)
    for value in candidates:
        if value in variants:
            return "nickname", value
    allowed = fuzzy_distance(token)
    best: tuple[int, str] | None = None
    for value in candidates:
        distance = jellyfish.damerau_levenshtein_distance(token, value)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, value)
    if best is not None:
        return f"fuzzy:{best[0]}", best[1]
    keys = set(phonetic_keys(token))
    for value in candidates:
        if keys & set(phonetic_keys(value)):
            return "phonetic", value
    for value in candidates:
        if len(value) == 1 and token.startswith(value):
            return "initial", value
    return None


def _name(node: Name, doc: SearchDocument, nicknames: NicknameTable) -> list[Match]:
    found: list[Match] = []
    if node.part != "name":
        for token in name_tokens(node.text):
            hit = token_match(token, doc.values(f"n_{node.part}") + doc.values("n_minit"), nicknames)
            if hit:
                found.append({"field": node.part, "query": token, "value": hit[1].upper(), "how": hit[0]})
        return found
    parts = parse_name(node.text)
    asked = [("first", t) for t in name_tokens(parts.first or "")]
    asked += [("middle", t) for t in name_tokens(parts.middle or "")]
    asked += [("last", t) for t in name_tokens(parts.last or "")]
    for role, token in asked:
        for part in (role, *[p for p in ("first", "last", "middle") if p != role]):
            candidates = doc.values(f"n_{part}") + (doc.values("n_minit") if part == "middle" else [])
            hit = token_match(token, candidates, nicknames)
            if hit:
                how = hit[0]
                if {role, part} == {"first", "last"}:
                    how += ", swapped"
                found.append({"field": part, "query": token, "value": hit[1].upper(), "how": how})
                break
        else:
            hit = token_match(token, doc.values("n_all"), nicknames)
            if hit:
                found.append({"field": "name", "query": token, "value": hit[1].upper(), "how": hit[0]})
    return found


def _birth_date(node: BirthDate, doc: SearchDocument) -> list[Match]:
    found: list[Match] = []
    low, high = day_number(node.low.isoformat()), day_number(node.high.isoformat())
    for value in doc.values("dob"):
        if node.exact and value == node.exact:
            how = "exact"
        elif node.exact and node.exact in doc.values("dob_key") and len(value) == 10:
            how = "day/month swap"
        elif len(value) == 10 and low is not None and high is not None and low <= (day_number(value) or 0) < high:
            how = "within tolerance" if node.exact else "in range"
        elif len(value) == 4 and node.low.year <= int(value) < max(node.high.year, node.low.year + 1):
            how = "year only"
        else:
            continue
        found.append({"field": "dob", "value": value, "how": how})
    return found


@lru_cache(maxsize=256)
def _plate_matcher(pattern: str) -> Callable[[str], bool]:
    """Whether a plate matches ``pattern`` (``*`` any run, ``?`` one character).

    Every query brings a new pattern, so compiling a regular expression for it cost a
    plate search more than matching its page of hits: the usual forms (exact, a prefix
    ``7AB*``) are compared directly.
    """
    body = pattern[:-1] if pattern.endswith("*") else pattern
    if "*" not in body and "?" not in body:
        return body.__eq__ if body == pattern else (lambda value: value.startswith(body))
    regex = re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + "$")
    return lambda value: regex.match(value) is not None


def _plate(node: Plate, doc: SearchDocument) -> list[Match]:
    found: list[Match] = []
    wildcard = "*" in node.pattern or "?" in node.pattern
    exact, confusable = _plate_matcher(node.pattern), _plate_matcher(node.pattern.translate(PLATE_CONFUSIONS))
    for value in doc.values("plate"):
        key = value.translate(PLATE_CONFUSIONS)
        if exact(value):
            how = "wildcard" if wildcard else "exact"
        elif confusable(key):
            how = "confusable" + (", wildcard" if wildcard else "")
        else:
            continue
        found.append({"field": "plate", "value": value, "how": how})
    return found


def explain(
    node: Node, doc: SearchDocument, nicknames: NicknameTable, clauses: list[tuple[Leaf, bool]] | None = None
) -> list[Match]:
    """How ``doc`` matched each clause of ``node`` (``clauses``: its leaves, when already listed)."""
    matched: list[Match] = []
    for clause, negated in leaves(node) if clauses is None else clauses:
        if negated:
            continue
        if isinstance(clause, Name):
            matched += _name(clause, doc, nicknames)
        elif isinstance(clause, BirthDate):
            matched += _birth_date(clause, doc)
        elif isinstance(clause, Plate):
            matched += _plate(clause, doc)
        elif isinstance(clause, Key):
            field = KEY_FIELD[clause.field]
            for value in doc.values(field):
                if value in clause.values:
                    matched.append({"field": clause.field, "value": value, "how": "exact"})
        elif isinstance(clause, Text):
            matched.append(
                {"field": "text", "query": " ".join(clause.words), "how": "phrase" if clause.phrase else "words"}
            )
        elif isinstance(clause, Address):
            matched.append({"field": "address", "query": " ".join(clause.words), "how": "phrase"})
        elif isinstance(clause, Facet):
            matched.append({"field": clause.field, "value": clause.value, "how": "filter"})
        elif isinstance(clause, (Box, Radius)):
            points = list(zip(doc.values("lat"), doc.values("lon"), strict=False))
            matched.append({"field": "place", "value": [list(p) for p in points], "how": "within area"})
        elif isinstance(clause, TimeRange):
            matched.append({"field": "when" if clause.field == "occurred" else "received", "how": "in range"})
    return matched
