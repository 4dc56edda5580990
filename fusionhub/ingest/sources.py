"""The registry of agencies and their sources (systems that send records)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from fusionhub.model.types import InvalidValue
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.store import Store, utcnow
from fusionhub.store import tables as t

AGENCY_KINDS = ("law-enforcement", "federal", "state", "tribal", "private-sector", "public-health", "fire-ems", "other")
#: Record class a new source of each kind sends unless told otherwise.
DEFAULT_CLASS = {
    "rms": "incident",
    "cad": "call-for-service",
    "lpr": "lpr-read",
    "jail": "arrest",
    "private-sector": "tip",
    "federal-feed": "alert",
    "tip-line": "tip",
    "sar-intake": "sar",
    "registry": "person-record",
    "intelligence": "criminal-intelligence",
}
#: Sharing terms a source of each kind gets unless told otherwise (see policy).
DEFAULT_TERMS: dict[str, dict[str, bool]] = {
    "rms": {"law_enforcement_only": True},
    "cad": {"law_enforcement_only": True},
    "lpr": {"law_enforcement_only": True},
    "jail": {"law_enforcement_only": True},
    "intelligence": {"law_enforcement_only": True, "originator_approval": True},
}
SHARING_TERMS = ("law_enforcement_only", "no_private_sector", "agency_only", "originator_approval")


class RegistryError(Exception):
    """A source or agency that does not exist, or already does."""


@dataclass(frozen=True)
class Agency:
    id: int
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Source:
    id: int
    name: str
    agency: str
    agency_id: int
    system: str
    kind: str
    record_class: str
    default_reliability: str
    default_validity: str
    default_tlp: str
    default_handling: list[str]
    sharing_terms: dict[str, bool]
    profile: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "agency": self.agency,
            "system": self.system,
            "kind": self.kind,
            "record_class": self.record_class,
            "reliability": self.default_reliability,
            "validity": self.default_validity,
            "tlp": self.default_tlp,
            "handling": self.default_handling,
            "sharing_terms": self.sharing_terms,
            "profile": self.profile,
        }


def add_agency(store: Store, code: str, name: str | None = None, kind: str = "law-enforcement") -> Agency:
    if kind not in AGENCY_KINDS:
        raise InvalidValue(f"unknown agency kind {kind!r}; one of {', '.join(AGENCY_KINDS)}")
    code = code.strip()
    if not code:
        raise InvalidValue("an agency needs a code")
    with store.begin() as conn:
        if conn.execute(select(t.agency.c.id).where(t.agency.c.code == code)).first():
            raise RegistryError(f"agency {code} already exists")
        new_id = conn.execute(
            insert(t.agency).values(code=code, name=name or code, kind=kind, created_at=utcnow())
        ).inserted_primary_key
        assert new_id is not None
        return Agency(int(new_id[0]), code, name or code, kind)


def get_agency(conn: Connection, code: str) -> Agency:
    row = conn.execute(select(t.agency).where(t.agency.c.code == code)).first()
    if row is None:
        raise RegistryError(f"no agency {code!r}: add it with `fusionhub agency add {code}`")
    return Agency(row.id, row.code, row.name, row.kind)


def list_agencies(store: Store) -> list[Agency]:
    with store.connect() as conn:
        return [Agency(r.id, r.code, r.name, r.kind) for r in conn.execute(select(t.agency).order_by(t.agency.c.code))]


def add_source(
    store: Store,
    name: str,
    agency: str,
    kind: str,
    system: str | None = None,
    reliability: str | None = None,
    validity: str | None = None,
    caveat: str | None = None,
    record_class: str | None = None,
    sharing_terms: dict[str, bool] | None = None,
    profile: str | None = None,
    create_agency: bool = False,
) -> Source:
    vocab = load_vocabulary()
    kind = vocab.source_kind(kind)
    record_class = vocab.record_class(record_class or DEFAULT_CLASS.get(kind, "incident"))
    tlp, handling = parse_caveat(caveat or "TLP:AMBER LES")
    terms = dict(DEFAULT_TERMS.get(kind, {}))
    for key, value in (sharing_terms or {}).items():
        if key not in SHARING_TERMS:
            raise InvalidValue(f"unknown sharing term {key!r}; one of {', '.join(SHARING_TERMS)}")
        terms[key] = bool(value)
    with store.begin() as conn:
        if conn.execute(select(t.source.c.id).where(t.source.c.name == name)).first():
            raise RegistryError(f"source {name} already exists")
        try:
            owner = get_agency(conn, agency)
        except RegistryError:
            if not create_agency:
                raise
            new = conn.execute(
                insert(t.agency).values(code=agency, name=agency, kind="law-enforcement", created_at=utcnow())
            ).inserted_primary_key
            assert new is not None
            owner = Agency(int(new[0]), agency, agency, "law-enforcement")
        values = {
            "name": name,
            "agency_id": owner.id,
            "system": system or name,
            "kind": kind,
            "record_class": record_class,
            "default_reliability": vocab.reliability_code(reliability or "F"),
            "default_validity": vocab.validity_code(validity or "6"),
            "default_tlp": tlp,
            "default_handling": handling,
            "sharing_terms": terms,
            "profile": profile,
            "created_at": utcnow(),
        }
        new_id = conn.execute(insert(t.source).values(**values)).inserted_primary_key
        assert new_id is not None
        return _source(conn, int(new_id[0]))


def parse_caveat(text: str) -> tuple[str, list[str]]:
    """``"TLP:AMBER LES"`` or ``"AMBER,LES"`` -> (``AMBER``, ``["LES"]``)."""
    vocab = load_vocabulary()
    tokens = text.replace(",", " ").replace("/", " ").split()
    tlp = None
    marks = []
    for token in tokens:
        upper = token.upper()
        if upper.startswith("TLP:") or upper.replace("WHITE", "CLEAR") in vocab.tlp:
            tlp = vocab.tlp_level(upper)
        else:
            marks.append(upper)
    if tlp is None:
        raise InvalidValue(f"caveat {text!r} names no TLP level (TLP:CLEAR, GREEN, AMBER, AMBER+STRICT, RED)")
    return tlp, vocab.handling_markings(marks)


def _source(conn: Connection, source_id: int) -> Source:
    row = conn.execute(
        select(t.source, t.agency.c.code.label("agency_code"))
        .join(t.agency, t.agency.c.id == t.source.c.agency_id)
        .where(t.source.c.id == source_id)
    ).one()
    return Source(
        id=row.id,
        name=row.name,
        agency=row.agency_code,
        agency_id=row.agency_id,
        system=row.system,
        kind=row.kind,
        record_class=row.record_class,
        default_reliability=row.default_reliability,
        default_validity=row.default_validity,
        default_tlp=row.default_tlp,
        default_handling=list(row.default_handling or []),
        sharing_terms=dict(row.sharing_terms or {}),
        profile=row.profile,
    )


def get_source(store: Store, name: str) -> Source:
    with store.connect() as conn:
        row = conn.execute(select(t.source.c.id).where(t.source.c.name == name)).first()
        if row is None:
            raise RegistryError(f"no source {name!r}: add it with `fusionhub source add {name} --agency A --kind K`")
        return _source(conn, row.id)


def list_sources(store: Store) -> list[Source]:
    with store.connect() as conn:
        ids = conn.execute(select(t.source.c.id).order_by(t.source.c.name)).scalars().all()
        return [_source(conn, i) for i in ids]
