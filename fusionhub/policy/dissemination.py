"""Dissemination: releasing records outside the project, recorded to whom, when and why.

28 CFR 23.20(e)-(g): criminal intelligence goes only to law-enforcement recipients with
a need and a right to know, and every release is recorded with recipient, reason and
date. The release and its record commit together, with the audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from fusionhub.model.types import InvalidValue
from fusionhub.policy.actor import LAW_ENFORCEMENT_KINDS, Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.decision import RecordFacts, decide_read
from fusionhub.policy.identity import aware
from fusionhub.policy.reader import AccessDenied, NotFound, RecordView
from fusionhub.store import Store, utcnow
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t

DISSEMINATORS = ("analyst", "supervisor", "privacy-officer")


@dataclass(frozen=True)
class Release:
    record_ids: list[int]
    recipient_agency: str
    recipient_person: str
    reason: str
    released_at: str
    views: list[RecordView]


def disseminate(
    store: Store,
    actor: Actor,
    record_ids: list[int],
    recipient_agency: str,
    recipient_person: str,
    reason: str,
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> Release:
    """Release records to a named person of a registered agency; returns what was released."""
    from fusionhub.policy.reader import RecordReader

    if not actor.has(*DISSEMINATORS):
        raise AccessDenied("only analysts, supervisors and privacy officers disseminate records")
    reason = " ".join(reason.split())
    recipient_person = recipient_person.strip()
    if len(reason) < 5 or not recipient_person:
        raise InvalidValue("a dissemination names the recipient person and the reason (28 CFR 23.20(g))")
    now = now or utcnow()
    with store.begin() as conn:
        agency = conn.execute(select(t.agency).where(t.agency.c.code == recipient_agency)).first()
        if agency is None:
            raise InvalidValue(f"no registered agency {recipient_agency!r}: register recipients first")
        rows = {
            row.id: row
            for row in conn.execute(
                select(t.record, t.source.c.sharing_terms)
                .join(t.source, t.source.c.id == t.record.c.source_id)
                .where(t.record.c.id.in_(record_ids))
            )
        }
        for record_id in record_ids:
            row = rows.get(record_id)
            if row is None:
                raise NotFound(f"no record {record_id} that you may see")
            facts = RecordFacts(row.agency_id, row.record_class, row.tlp, row.handling, row.status, row.sharing_terms)
            verdict = decide_read(actor, facts)
            if not verdict.allowed:
                if verdict.may_know_exists:
                    raise AccessDenied(f"record {record_id}: {verdict.reason}")
                raise NotFound(f"no record {record_id} that you may see")
            if row.record_class == "criminal-intelligence" and agency.kind not in LAW_ENFORCEMENT_KINDS:
                raise AccessDenied(
                    f"record {record_id}: criminal intelligence is released only to law-enforcement agencies "
                    "(28 CFR 23.20(f)); use an emergency assessment instead"
                )
            if row.tlp == "RED" and agency.id != row.agency_id:
                raise AccessDenied(f"record {record_id}: TLP:RED is not released outside its originating agency")
            marking = " ".join([f"TLP:{row.tlp}", *[h for h in row.handling.split(",") if h]])
            conn.execute(
                insert(pt.dissemination).values(
                    record_id=record_id,
                    record_class=row.record_class,
                    released_by=actor.username,
                    recipient_agency=recipient_agency,
                    recipient_person=recipient_person,
                    reason=reason,
                    marking=marking,
                    released_at=now,
                )
            )
        record_event(
            conn,
            actor,
            "dissemination",
            f"agency:{recipient_agency}",
            {"record_ids": list(record_ids), "recipient_person": recipient_person},
            reason,
            ip,
            now=now,
        )
    views = RecordReader(store, actor, reason).list(record_ids=record_ids, limit=len(record_ids))
    return Release(list(record_ids), recipient_agency, recipient_person, reason, now.isoformat(), views)


def dissemination_log(store: Store, actor: Actor, record_id: int | None = None) -> list[dict[str, Any]]:
    if not actor.has("privacy-officer", "auditor", "supervisor"):
        raise AccessDenied("only privacy officers, auditors and supervisors read the dissemination log")
    d = pt.dissemination.c
    stmt = select(pt.dissemination).order_by(d.id)
    if record_id is not None:
        stmt = stmt.where(d.record_id == record_id)
    with store.connect() as conn:
        return [
            {
                "record_id": r.record_id,
                "record_class": r.record_class,
                "released_by": r.released_by,
                "recipient_agency": r.recipient_agency,
                "recipient_person": r.recipient_person,
                "reason": r.reason,
                "marking": r.marking,
                "released_at": aware(r.released_at).isoformat(),  # type: ignore[union-attr]
            }
            for r in conn.execute(stmt)
        ]
