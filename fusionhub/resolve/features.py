"""Person rows for the matcher: record payloads -> normalised, comparable columns.

Every column is text (or NULL) so the same rows load unchanged into DuckDB and Spark.
Work that SQL engines do badly is done here, once per distinct value and memoised:
folding to ASCII, the nickname groups of a given name (``../shared/data/names/
nicknames.csv``), phonetic codes (Metaphone), the day/month-swapped birth date, house
number and street split, and the digits of identifiers and phones.

Corrupted birth dates the ingest dropped (kept in the payload's ``dropped`` list) still
give ``dob_digits``: a typo in a date says more than no date at all.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jellyfish

from fusionhub.model.types import parse_name
from fusionhub.model.types.address import normal_form
from fusionhub.model.types.base import fold
from fusionhub.store.resolve_tables import FEATURE_COLUMNS

#: Columns of a person row, in order. ``unique_id`` is ``<record id>:<entity id>``.
COLUMNS = ("unique_id", *FEATURE_COLUMNS)
#: Person properties that hold strong identifiers, and the scheme each one is.
IDENTIFIER_PROPERTIES = {
    "ssn": "ssn",
    "driverLicence": "driver-licence",
    "stateId": "state-id",
    "fbiNumber": "fbi",
    "passportNumber": "passport",
}
_LETTERS = re.compile(r"[^a-z ]+")
_DIGITS = re.compile(r"\D+")
_HOUSE = re.compile(r"^\s*(\d+[A-Z]?)\b\s*(.*)$")


def names_dir() -> Path:
    """The shared name tables: $FUSIONHUB_NAMES_DIR, else ``../shared/data/names`` beside the checkout."""
    configured = os.environ.get("FUSIONHUB_NAMES_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "names"


@lru_cache(maxsize=1)
def nickname_groups() -> dict[str, frozenset[str]]:
    """Name -> the canonical names it is (or is a nickname of). Empty when the table is absent."""
    path = names_dir() / "nicknames.csv"
    groups: dict[str, set[str]] = {}
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            canonical = (row.get("name1") or "").strip().lower()
            nickname = (row.get("name2") or "").strip().lower()
            if not canonical or not nickname:
                continue
            groups.setdefault(canonical, set()).add(canonical)
            groups.setdefault(nickname, set()).add(canonical)
    return {name: frozenset(found) for name, found in groups.items()}


def value(entry: Any) -> str:
    """The clean value of a stored property entry (``value`` or ``[clean, original]``)."""
    return str(entry[0] if isinstance(entry, list) else entry)


def original(entry: Any) -> str:
    return str(entry[1] if isinstance(entry, list) else entry)


def first(props: dict[str, list[Any]], name: str) -> str | None:
    values = props.get(name)
    return value(values[0]) if values else None


@lru_cache(maxsize=200_000)
def name_key(text: str) -> str:
    """Lower-case ASCII letters and single spaces (hyphens and apostrophes split or vanish)."""
    folded = fold(text).lower().replace("-", " ").replace("'", "")
    return " ".join(_LETTERS.sub(" ", folded).split())


@lru_cache(maxsize=200_000)
def metaphone(text: str) -> str | None:
    compact = text.replace(" ", "")
    return jellyfish.metaphone(compact) or None if compact else None


@lru_cache(maxsize=200_000)
def nick(text: str) -> str | None:
    groups = nickname_groups().get(text.replace(" ", ""))
    return "|".join(sorted(groups)) if groups else None


def swapped(dob: str | None) -> str | None:
    if not dob or len(dob) != 10:
        return None
    year, month, day = dob[:4], dob[5:7], dob[8:10]
    if month == day or int(day) > 12:
        return None
    return f"{year}-{day}-{month}"


@dataclass
class PersonRow:
    values: dict[str, str | None]

    def as_tuple(self) -> tuple[str | None, ...]:
        return tuple(self.values.get(c) for c in COLUMNS)


def _by_id(entities: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(e.get("id")): e for e in entities}


def _linked(entities: list[dict[str, Any]], schema: str, own_prop: str, person_id: str, other_prop: str) -> list[str]:
    """Ids of entities a relationship of ``schema`` ties to this person."""
    found: list[str] = []
    for entity in entities:
        if entity.get("schema") != schema:
            continue
        props = entity.get("properties") or {}
        if person_id in [value(v) for v in props.get(own_prop, [])]:
            found.extend(value(v) for v in props.get(other_prop, []))
    return found


def identifiers(entity: dict[str, Any], entities: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(scheme, issuer, compact number) of the strong identifiers a person holds in one record."""
    props = entity.get("properties") or {}
    found: list[tuple[str, str, str]] = []
    issuer_default = (first(props, "licenceState") or "").upper()
    for prop, scheme in IDENTIFIER_PROPERTIES.items():
        for entry in props.get(prop, []):
            found.append((scheme, issuer_default if scheme == "driver-licence" else "", _compact(value(entry))))
    by_id = _by_id(entities)
    for ident_id in _linked(entities, "Identification", "holder", str(entity.get("id")), "identifier"):
        ident = by_id.get(ident_id)
        if not ident:
            continue
        iprops = ident.get("properties") or {}
        number = first(iprops, "number")
        if number:
            found.append(
                (
                    (first(iprops, "scheme") or "other").lower(),
                    (first(iprops, "issuer") or "").upper(),
                    _compact(number),
                )
            )
    return [f for f in found if f[2]]


