"""Correction and redress requests (privacy-guidelines.md elements G and K).

Anyone who may read a record can flag it; the record shows as disputed while a request
is open. The owning agency (its supervisor or privacy officer) decides. An accepted
correction becomes a new version of the record (the old one is kept in its history,
with a new change number so indexes follow), and whatever cited the old value is
flagged: every agency it was disseminated to (28 CFR 23.20(h)) and every citation other
domains register (products, watchlists) through :func:`register_citation_finder`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from fusionhub.model.types import InvalidValue
from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.identity import aware
from fusionhub.policy.reader import AccessDenied, NotFound, readable_record
from fusionhub.store import Store, utcnow
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t

DECIDERS = ("supervisor", "privacy-officer")
#: name -> finder(conn, record_id) returning references (e.g. "product:17") that cite the record.
CitationFinder = Callable[[Connection, int], list[str]]
CITATION_FINDERS: dict[str, CitationFinder] = {}


def register_citation_finder(name: str, finder: CitationFinder) -> None:
    CITATION_FINDERS[name] = finder


@dataclass(frozen=True)
class RedressRequest:
    id: int
    record_id: int
    requested_by: str
    requested_at: str
    entity_id: str | None
    property: str | None
    proposed_value: str | None
    reason: str
    status: str
    decided_by: str | None
    decision_note: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def request_correction(
    store: Store,
    actor: Actor,
    record_id: int,
    reason: str,
    *,
    entity_id: str | None = None,
    prop: str | None = None,
    proposed_value: str | None = None,
    now: datetime | None = None,
) -> int:
    """Flag a record for correction (anyone who may read it); returns the request id."""
    reason = " ".join(reason.split())
    if len(reason) < 5:
        raise InvalidValue("say what is wrong with the record")
    if (prop is None) != (entity_id is None):
        raise InvalidValue("a proposed correction names both the entity and the property")
    now = now or utcnow()
    with store.begin() as conn:
        row = readable_record(conn, actor, record_id)
        if entity_id is not None:
            _find_entity(row.payload, entity_id)
        new = conn.execute(
            insert(pt.redress_request).values(
                record_id=record_id,
                agency_id=row.agency_id,
                requested_by=actor.username,
                requested_at=now,
                entity_id=entity_id,
                property=prop,
                proposed_value=proposed_value,
                reason=reason,
                status="open",
            )
        ).inserted_primary_key
        assert new is not None
        request_id = int(new[0])
        record_event(
            conn,
            actor,
            "redress.request",
            f"record:{record_id}",
            {"request_id": request_id, "entity_id": entity_id, "property": prop},
            now=now,
        )
    return request_id


def _find_entity(payload: dict[str, Any], entity_id: str) -> dict[str, Any]:
    for entity in payload.get("entities", []):
        if entity.get("id") == entity_id:
            return dict(entity)
    raise InvalidValue(f"the record has no entity {entity_id}")


def decide_request(
    store: Store,
    actor: Actor,
    request_id: int,
    accept: bool,
    note: str,
    *,
    now: datetime | None = None,
) -> RedressRequest:
    """The owning agency's decision; an accepted correction is applied as a new version."""
    if not actor.has(*DECIDERS):
        raise AccessDenied("only the owning agency's supervisors and privacy officers decide redress requests")
    note = " ".join(note.split())
    if len(note) < 5:
        raise InvalidValue("a decision explains itself")
    now = now or utcnow()
    q = pt.redress_request.c
    with store.begin() as conn:
        request = conn.execute(select(pt.redress_request).where(q.id == request_id)).first()
        if request is None:
            raise NotFound(f"no redress request {request_id}")
        if request.agency_id != actor.agency_id:
            raise AccessDenied(f"redress request {request_id} is decided by the record's owning agency")
        if request.status != "open":
            raise InvalidValue(f"redress request {request_id} was already {request.status}")
        row = readable_record(conn, actor, request.record_id)
        applied: int | None = None
        if accept and request.entity_id and request.property:
            applied = _apply(conn, store, row, request, now)
            _flag_citations(conn, request.record_id, request_id, now)
        conn.execute(
            update(pt.redress_request)
            .where(q.id == request_id)
            .values(
                status="accepted" if accept else "rejected",
                decided_by=actor.username,
                decided_at=now,
                decision_note=note,
                applied_version=applied,
            )
        )
        record_event(
            conn,
            actor,
            "redress.decide",
            f"record:{request.record_id}",
            {"request_id": request_id, "accepted": accept, "applied_version": applied},
            now=now,
        )
    return get_request(store, request_id)


