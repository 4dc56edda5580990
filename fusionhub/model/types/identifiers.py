"""Identifiers (driver licence, SSN, passport, FBI and state ids, VIN, case numbers)
and licence plates."""

from __future__ import annotations

import re
from typing import Any

from fusionhub.model.types.base import InvalidValue, PropertyType, collapse

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
# Characters that plate readers and hurried officers confuse; mapped to one class each.
PLATE_CONFUSIONS = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "B": "8", "S": "5", "Z": "2"})


def compact(value: str) -> str:
    return _NOT_ALNUM.sub("", value.upper())


class IdentifierType(PropertyType):
    name = "identifier"
    label = "Identifier"
    max_length = 128
    identifying = True

    def clean(self, raw: Any, **hints: Any) -> str | None:
        text = super().clean(raw)
        if text is None:
            return None
        text = text.upper()
        scheme = hints.get("scheme")
        if scheme == "ssn":
            digits = compact(text)
            if not (len(digits) == 9 and digits.isdigit()):
                raise InvalidValue(f"{text!r} is not a nine-digit SSN")
            if digits[:3] in ("000", "666") or digits[0] == "9" or digits[3:5] == "00" or digits[5:] == "0000":
                raise InvalidValue(f"{text!r} is not an SSN the SSA issues")
            return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
        if scheme == "vin":
            vin = compact(text)
            if not _VIN.match(vin):
                raise InvalidValue(f"{text!r} is not a 17-character VIN")
            return vin
        if not compact(text):
            raise InvalidValue(f"{text!r} has no letters or digits")
        return text

    def match_keys(self, value: str) -> list[str]:
        return [compact(value)]


class PlateType(PropertyType):
    name = "plate"
    label = "Licence plate"
    max_length = 16
    identifying = True

    def clean(self, raw: Any, **hints: Any) -> str | None:
        if raw is None:
            return None
        plate = compact(collapse(str(raw)))
        if not plate:
            return None
        if len(plate) > 10:
            raise InvalidValue(f"{raw!r} is too long for a licence plate")
        return plate

    def match_keys(self, value: str) -> list[str]:
        plate = compact(value)
        return [plate, plate.translate(PLATE_CONFUSIONS)]
