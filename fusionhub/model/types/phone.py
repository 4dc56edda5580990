"""Phone numbers, stored in E.164 (``+13145551234``) through the phonenumbers library."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

from fusionhub.model.types.base import InvalidValue, PropertyType

DEFAULT_REGION = "US"
# A North American number written with nothing but digits and the usual punctuation:
# "(314) 555-0101", "314.555.0101", "+1 314 555 0101", "13145550101". phonenumbers gives
# every such number the E.164 form "+1" + its ten digits; the area code and exchange of a
# ten-digit NANP number never start with 0 or 1.
_NANP = re.compile(r"^(?:\+?1[\s.\-]*)?\(?([2-9]\d{2})\)?[\s.\-]*([2-9]\d{2})[\s.\-]*(\d{4})$")


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
        if region == "US":
            nanp = _NANP.match(text)
            if nanp:
                return "+1" + "".join(nanp.groups())
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