def _compact(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def person_rows(record_id: str | int, payload: dict[str, Any]) -> Iterator[PersonRow]:
    """One row per Person entity of a record payload."""
    entities: list[dict[str, Any]] = list(payload.get("entities") or [])
    by_id = _by_id(entities)
    dropped_dobs = [d.get("value", "") for d in payload.get("dropped") or [] if d.get("property") == "birthDate"]
    for entity in entities:
        if entity.get("schema") != "Person":
            continue
        props: dict[str, list[Any]] = entity.get("properties") or {}
        eid = str(entity.get("id"))
        given_raw = first(props, "firstName")
        surname_raw = first(props, "lastName")
        if not given_raw and not surname_raw and first(props, "name"):
            parts = parse_name(first(props, "name") or "")
            given_raw, surname_raw = parts.first, parts.last
        given = name_key(given_raw) if given_raw else None
        surname = name_key(surname_raw) if surname_raw else None
        middle_raw = first(props, "middleName")
        dob = first(props, "birthDate")
        if dob and len(dob) != 10:
            dob = None
        dob_digits = dob.replace("-", "") if dob else None
        if not dob_digits and dropped_dobs:
            dob_digits = _DIGITS.sub("", dropped_dobs[0]) or None
        ids = identifiers(entity, entities)
        # The model's identifier column: an SSN first, else any other single identifier.
        ident = next((n for s, _, n in ids if s == "ssn"), None) or next(
            (n for s, _, n in ids if s not in ("driver-licence", "plate", "vin")), None
        )
        street_number = street = city = postcode = state = locality = None
        places = [by_id[p] for p in _linked(entities, "Residence", "resident", eid, "place") if p in by_id]
        address = None
        if places:
            pprops = places[0].get("properties") or {}
            address = first(pprops, "street") or first(pprops, "full")
            city = first(pprops, "city")
            locality = first(pprops, "neighborhood")
            postcode = first(pprops, "postalCode")
            state = first(pprops, "state")
        elif props.get("address"):
            address = first(props, "address")
        if address:
            street_number, street = _street(address)
        phone = first(props, "phone")
        if not phone:
            for pid in _linked(entities, "PhoneUse", "party", eid, "phone"):
                if pid in by_id:
                    phone = first(by_id[pid].get("properties") or {}, "number")
                    break
        phone_digits = _DIGITS.sub("", phone)[-10:] if phone else None
        row: dict[str, str | None] = {
            "unique_id": f"{record_id}:{eid}",
            "given": given.replace(" ", "") if given else None,
            "given_mp": metaphone(given) if given else None,
            "given_nick": nick(given) if given else None,
            "middle": name_key(middle_raw).replace(" ", "") or None if middle_raw else None,
            "surname": surname.replace(" ", "") if surname else None,
            "surname_mp": metaphone(surname) if surname else None,
            "surname_tokens": surname.replace(" ", "|") if surname else None,
            "dob": dob,
            "dob_swap": swapped(dob),
            "dob_digits": dob_digits,
            "sex": (first(props, "sex") or "").upper()[:1] or None,
            "ident": ident,
            "street_number": street_number,
            "street": street,
            "locality": name_key(locality) or None if locality else None,
            "city": name_key(city) or None if city else None,
            "postcode": _DIGITS.sub("", postcode) or postcode.strip().upper() or None if postcode else None,
            "state": state.upper() if state else None,
            "phone": phone_digits or None,
        }
        yield PersonRow({k: (v if v else None) for k, v in row.items()})


@lru_cache(maxsize=200_000)
def _street(address: str) -> tuple[str | None, str | None]:
    line = address.split(",")[0]
    match = _HOUSE.match(line.upper())
    if match:
        number, rest = match.group(1), match.group(2)
    else:
        number, rest = None, line
    street = normal_form(rest).lower() if rest.strip() else None
    return number, street or None


def rows_to_tsv(rows: Iterable[PersonRow], path: Path) -> int:
    """Write person rows as a tab-separated file with a header; returns the count.

    Tabs and newlines cannot occur in the normalised values (they are folded away),
    so no quoting is needed and both DuckDB and Spark read the file the same way.
    """
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\t".join(COLUMNS) + "\n")
        for row in rows:
            handle.write("\t".join("" if v is None else _clean_cell(v) for v in row.as_tuple()) + "\n")
            count += 1
    return count


def _clean_cell(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
