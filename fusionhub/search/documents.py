"""A stored record -> search documents: one per entity of interest.

A record holds entities (a Person, a Vehicle, an Incident and the Address it happened
at). Each entity other than a place becomes one document; the record's places (their
addresses and coordinates) are folded into every document of the record, because an
analyst searching "Smith near 4th Street" means the person of a record at that place.
A record with nothing but places gets one document per place.

Every document carries the record's provenance and the facts the policy decides on
(agency, record class, TLP, handling caveats, the source's sharing terms, status), so
the policy filter runs inside the index query and counts never include what a user may
not see. This module is engine-neutral: a document is a dict of field -> values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fusionhub.model import load_model
from fusionhub.model.types import TYPES
from fusionhub.model.types.address import normal_form
from fusionhub.model.types.base import fold
from fusionhub.model.types.geo import parse_point
from fusionhub.model.types.identifiers import PLATE_CONFUSIONS, compact
from fusionhub.model.types.name import name_tokens, parse_name
from fusionhub.search.names import phonetic_keys

PLACE_SCHEMATA = ("Location",)
#: Sharing-term flags the policy reads; a document lists the ones the source sets.
TERM_FLAGS = ("agency_only", "law_enforcement_only", "no_private_sector", "originator_approval")
EPOCH = date(1970, 1, 1)


@dataclass
class RecordRow:
    """The columns of a stored record the indexer needs (with its source and agency)."""

    id: int
    seq: int
    status: str
    agency_id: int
    agency: str
    source_id: int
    source: str
    system: str
    record_class: str
    tlp: str
    handling: str
    received_at: datetime
    occurred_at: str | None
    sharing_terms: dict[str, Any]
    payload: dict[str, Any]


@dataclass
class SearchDocument:
    record_id: int
    entity_index: int
    entity_type: str
    fields: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, name: str, *values: Any) -> None:
        target = self.fields.setdefault(name, [])
        for value in values:
            if value is None or value == "":
                continue
            if value not in target:
                target.append(value)

    def values(self, name: str) -> list[Any]:
        return self.fields.get(name, [])


def clean_value(entry: Any) -> str:
    """A stored value is ``"clean"`` or ``["clean", "original"]``."""
    return str(entry[0]) if isinstance(entry, list) else str(entry)


def all_texts(entry: Any) -> list[str]:
    return [str(v) for v in entry] if isinstance(entry, list) else [str(entry)]


def epoch_seconds(value: str | datetime | None) -> int | None:
    """Seconds since 1970 of an ISO date or date-time; a zone-less time is taken as UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text) if len(text) > 7 else datetime(int(text[:4]), int(text[5:7] or 1), 1)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def day_number(value: str) -> int | None:
    try:
        return (date.fromisoformat(value) - EPOCH).days
    except ValueError:
        return None


def record_documents(row: RecordRow) -> list[SearchDocument]:
    """The documents of one record; none for a purged record (its content is gone)."""
    if row.status == "purged":
        return []
    model = load_model()
    entities = row.payload.get("entities", []) or []
    places: list[dict[str, Any]] = []
    others: list[tuple[int, dict[str, Any]]] = []
    for index, entity in enumerate(entities):
        schema = model.schemata.get(str(entity.get("schema")))
        if schema is not None and schema.is_a("Location"):
            places.append(entity)
        else:
            others.append((index, entity))
    if not others:
        others, places = list(enumerate(entities)), []
    documents = []
    for index, entity in others:
        doc = SearchDocument(row.id, index, str(entity.get("schema", "Thing")))
        _provenance(doc, row)
        add_entity(doc, entity)
        for place in places:
            add_entity(doc, place, as_place=True)
        documents.append(doc)
    return documents


def _provenance(doc: SearchDocument, row: RecordRow) -> None:
    handling = [h for h in row.handling.split(",") if h]
    terms = [flag for flag in TERM_FLAGS if (row.sharing_terms or {}).get(flag) is True]
    doc.add("kind", "entity")
    doc.add("record_id", row.id)
    doc.add("entity_index", doc.entity_index)
    doc.add("entity_type", doc.entity_type)
    doc.add("seq", row.seq)
    doc.add("agency_id", row.agency_id)
    doc.add("agency", row.agency)
    doc.add("source", row.source)
    doc.add("record_class", row.record_class)
    doc.add("tlp", row.tlp)
    doc.add("handling", *handling)
    doc.add("terms", *terms)
    doc.add("status", row.status)
    doc.add("caveat", *caveat_values(row.tlp, handling))
    occurred = epoch_seconds(row.occurred_at)
    received = epoch_seconds(row.received_at)
    doc.add("occurred", occurred)
    doc.add("received", received)
    year = facet_year(row.occurred_at, row.received_at)
    doc.add("year", year)
    # Every single-valued facet of the document in one value, so one counting pass over
    # the hits gives all of them (see TantivyEngine.facets).
    doc.add("facet_key", facet_key(row.agency, row.source, doc.entity_type, year, row.record_class, row.tlp))


def facet_year(occurred_at: str | None, received_at: datetime) -> int:
    """The year a record is counted under: its event's, else the year it was received."""
    when = occurred_at[:4] if occurred_at and occurred_at[:4].isdigit() else None
    return int(when) if when else received_at.year


def caveat_values(tlp: str, handling: list[str]) -> list[str]:
    """The caveat facet's values of a record: its TLP and each handling mark."""
    return [f"TLP:{tlp}", *handling]


