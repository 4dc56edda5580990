"""Personal names as they are actually recorded.

Sources write names as ``LAST, FIRST M``, ``First Middle Last``, with suffixes
(``JR``, ``III``), initials and hyphenated or two-part surnames. ``parse_name`` splits
them; the ``name`` type stores the collapsed original and gives comparison keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from fusionhub.model.types.base import InvalidValue, PropertyType, collapse, fold

SUFFIXES = {"JR", "SR", "II", "III", "IV", "V", "2ND", "3RD", "ESQ"}
# Particles that belong to the surname that follows them (``de la Cruz``, ``van Dyke``).
PARTICLES = {"DE", "DEL", "DELA", "LA", "LE", "VAN", "VON", "DA", "DI", "DOS", "ST", "MC", "MAC", "BIN", "AL", "EL"}
_NAME_CHARS = re.compile(r"[^\w\s,.'\-]", re.UNICODE)


@dataclass(frozen=True)
class NameParts:
    first: str | None = None
    middle: str | None = None
    last: str | None = None
    suffix: str | None = None

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.first, self.middle, self.last, self.suffix) if p)


def _tidy(token: str) -> str:
    return token.strip(" .,")


def parse_name(raw: str, form: str = "natural") -> NameParts:
    """Split a recorded name. ``form`` is ``natural`` (First Middle Last) or ``last_first``.

    A comma always means ``LAST, FIRST MIDDLE`` whatever the form says, because that is
    how every records system we have seen writes it.
    """
    text = collapse(raw)
    if not text:
        return NameParts()
    suffix = None
    if "," in text:
        last_part, _, rest = text.partition(",")
        rest_tokens = [_tidy(t) for t in rest.replace(",", " ").split() if _tidy(t)]
        if rest_tokens and rest_tokens[-1].upper().rstrip(".") in SUFFIXES:
            suffix = rest_tokens.pop().upper().rstrip(".")
        last_tokens = [_tidy(t) for t in last_part.split() if _tidy(t)]
        if last_tokens and last_tokens[-1].upper() in SUFFIXES:
            suffix = last_tokens.pop().upper()
        first = rest_tokens[0] if rest_tokens else None
        middle = " ".join(rest_tokens[1:]) or None
        return NameParts(first, middle, " ".join(last_tokens) or None, suffix)
    tokens = [_tidy(t) for t in text.split() if _tidy(t)]
    if tokens and tokens[-1].upper().rstrip(".") in SUFFIXES and len(tokens) > 1:
        suffix = tokens.pop().upper().rstrip(".")
    if not tokens:  # only punctuation
        return NameParts(None, None, None, suffix)
    if form == "last_first":
        last, rest_tokens = tokens[0], tokens[1:]
        return NameParts(rest_tokens[0] if rest_tokens else None, " ".join(rest_tokens[1:]) or None, last, suffix)
    if len(tokens) == 1:
        return NameParts(None, None, tokens[0], suffix)
    # Gather surname particles: "Juan de la Cruz" -> last "de la Cruz".
    cut = len(tokens) - 1
    while cut > 1 and tokens[cut - 1].upper() in PARTICLES:
        cut -= 1
    first, middle_tokens, last_tokens = tokens[0], tokens[1:cut], tokens[cut:]
    return NameParts(first, " ".join(middle_tokens) or None, " ".join(last_tokens), suffix)


def name_tokens(value: str) -> list[str]:
    """Folded tokens of a name; hyphenated and two-part surnames give each part too."""
    return list(_name_tokens(value))


@lru_cache(maxsize=1 << 16)
def _name_tokens(value: str) -> tuple[str, ...]:
    # Kept per name (at most 200 characters each): the same names are indexed, asked
    # for and explained over and over.
    folded = fold(value).replace(",", " ").replace(".", " ")
    tokens: list[str] = []
    for token in folded.split():
        token = token.strip("'")
        if not token:
            continue
        tokens.append(token.replace("'", ""))
        if "-" in token:
            tokens.extend(p for p in token.split("-") if p)
    return tuple(tokens)


class NameType(PropertyType):
    name = "name"
    label = "Name"
    max_length = 200

    def clean(self, raw: Any, **hints: Any) -> str | None:
        text = super().clean(raw)
        if text is None:
            return None
        text = _NAME_CHARS.sub("", text).strip(" ,.")
        if not text:
            return None
        if not any(ch.isalpha() for ch in text):
            raise InvalidValue(f"{raw!r} has no letters: not a name")
        # Records systems shout; keep what they sent but give one case to all of it.
        return text.upper() if hints.get("upper", True) else text

    def match_keys(self, value: str) -> list[str]:
        return [" ".join(name_tokens(value))]
