"""Showing why a hit matched: matched terms marked in the caption, facets as narrowing links."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

#: Facet name -> the query field that narrows to one of its values.
FACET_FIELDS = {
    "agency": "agency",
    "source": "source",
    "entity_type": "type",
    "record_class": "class",
    "caveat": "caveat",
    "year": "when",
}


def highlight(text: str, terms: list[str]) -> Markup:
    """``text`` escaped, with every matched term wrapped in <mark> (case-insensitive)."""
    words = sorted({w for term in terms for w in re.split(r"\s+", term) if len(w) > 1}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out = Markup("")
    last = 0
    for match in pattern.finditer(text):
        out += escape(text[last : match.start()]) + Markup("<mark>") + escape(match.group(0)) + Markup("</mark>")
        last = match.end()
    return out + escape(text[last:])


def matched_terms(matched: list[dict[str, Any]]) -> list[str]:
    terms = []
    for m in matched:
        for key in ("value", "query"):
            value = m.get(key)
            if isinstance(value, str):
                terms.append(value)
    return terms


def narrow(query: str, facet: str, value: Any) -> str:
    text = str(value)
    if facet == "entity_type":
        text = text.lower()
    if " " in text or ":" in text:
        text = f'"{text}"'
    return f"{query} {FACET_FIELDS.get(facet, facet)}:{text}".strip()