#: Separates the parts of a facet key (a control character: no code or name holds it).
FACET_SEP = "\x1f"
#: The facets a facet key holds, in order.
KEY_FACETS = ("agency", "source", "entity_type", "year", "record_class", "tlp")


def facet_key(agency: str, source: str, entity_type: str, year: int, record_class: str, tlp: str) -> str:
    return FACET_SEP.join((agency, source, entity_type, str(year), record_class, tlp))


def add_entity(doc: SearchDocument, entity: dict[str, Any], as_place: bool = False, lookup_only: bool = False) -> None:
    """Add an entity's values to ``doc`` under the fields each property type searches by.

    ``lookup_only`` keeps just the values a match explanation compares (names, dates of
    birth, plates, identifiers, phones, e-mail, coordinates): a page of hits is
    explained without building the full-text, address and grid-cell terms again.
    """
    # An entity of a schema or property since removed is still indexed, as text.
    schema = load_model().schemata.get(str(entity.get("schema")))
    for prop, entries in (entity.get("properties") or {}).items():
        known = schema.properties.get(prop) if schema is not None else None
        prop_type = known.type.name if known is not None else "string"
        for entry in entries or []:
            _add_value(doc, prop, prop_type, entry, as_place, lookup_only)


def _add_value(doc: SearchDocument, prop: str, prop_type: str, entry: Any, as_place: bool, lookup_only: bool) -> None:
    value = clean_value(entry)
    if lookup_only and prop_type in ("string", "text", "code", "number", "boolean", "address", "entity"):
        return
    if prop_type not in ("entity", "geopoint") and not lookup_only:
        doc.add("all", *all_texts(entry))
    if prop_type == "name" and not as_place:
        _add_name(doc, prop, value, lookup_only)
    elif prop_type == "date" and prop == "birthDate":
        keys = TYPES["date"].match_keys(value)
        doc.add("dob", value)
        doc.add("dob_key", *keys)
        doc.add("dob_year", int(value[:4]) if value[:4].isdigit() else None)
        if len(value) == 10:
            doc.add("dob_day", day_number(value))
    elif prop_type == "plate":
        plate = compact(value)
        key = plate.translate(PLATE_CONFUSIONS)
        doc.add("plate", plate)
        doc.add("plate_key", key)
        if lookup_only:
            return
        # Every leading part too, so a partial plate (``7AB*``) is one term lookup.
        doc.add("plate_prefix", *(plate[:n] for n in range(1, len(plate) + 1)))
        doc.add("plate_key_prefix", *(key[:n] for n in range(1, len(key) + 1)))
    elif prop_type == "identifier":
        ident = compact(value)
        doc.add("ident", ident)
        if prop == "vin" or len(ident) == 17:
            doc.add("vin", ident)
    elif prop_type == "phone":
        doc.add("phone", *phone_keys(value))
    elif prop_type == "email":
        doc.add("email", fold(value).strip())
    elif prop_type == "address":
        doc.add("address", normal_form(value))
    elif prop_type == "geopoint":
        try:
            lat, lon = parse_point(value)
        except ValueError:
            return
        doc.add("lat", lat)
        doc.add("lon", lon)
        if not lookup_only:
            doc.add("geo_cell", *geo_cells(lat, lon))


#: Grid cell sizes in degrees (~100 m to ~100 km): a place query looks up the cells it
#: covers (a few hundred terms at most) instead of scanning every coordinate.
CELL_SIZES = tuple(0.001 * 2**level for level in range(11))


def cell(level: int, lat: float, lon: float) -> str:
    size = CELL_SIZES[level]
    return f"{level}:{math.floor(lat / size)}:{math.floor(lon / size)}"


def geo_cells(lat: float, lon: float) -> list[str]:
    return [cell(level, lat, lon) for level in range(len(CELL_SIZES))]


def phone_keys(value: str) -> list[str]:
    """Digits of a phone number, and its national number for North American numbers."""
    digits = "".join(ch for ch in value if ch.isdigit())
    keys = [digits]
    if len(digits) == 11 and digits.startswith("1"):
        keys.append(digits[1:])
    return keys


def _add_name(doc: SearchDocument, prop: str, value: str, lookup_only: bool = False) -> None:
    tokens = name_tokens(value)
    doc.add("n_all", *tokens)
    if not lookup_only:
        for token in tokens:
            doc.add("p_all", *phonetic_keys(token))
    if prop == "firstName":
        _name_part(doc, "first", tokens, lookup_only)
    elif prop == "lastName":
        _name_part(doc, "last", tokens, lookup_only)
    elif prop == "middleName":
        _name_part(doc, "middle", tokens, lookup_only)
    elif prop in ("name", "alias"):
        parts = parse_name(value)
        _name_part(doc, "first", name_tokens(parts.first or ""), lookup_only)
        _name_part(doc, "middle", name_tokens(parts.middle or ""), lookup_only)
        _name_part(doc, "last", name_tokens(parts.last or ""), lookup_only)


def _name_part(doc: SearchDocument, part: str, tokens: Iterable[str], lookup_only: bool = False) -> None:
    # An explanation compares tokens and works out their phonetic codes itself (explain.token_match).
    for token in tokens:
        doc.add(f"n_{part}", token)
        if not lookup_only:
            doc.add(f"p_{part}", *phonetic_keys(token))
        if part == "middle":
            doc.add("n_minit", token[:1])
