"""Dates and date-times.

Stored as ISO 8601 text: ``YYYY-MM-DD`` (or the partial ``YYYY`` / ``YYYY-MM`` when a
source only knows that much) and ``YYYY-MM-DDTHH:MM:SS`` for date-times, with ``Z`` or
an offset only when the source says which zone. Each source declares its formats; no
format guessing beyond ISO, because a guessed day/month order silently corrupts data.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fusionhub.model.types.base import InvalidValue, PropertyType

_ISO_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
EARLIEST_YEAR = 1870
#: Dates records systems write when they mean "unknown".
DEFAULT_PLACEHOLDERS = ("1900-01-01", "1899-12-30", "1899-12-31")


_NUMERIC_DIRECTIVES = frozenset("YmdHMS")
_FAST: dict[str, re.Pattern[str] | None] = {}


def _fast_pattern(fmt: str) -> re.Pattern[str] | None:
    """The regular expression ``strptime`` itself builds for ``fmt``, when every directive is numeric."""
    if fmt not in _FAST:
        directives = re.findall(r"%(.)", fmt)
        pattern = None
        if directives and set(directives) <= _NUMERIC_DIRECTIVES and len(set(directives)) == len(directives):
            import _strptime

            pattern = _strptime._TimeRE_cache.compile(fmt)
        _FAST[fmt] = pattern
    return _FAST[fmt]


def strptime(text: str, fmt: str) -> datetime:
    """``datetime.strptime``, several times faster for formats of numeric fields only.

    It matches the very pattern ``strptime`` compiles for the format, so it accepts and
    refuses the same texts; only the bookkeeping around the match is skipped.
    """
    pattern = _fast_pattern(fmt)
    if pattern is None:
        return datetime.strptime(text, fmt)
    found = pattern.match(text)
    if found is None or found.end() != len(text):
        return datetime.strptime(text, fmt)  # raises the usual ValueError
    parts = found.groupdict()
    return datetime(
        int(parts["Y"]) if "Y" in parts else 1900,
        int(parts["m"]) if "m" in parts else 1,
        int(parts["d"]) if "d" in parts else 1,
        int(parts.get("H") or 0),
        int(parts.get("M") or 0),
        int(parts.get("S") or 0),
    )


def _formats(hints: dict[str, Any]) -> list[str]:
    fmt = hints.get("format") or hints.get("formats") or []
    return [fmt] if isinstance(fmt, str) else list(fmt)


def _check_placeholder(value: str, hints: dict[str, Any]) -> None:
    for placeholder in [*DEFAULT_PLACEHOLDERS, *(hints.get("placeholders") or [])]:
        if value.startswith(str(placeholder)):
            raise InvalidValue(f"{value} is a placeholder date, not a real one")


class DateType(PropertyType):
    name = "date"
    label = "Date"
    max_length = 64

    def clean(self, raw: Any, **hints: Any) -> str | None:
        if isinstance(raw, datetime):
            raw = raw.date()
        if isinstance(raw, date):
            value = raw.isoformat()
            _check_placeholder(value, hints)
            return value
        text = super().clean(raw)
        if text is None:
            return None
        for fmt in _formats(hints):
            try:
                value = strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
            return self._checked(value, hints)
        match = _ISO_PARTIAL.match(text[:10]) if len(text) >= 4 else None
        if match and (len(text) == 10 or len(text) in (4, 7) or text[10] in "T "):
            year, month, day = match.groups()
            try:
                if day:
                    value = date(int(year), int(month), int(day)).isoformat()
                elif month:
                    value = date(int(year), int(month), 1).isoformat()[:7]
                else:
                    value = year
            except ValueError as exc:
                raise InvalidValue(f"{text!r} is not a calendar date") from exc
            return self._checked(value, hints)
        wanted = " or ".join(_formats(hints)) or "YYYY-MM-DD"
        raise InvalidValue(f"{text!r} does not match the date format {wanted}")

    def _checked(self, value: str, hints: dict[str, Any]) -> str:
        _check_placeholder(value, hints)
        if int(value[:4]) < EARLIEST_YEAR:
            raise InvalidValue(f"{value} is before {EARLIEST_YEAR}: a placeholder, not a real date")
        if value[:10] > date.today().replace(year=date.today().year + 1).isoformat():
            raise InvalidValue(f"{value} is in the future")
        return value

    def match_keys(self, value: str) -> list[str]:
        keys = [value]
        if len(value) == 10:
            year, month, day = value.split("-")
            if month != day and int(day) <= 12:
                keys.append(f"{year}-{day}-{month}")  # day/month swap
        return keys


class DateTimeType(DateType):
    name = "datetime"
    label = "Date and time"

    def clean(self, raw: Any, **hints: Any) -> str | None:
        zone = hints.get("timezone")
        if isinstance(raw, datetime):
            moment = raw
        else:
            text = PropertyType.clean(self, raw)
            if text is None:
                return None
            parsed: datetime | None = None
            for fmt in _formats(hints):
                try:
                    parsed = strptime(text, fmt)
                    break
                except ValueError:
                    continue
            if parsed is None and _ISO_PARTIAL.match(text):
                # A bare date is an acceptable (if coarse) time of an event.
                return DateType.clean(self, text, **hints)
            if parsed is None:
                try:
                    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    # A bare date is an acceptable (if coarse) time of an event.
                    return DateType.clean(self, text, **hints)
            moment = parsed
        if zone and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC if zone == "UTC" else ZoneInfo(zone))
        value = moment.isoformat(timespec="seconds")
        if moment.tzinfo is not None and moment.utcoffset() is not None and not moment.utcoffset():
            value = value.replace("+00:00", "Z")
        return self._checked(value, hints)

    def match_keys(self, value: str) -> list[str]:
        return [value[:10]]
