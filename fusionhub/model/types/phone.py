"""Phone numbers, stored in E.164 (``+13145551234``) through the phonenumbers library."""

from __future__ import annotations

from typing import Any

import phonenumbers

from fusionhub.model.types.base import InvalidValue, PropertyType

DEFAULT_REGION = "US"


class PhoneType(PropertyType):
    name = "phone"
    label = "Phone"
    max_length = 64
    identifying = True

    def clean(self, raw: Any, **hints: Any) -> str | None:
        text = super().clean(raw)
        if text is None:
            return None
        region = str(hints.get("region") or DEFAULT_REGION).upper()
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) < 7:
            raise InvalidValue(f"{text!r} has too few digits for a phone number")
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidValue(f"{text!r} is not a phone number: {exc}") from exc
        if not phonenumbers.is_possible_number(number):
            raise InvalidValue(f"{text!r} is not a possible phone number in {region}")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def match_keys(self, value: str) -> list[str]:
        digits = "".join(ch for ch in value if ch.isdigit())
        # The national significant number matches whatever country code a source wrote.
        keys = [digits]
        if value.startswith("+1") and len(digits) == 11:
            keys.append(digits[1:])
        return keys

    def display(self, value: str) -> str:
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return value
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
