"""Small property types: string, text, code, number, boolean, email, entity reference."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from fusionhub.model.types.base import InvalidValue, PropertyType, collapse


class StringType(PropertyType):
    name = "string"
    label = "Text"


class TextType(PropertyType):
    """Long free text (narratives). Line breaks are kept; the limit is generous."""

    name = "text"
    label = "Free text"
    max_length = 1_000_000

    def clean(self, raw: Any, **hints: Any) -> str | None:
        if raw is None:
            return None
        lines = [collapse(line) for line in str(raw).replace("\r\n", "\n").split("\n")]
        text = "\n".join(lines).strip()
        if not text:
            return None
        if len(text) > self.max_length:
            raise InvalidValue(f"free text longer than {self.max_length} characters")
        return text


class CodeType(PropertyType):
    """A value from a code list (offence codes, state codes, roles). Stored upper-case unless told."""

    name = "code"
    label = "Code"
    max_length = 128

    def clean(self, raw: Any, **hints: Any) -> str | None:
        text = super().clean(raw)
        if text is None:
            return None
        allowed = hints.get("values")
        if hints.get("keep_case"):
            return text
        if allowed:
            for value in allowed:
                if value.casefold() == text.casefold():
                    return str(value)
            raise InvalidValue(f"{text!r} is not one of {', '.join(map(str, allowed))}")
        return text.upper()


class NumberType(PropertyType):
    name = "number"
    label = "Number"
    max_length = 64
    _number = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

    def clean(self, raw: Any, **hints: Any) -> str | None:
        text = super().clean(raw)
        if text is None:
            return None
        text = text.replace(",", "").replace("$", "").strip()
        if not self._number.match(text):
            raise InvalidValue(f"{text!r} is not a number")
        number = float(text)
        return str(int(number)) if number.is_integer() else repr(number)


class BooleanType(PropertyType):
    name = "boolean"
    label = "Yes/no"
    _true: ClassVar[set[str]] = {"true", "t", "yes", "y", "1"}
    _false: ClassVar[set[str]] = {"false", "f", "no", "n", "0"}

    def clean(self, raw: Any, **hints: Any) -> str | None:
        text = super().clean(raw)
        if text is None:
            return None
        folded = text.casefold()
        if folded in self._true:
            return "true"
        if folded in self._false:
            return "false"
        raise InvalidValue(f"{text!r} is not yes or no")


class EmailType(PropertyType):
    name = "email"
    label = "Email"
    max_length = 254
    identifying = True
    _email = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    def clean(self, raw: Any, **hints: Any) -> str | None:
        text = super().clean(raw)
        if text is None:
            return None
        text = text.strip("<>").lower()
        if text.startswith("mailto:"):
            text = text[7:]
        if not self._email.match(text):
            raise InvalidValue(f"{text!r} is not an email address")
        return text


class EntityType(PropertyType):
    """A reference to another entity by its id: of the same record (by its key in the mapping),
    or of another record of the same source (``{record: ..., entity: ...}`` in a profile)."""

    name = "entity"
    label = "Entity"
    max_length = 256
