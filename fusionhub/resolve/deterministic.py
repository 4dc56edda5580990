"""Strong identifiers: links that need no model.

Two entities that carry the same strong identifier are the same entity:

* persons: SSN; driver licence with its issuing state; FBI number; state id (SID)
  with its state; passport with its issuer. "other" identifiers (an agency's own
  numbering, FEBRL's corrupted ids) are evidence for the model, never a link alone;
* vehicles: VIN; plate with its state *in the same year* (plates are reissued, so a
  plate identifies a vehicle only at a date);
* phones: the E.164 number; addresses: the USPS normal form of the full address;
  organisations: tax id, else the folded name with its legal-form suffix removed.

Each key is ``scheme|issuer|value``; entities sharing a key are joined.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fusionhub.model.types.address import normal_form
from fusionhub.model.types.base import fold
from fusionhub.resolve.features import first, identifiers

#: Identifier schemes that link persons deterministically, and whether they need an issuer.
STRONG_SCHEMES = {"ssn": False, "driver-licence": True, "fbi": False, "state-id": True, "passport": True}
_LEGAL_FORMS = re.compile(r"\b(INC|INCORPORATED|LLC|L L C|LTD|LIMITED|CORP|CORPORATION|CO|COMPANY|LP|LLP|PLLC)\b\.?")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def _year(record: dict[str, Any]) -> str:
    when = str(record.get("occurred_at") or record.get("received_at") or "")
    return when[:4]


def entity_keys(entity: dict[str, Any], entities: list[dict[str, Any]], record: dict[str, Any]) -> Iterator[str]:
    """The strong-identifier keys of one entity of a record."""
    schema = entity.get("schema")
    props: dict[str, list[Any]] = entity.get("properties") or {}
    if schema == "Person":
        for scheme, issuer, number in identifiers(entity, entities):
            needs_issuer = STRONG_SCHEMES.get(scheme)
            if needs_issuer is None or (needs_issuer and not issuer):
                continue
            yield f"{scheme}|{issuer if needs_issuer else ''}|{number}"
    elif schema == "Vehicle":
        vin = first(props, "vin")
        if vin:
            yield f"vin||{_NOT_ALNUM.sub('', vin.upper())}"
        plate, plate_state, year = first(props, "plate"), first(props, "plateState"), _year(record)
        if plate and plate_state and year:
            yield f"plate|{plate_state.upper()}|{_NOT_ALNUM.sub('', plate.upper())}@{year}"
    elif schema == "Phone":
        phone_number = first(props, "number")
        if phone_number:
            yield f"phone||{phone_number}"
    elif schema in ("Address", "Location"):
        full = first(props, "full")
        if full:
            yield f"address||{normal_form(full)}"
    elif schema == "Organization":
        tax = first(props, "taxId")
        if tax:
            yield f"tax-id||{_NOT_ALNUM.sub('', tax.upper())}"
        else:
            name = first(props, "name")
            if name:
                folded = _LEGAL_FORMS.sub(" ", fold(name).upper())
                key = " ".join(_NOT_ALNUM.sub(" ", folded).split())
                if key:
                    yield f"org-name||{key}"


#: Schemas that are resolved (get a canonical id); relationships and events are not.
RESOLVED_SCHEMAS = ("Person", "Vehicle", "Phone", "Address", "Location", "Organization")
