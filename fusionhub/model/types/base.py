"""The contract every property type fulfils.

A property type owns, in one place, how a raw source value becomes a stored value
(``clean``), whether it is acceptable (``clean`` raises :class:`InvalidValue` when not),
and the keys under which the value is compared and searched (``match_keys``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, ClassVar

_SPACES = re.compile(r"\s+")
# Characters a spreadsheet treats as the start of a formula. Values are stored as text
# and never evaluated; exports neutralise them (see ``inert``).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class InvalidValue(ValueError):
    """A raw value that the property type cannot accept, with the reason."""


def collapse(text: str) -> str:
    """Trim, drop control characters and collapse runs of whitespace."""
    if text.isprintable():
        # Fast path for the common cell: no control or format characters, and the only
        # whitespace is the ASCII space (isprintable() is false for every other kind).
        return text.strip() if "  " not in text else " ".join(text.split())
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower-case ASCII folding used for comparison keys (not for display)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def inert(value: str) -> str:
    """Make a cell safe to open in a spreadsheet (formula injection)."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class PropertyType:
    """Base class: one instance per type, registered by ``name``."""

    name: ClassVar[str] = "string"
    label: ClassVar[str] = "Text"
    max_length: ClassVar[int] = 1024
    #: Whether values of this type identify a thing strongly enough to link on.
    identifying: ClassVar[bool] = False

    def clean(self, raw: Any, **hints: Any) -> str | None:
        """Return the stored form of ``raw``, ``None`` for an empty value.

        Raises :class:`InvalidValue` for a value that is present but not acceptable.
        """
        if raw is None:
            return None
        text = collapse(str(raw))
        if not text:
            return None
        if len(text) > self.max_length:
            raise InvalidValue(f"{self.label} longer than {self.max_length} characters")
        return text

    def match_keys(self, value: str) -> list[str]:
        """Keys under which two values of this type are taken as equal."""
        return [fold(value)]

    def display(self, value: str) -> str:
        return value
