"""Dates and date-times.

Stored as ISO 8601 text: ``YYYY-MM-DD`` (or the partial ``YYYY`` / ``YYYY-MM`` when a
source only knows that much) and ``YYYY-MM-DDTHH:MM:SS`` for date-times, with ``Z`` or
an offset only when the source says which zone. Each source declares its formats; no
format guessing beyond ISO, because a guessed day/month order silently corrupts data.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from fusionhub.model.types.base import InvalidValue, PropertyType

_ISO_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
EARLIEST_YEAR = 1870
#: Dates records systems write when they mean "unknown".
DEFAULT_PLACEHOLDERS = ("1900-01-01", "1899-12-30", "1899-12-31")


_NUMERIC_DIRECTIVES = frozenset("YmdHMS")
#: Per format: the pattern ``strptime`` compiles for it and, in the order Y m d H M S,
#: the directives it holds (None: not numeric only, ``datetime.strptime`` parses it).
_FAST: dict[str, tuple[re.Pattern[str], tuple[str, ...]] | None] = {}


def _fast_pattern(fmt: str) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    """The regular expression ``strptime`` itself builds for ``fmt``, when every directive is numeric."""
    if fmt not in _FAST:
        directives = re.findall(r"%(.)", fmt)
        found = None
        if directives and set(directives) <= _NUMERIC_DIRECTIVES and len(set(directives)) == len(directives):
            import _strptime

            found = (_strptime._TimeRE_cache.compile(fmt), tuple(d for d in "YmdHMS" if d in directives))
        _FAST[fmt] = found
    return _FAST[fmt]


def _fields(text: str, fmt: str) -> tuple[int, int, int, int, int, int]:
    """Year, month, day, hour, minute, second of ``text`` read with ``fmt`` (ValueError if not)."""
    fast = _fast_pattern(fmt)
    pattern, names = fast if fast is not None else (None, ())
    found = pattern.match(text) if pattern is not None else None
    if found is None or found.end() != len(text):
        # Other directives, or a text the pattern refuses: strptime parses it or raises
        # the usual ValueError.
        moment = datetime.strptime(text, fmt)
        return moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second
    if names == ("Y", "m", "d"):  # the common date formats: no dictionary needed
        return int(found["Y"]), int(found["m"]), int(found["d"]), 0, 0, 0
    parts = found.groupdict()
    return (
        int(parts["Y"]) if "Y" in parts else 1900,
        int(parts["m"]) if "m" in parts else 1,
        int(parts["d"]) if "d" in parts else 1,
        int(parts.get("H") or 0),
        int(parts.get("M") or 0),
        int(parts.get("S") or 0),
    )


def strptime(text: str, fmt: str) -> datetime:
    """``datetime.strptime``, several times faster for formats of numeric fields only.

    It matches the very pattern ``strptime`` compiles for the format, so it accepts and
    refuses the same texts; only the bookkeeping around the match is skipped.
    """
    return datetime(*_fields(text, fmt))


_LATEST: list[Any] = [0.0, ""]  # when to work it out again (monotonic seconds), the latest date


def latest_date() -> str:
    """A year from today, ISO: a later date is taken for a typing error. Worked out once a minute."""
    now = time.monotonic()
    if now >= _LATEST[0]:
        today = date.today()
        try:
            latest = today.replace(year=today.year + 1)
        except ValueError:  # 29 February: a year on is 28 February
            latest = today.replace(year=today.year + 1, day=28)
        _LATEST[:] = [now + 60.0, latest.isoformat()]
    text: str = _LATEST[1]
    return text


_ZONES: dict[str, tzinfo] = {"UTC": UTC}


def _zone(name: str) -> tzinfo:
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


def _formats(hints: dict[str, Any]) -> list[str]:
    fmt = hints.get("format") or hints.get("formats") or []
    return [fmt] if isinstance(fmt, str) else list(fmt)


def _check_placeholder(value: str, hints: dict[str, Any]) -> None:
    extra = hints.get("placeholders")
    if value.startswith(DEFAULT_PLACEHOLDERS) or (extra and value.startswith(tuple(str(p) for p in extra))):
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
                fields = _fields(text, fmt)
                value = date(fields[0], fields[1], fields[2]).isoformat()
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
        if value[:10] > latest_date():
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
            moment = moment.replace(tzinfo=_zone(zone))
        value = moment.isoformat(timespec="seconds")
        if moment.tzinfo is not None and value.endswith("+00:00"):
            value = value[:-6] + "Z"
        return self._checked(value, hints)

    def match_keys(self, value: str) -> list[str]:
        return [value[:10]]
