"""Street addresses. Stored as written (collapsed, upper-case); compared in a normal form
with the USPS street-suffix and directional abbreviations (Publication 28)."""

from __future__ import annotations

import html
import re
from typing import Any

from fusionhub.model.types.base import PropertyType, fold

ABBREVIATIONS = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "BOULEVARD": "BLVD",
    "ROAD": "RD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "TERRACE": "TER",
    "PARKWAY": "PKWY",
    "HIGHWAY": "HWY",
    "CIRCLE": "CIR",
    "SQUARE": "SQ",
    "TRAIL": "TRL",
    "EXPRESSWAY": "EXPY",
    "FREEWAY": "FWY",
    "ALLEY": "ALY",
    "WAY": "WAY",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "APARTMENT": "APT",
    "SUITE": "STE",
    "BUILDING": "BLDG",
    "FLOOR": "FL",
    "UNIT": "UNIT",
}
_PUNCT = re.compile(r"[^\w\s&/-]")


def normal_form(value: str) -> str:
    text = _PUNCT.sub(" ", fold(html.unescape(value)).upper())
    return " ".join(ABBREVIATIONS.get(token, token) for token in text.split())


class AddressType(PropertyType):
    name = "address"
    label = "Address"
    max_length = 500

    def clean(self, raw: Any, **hints: Any) -> str | None:
        text = super().clean(html.unescape(str(raw)) if raw is not None else None)
        return text.upper() if text else None

    def match_keys(self, value: str) -> list[str]:
        return [normal_form(value)]