def _apply(conn: Connection, store: Store, row: Any, request: Any, now: datetime) -> int:
    """Write the corrected value as a new version; the old stays in the record's history."""
    payload = json.loads(json.dumps(row.payload))
    target = None
    for entity in payload.get("entities", []):
        if entity.get("id") == request.entity_id:
            target = entity
    if target is None:
        raise InvalidValue(f"the record has no entity {request.entity_id}")
    props = target.setdefault("properties", {})
    old = props.get(request.property)
    props[request.property] = [request.proposed_value] if request.proposed_value else []
    corrections = payload.setdefault("corrections", [])
    corrections.append(
        {
            "request_id": request.id,
            "entity_id": request.entity_id,
            "property": request.property,
            "old": old,
            "new": request.proposed_value,
            "at": now.isoformat(),
        }
    )
    conn.execute(
        insert(t.record_version).values(
            record_id=row.id,
            version=row.version,
            batch_id=row.batch_id,
            received_at=row.received_at,
            superseded_at=now,
            reliability=row.reliability,
            validity=row.validity,
            tlp=row.tlp,
            handling=row.handling,
            status=row.status,
            content_hash=row.content_hash,
            payload=row.payload,
        )
    )
    seq = store.allocate_seq(conn)
    digest = hashlib.sha1(json.dumps([payload, row.tlp, row.handling], sort_keys=True).encode()).hexdigest()
    conn.execute(
        update(t.record)
        .where(t.record.c.id == row.id)
        .values(payload=payload, version=row.version + 1, seq=seq, content_hash=digest, updated_at=now)
    )
    return int(row.version + 1)


def _flag_citations(conn: Connection, record_id: int, request_id: int, now: datetime) -> None:
    recipients = conn.execute(
        select(pt.dissemination.c.recipient_agency).where(pt.dissemination.c.record_id == record_id).distinct()
    ).scalars()
    targets = [("dissemination", f"agency:{r}") for r in recipients]
    for finder in CITATION_FINDERS.values():
        targets += [("citation", ref) for ref in finder(conn, record_id)]
    for kind, target in targets:
        conn.execute(
            insert(pt.correction_notice).values(
                record_id=record_id, redress_id=request_id, kind=kind, target=target, created_at=now
            )
        )


def get_request(store: Store, request_id: int) -> RedressRequest:
    with store.connect() as conn:
        r = conn.execute(select(pt.redress_request).where(pt.redress_request.c.id == request_id)).one()
    return _request(r)


def _request(r: Any) -> RedressRequest:
    return RedressRequest(
        r.id,
        r.record_id,
        r.requested_by,
        aware(r.requested_at).isoformat(),  # type: ignore[union-attr]
        r.entity_id,
        r.property,
        r.proposed_value,
        r.reason,
        r.status,
        r.decided_by,
        r.decision_note,
    )


def list_requests(store: Store, actor: Actor, status: str | None = "open") -> list[RedressRequest]:
    """Requests about the actor's agency's records (privacy officers and auditors: all)."""
    q = pt.redress_request.c
    stmt = select(pt.redress_request).order_by(q.id)
    if status:
        stmt = stmt.where(q.status == status)
    if not actor.has("privacy-officer", "auditor"):
        stmt = stmt.where((q.agency_id == actor.agency_id) | (q.requested_by == actor.username))
    with store.connect() as conn:
        return [_request(r) for r in conn.execute(stmt)]


# Built once: every record view asks it.
def correction_notices(store: Store, record_id: int | None = None) -> list[dict[str, Any]]:
    c = pt.correction_notice.c
    stmt = select(pt.correction_notice).order_by(c.id)
    if record_id is not None:
        stmt = stmt.where(c.record_id == record_id)
    with store.connect() as conn:
        return [
            {"record_id": r.record_id, "redress_id": r.redress_id, "kind": r.kind, "target": r.target}
            for r in conn.execute(stmt)
        ]
