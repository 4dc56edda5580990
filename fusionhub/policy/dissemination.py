"""Dissemination: releasing records outside the project, recorded to whom, when and why.

28 CFR 23.20(e)-(g): criminal intelligence goes only to law-enforcement recipients with
a need and a right to know, who have agreed to handle it under Part 23 (a participation
agreement valid on the day of release, §23.20(f)(1)), and every release is recorded with
recipient, reason and date. The release and its record commit together, with the audit
event; a refused release is audited too. The emergency exception of §23.20(f)(2) (an
assessment, never the record) is :mod:`fusionhub.policy.emergency`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from fusionhub.model.types import InvalidValue
from fusionhub.policy.actor import LAW_ENFORCEMENT_KINDS, Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.decision import RecordFacts, decide_read
from fusionhub.policy.identity import aware
from fusionhub.policy.reader import AccessDenied, NotFound, RecordView
from fusionhub.store import Store, utcnow
from fusionhub.store import dissemination_tables as dt
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t

#: Roles that release records outside the project.
DISSEMINATORS = ("analyst", "supervisor", "privacy-officer")
#: Roles that read the dissemination log. §23.20(g) keeps it so that releases can be
#: checked: the privacy officer oversees compliance, the auditor verifies it, and the
#: supervisor is the control official who answers for releases and reviews emergency
#: ones. Analysts release but do not browse everyone's releases; field users, partners
#: and administrators have no part in it.
LOG_READERS = ("privacy-officer", "auditor", "supervisor")
#: Who records a recipient agency's participation agreement: whoever manages agencies.
AGREEMENT_RECORDERS = ("administrator",)


@dataclass(frozen=True)
class Release:
    record_ids: list[int]
    recipient_agency: str
    recipient_person: str
    reason: str
    released_at: str
    views: list[RecordView]


@dataclass(frozen=True)
class Agreement:
    agency: str
    reference: str
    valid_until: date
    recorded_by: str
    recorded_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "reference": self.reference,
            "valid_until": self.valid_until.isoformat(),
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at,
        }


def record_agreement(
    store: Store,
    actor: Actor | None,
    agency_code: str,
    valid_until: date,
    reference: str,
    *,
    now: datetime | None = None,
    by: str | None = None,
) -> Agreement:
    """Record that ``agency_code`` has agreed to Part 23 handling until ``valid_until``.

    ``actor`` must be an administrator; ``None`` only when the CLI bootstraps a store
    with no administrator yet (``by`` names the operator).
    """
    if actor is not None and not actor.has(*AGREEMENT_RECORDERS):
        raise AccessDenied("only administrators record participation agreements")
    reference = " ".join(reference.split())
    if not reference:
        raise InvalidValue("a participation agreement needs its reference (document or MOU number)")
    now = now or utcnow()
    if valid_until < now.date():
        raise InvalidValue(f"the agreement ended on {valid_until.isoformat()}; record a current one")
    who = actor.username if actor is not None else (by or "operator")
    with store.begin() as conn:
        agency = conn.execute(select(t.agency.c.id).where(t.agency.c.code == agency_code)).first()
        if agency is None:
            raise InvalidValue(f"no registered agency {agency_code!r}")
        conn.execute(
            insert(dt.participation_agreement).values(
                agency_id=agency.id, reference=reference, valid_until=valid_until, recorded_by=who, recorded_at=now
            )
        )
        record_event(
            conn,
            actor if actor is not None else who,
            "agency.agreement",
            f"agency:{agency_code}",
            {"reference": reference, "valid_until": valid_until.isoformat()},
            now=now,
        )
    return Agreement(agency_code, reference, valid_until, who, now.isoformat())


def current_agreement(conn: Connection, agency_id: int, today: date) -> Agreement | None:
    """The agreement of the agency valid on ``today`` that runs longest, if any."""
    a, g = dt.participation_agreement.c, t.agency.c
    row = conn.execute(
        select(g.code, a.reference, a.valid_until, a.recorded_by, a.recorded_at)
        .join(t.agency, g.id == a.agency_id)
        .where(a.agency_id == agency_id, a.valid_until >= today)
        .order_by(a.valid_until.desc(), a.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Agreement(row.code, row.reference, row.valid_until, row.recorded_by, aware(row.recorded_at).isoformat())  # type: ignore[union-attr]


def agreements(store: Store, today: date | None = None) -> dict[str, Agreement]:
    """Agency code -> its current agreement (agencies without one are absent)."""
    today = today or utcnow().date()
    a, g = dt.participation_agreement.c, t.agency.c
    out: dict[str, Agreement] = {}
    with store.connect() as conn:
        latest = (
            select(a.agency_id, func.max(a.valid_until).label("until"))
            .where(a.valid_until >= today)
            .group_by(a.agency_id)
            .subquery()
        )
        for row in conn.execute(
            select(g.code, a.reference, a.valid_until, a.recorded_by, a.recorded_at)
            .join(t.agency, g.id == a.agency_id)
            .join(latest, (latest.c.agency_id == a.agency_id) & (latest.c.until == a.valid_until))
            .order_by(a.id)
        ):
            out[row.code] = Agreement(
                row.code,
                row.reference,
                row.valid_until,
                row.recorded_by,
                aware(row.recorded_at).isoformat(),  # type: ignore[union-attr]
            )
    return out


def _release_refusal(conn: Connection, actor: Actor, record_id: int, row: Any, agency: Any) -> AccessDenied | None:
    """Why one record may not go to ``agency``, or None. Messages carry no record content."""
    if row is None:
        return NotFound(f"no record {record_id} that you may see")
    facts = RecordFacts(row.agency_id, row.record_class, row.tlp, row.handling, row.status, row.sharing_terms or {})
    verdict = decide_read(actor, facts)
    if not verdict.allowed:
        if verdict.may_know_exists:
            return AccessDenied(f"record {record_id}: {verdict.reason}")
        return NotFound(f"no record {record_id} that you may see")
    if row.record_class == "criminal-intelligence" and agency.kind not in LAW_ENFORCEMENT_KINDS:
        return AccessDenied(
            f"record {record_id}: criminal intelligence is released only to law-enforcement agencies "
            "(28 CFR 23.20(f)(1)); to avoid imminent danger, release an emergency assessment instead"
        )
    if row.tlp == "RED" and agency.id != row.agency_id:
        return AccessDenied(f"record {record_id}: TLP:RED is not released outside its originating agency")
    return None


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
    """Release records to a named person of a registered agency; returns what was released.

    All or nothing: one refused record refuses the release (and the refusal is audited).
    """
    from fusionhub.policy.reader import RecordReader

    if not actor.has(*DISSEMINATORS):
        raise AccessDenied("only analysts, supervisors and privacy officers disseminate records")
    reason = " ".join(reason.split())
    recipient_person = " ".join(recipient_person.split())
    record_ids = list(dict.fromkeys(record_ids))
    if len(reason) < 5 or not recipient_person:
        raise InvalidValue("a dissemination names the recipient person and the reason (28 CFR 23.20(g))")
    if not record_ids:
        raise InvalidValue("a dissemination releases at least one record")
    now = now or utcnow()
    refusal: AccessDenied | None = None
    with store.begin() as conn:
        agency = conn.execute(select(t.agency).where(t.agency.c.code == recipient_agency)).first()
        if agency is None:
            raise InvalidValue(f"no registered agency {recipient_agency!r}: register recipients first")
        if current_agreement(conn, agency.id, now.date()) is None:
            refusal = AccessDenied(
                f"agency {recipient_agency} has no participation agreement valid today: recipients must agree "
                "to handle what they receive under 28 CFR Part 23 (23.20(f)(1)); an administrator records it "
                f"with `fusionhub agency agreement {recipient_agency} --until DATE --reference REF`"
            )
        rows = {
            row.id: row
            for row in conn.execute(
                select(t.record, t.source.c.sharing_terms)
                .join(t.source, t.source.c.id == t.record.c.source_id)
                .where(t.record.c.id.in_(record_ids))
            )
        }
        for record_id in record_ids:
            if refusal is not None:
                break
            refusal = _release_refusal(conn, actor, record_id, rows.get(record_id), agency)
        if refusal is not None:
            # Kept for the compliance report; no record is indexed as released.
            record_event(
                conn,
                actor,
                "dissemination.refused",
                f"agency:{recipient_agency}",
                {"requested": len(record_ids), "reason": str(refusal)},
                reason,
                ip,
                now=now,
            )
        else:
            for record_id in record_ids:
                row = rows[record_id]
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
                {"record_ids": record_ids, "recipient_person": recipient_person},
                reason,
                ip,
                now=now,
            )
    if refusal is not None:
        raise refusal
    views = RecordReader(store, actor, reason).list(record_ids=record_ids, limit=len(record_ids))
    return Release(record_ids, recipient_agency, recipient_person, reason, now.isoformat(), views)


def dissemination_log(
    store: Store,
    actor: Actor,
    record_id: int | None = None,
    *,
    after: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The releases outside the project, oldest first: to whom, when, why, which record.

    No record content: ids, class and marking only. ``after`` and ``limit`` page by id.
    """
    if not actor.has(*LOG_READERS):
        raise AccessDenied("only privacy officers, auditors and supervisors read the dissemination log")
    d = pt.dissemination.c
    stmt = select(pt.dissemination).order_by(d.id)
    if record_id is not None:
        stmt = stmt.where(d.record_id == record_id)
    if after is not None:
        stmt = stmt.where(d.id > after)
    if limit is not None:
        stmt = stmt.limit(limit)
    with store.connect() as conn:
        return [
            {
                "id": r.id,
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
