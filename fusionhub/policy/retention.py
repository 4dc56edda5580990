"""Retention under 28 CFR 23.20(h): the review queue, validation and the purge.

Criminal intelligence is reviewed and validated within five years of entry, or purged;
validation starts a new five-year period and keeps reviewer, date and explanation.
Other classes keep their records for the per-class ``retention_days`` of
``fusionhub/model/vocabulary.yaml`` (set as ``review_due`` when a record is stored).

A purge empties the record's content, deletes its earlier versions and its predicate,
marks it ``purged`` under a new change number (so the search index, entity profiles and
the graph drop it as they follow the change sequence), logs who, when and why (never the
content) and notifies every agency it was disseminated to. The policy's first rules
refuse a purged record to everyone, so no read path returns it.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from fusionhub.model.types import InvalidValue
from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.decision import record_filter
from fusionhub.policy.identity import aware
from fusionhub.policy.reader import AccessDenied, readable_record
from fusionhub.policy.rules import load_policy
from fusionhub.store import Store, utcnow
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t

REVIEWERS = ("supervisor", "privacy-officer")
RETENTION_RUNNERS = ("supervisor", "privacy-officer", "administrator")
EMPTY_HASH = hashlib.sha1(b"purged").hexdigest()


def review_years() -> int:
    return int(load_policy().retention.get("review_years", 5))


def _years(when: datetime, years: int) -> datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February
        return when.replace(year=when.year + years, day=28)


@dataclass(frozen=True)
class ReviewItem:
    record_id: int
    record_class: str
    agency: str
    received_at: str
    review_due: str
    overdue: bool
    criminal_activity: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def review_queue(store: Store, actor: Actor, *, within_days: int = 90, now: datetime | None = None) -> list[ReviewItem]:
    """Records due for review (validation or purge) within ``within_days``; metadata only."""
    if not actor.has(*REVIEWERS, "analyst"):
        raise AccessDenied("only analysts, supervisors and privacy officers see the review queue")
    now = now or utcnow()
    classes = list(load_policy().retention.get("validate_or_purge") or [])
    r = t.record.c
    stmt = (
        select(
            r.id,
            r.record_class,
            r.received_at,
            r.review_due,
            t.agency.c.code,
            pt.criminal_predicate.c.criminal_activity,
        )
        .select_from(
            t.record.join(t.source, t.source.c.id == r.source_id)
            .join(t.agency, t.agency.c.id == r.agency_id)
            .outerjoin(pt.criminal_predicate, pt.criminal_predicate.c.record_id == r.id)
        )
        .where(record_filter(actor), r.record_class.in_(classes), r.status != "purged")
        .where(r.review_due <= now + timedelta(days=within_days))
        .order_by(r.review_due, r.id)
    )
    with store.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        ReviewItem(
            row.id,
            row.record_class,
            row.code,
            aware(row.received_at).isoformat(),  # type: ignore[union-attr]
            aware(row.review_due).isoformat(),  # type: ignore[union-attr]
            aware(row.review_due) < now,  # type: ignore[operator]
            row.criminal_activity,
        )
        for row in rows
    ]


def validate(
    store: Store, actor: Actor, record_id: int, justification: str, *, now: datetime | None = None
) -> datetime:
    """Validate a record for continued retention; returns its new review date."""
    if not actor.has(*REVIEWERS):
        raise AccessDenied("only supervisors and privacy officers validate records for retention")
    justification = " ".join(justification.split())
    if len(justification) < 10:
        raise InvalidValue("validation needs an explanation of the decision to retain (28 CFR 23.20(h))")
    now = now or utcnow()
    with store.begin() as conn:
        row = readable_record(conn, actor, record_id)
        if row.record_class not in (load_policy().retention.get("validate_or_purge") or []):
            raise InvalidValue(f"{row.record_class} records follow their retention period; they are not validated")
        new_due = _years(now, review_years())
        conn.execute(update(t.record).where(t.record.c.id == record_id).values(review_due=new_due))
        conn.execute(
            insert(pt.record_review).values(
                record_id=record_id,
                reviewer=actor.username,
                reviewed_at=now,
                decision="validated",
                justification=justification,
                previous_due=row.review_due,
                new_due=new_due,
            )
        )
        record_event(
            conn,
            actor,
            "retention.validate",
            f"record:{record_id}",
            {"justification": justification, "new_due": new_due.isoformat()},
            now=now,
        )
    return new_due


def purge_record(conn: Connection, store: Store, by: str, record_id: int, reason: str, now: datetime) -> bool:
    """Purge one record inside ``conn``; False when it was already purged."""
    r = t.record.c
    row = conn.execute(select(r.id, r.record_class, r.agency_id, r.status).where(r.id == record_id)).first()
    if row is None or row.status == "purged":
        return False
    seq = store.allocate_seq(conn)
    conn.execute(
        update(t.record)
        .where(r.id == record_id, r.status != "purged")
        .values(status="purged", payload={}, content_hash=EMPTY_HASH, occurred_at=None, seq=seq, updated_at=now)
    )
    conn.execute(delete(t.record_version).where(t.record_version.c.record_id == record_id))
    conn.execute(delete(pt.criminal_predicate).where(pt.criminal_predicate.c.record_id == record_id))
    conn.execute(
        insert(pt.purge_log).values(
            record_id=record_id,
            record_class=row.record_class,
            agency_id=row.agency_id,
            purged_at=now,
            purged_by=by,
            reason=reason,
        )
    )
    # 28 CFR 23.20(h): recipients are told of destroyed information.
    recipients = conn.execute(
        select(pt.dissemination.c.recipient_agency).where(pt.dissemination.c.record_id == record_id).distinct()
    ).scalars()
    for recipient in recipients:
        conn.execute(
            insert(pt.correction_notice).values(
                record_id=record_id, kind="purge", target=f"agency:{recipient}", created_at=now
            )
        )
    record_event(conn, by, "retention.purge", f"record:{record_id}", {"reason": reason, "seq": seq}, now=now)
    return True


@dataclass
class RetentionReport:
    purged: list[int] = field(default_factory=list)
    due_soon: int = 0
    overdue_after_run: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run(store: Store, by: Actor | str, *, now: datetime | None = None, limit: int | None = None) -> RetentionReport:
    """Do the due work: purge every record whose review date or retention period has passed
    without validation. Idempotent and safe to run from cron (each purge re-checks under lock)."""
    if isinstance(by, Actor) and not by.has(*RETENTION_RUNNERS):
        raise AccessDenied("only supervisors, privacy officers and administrators run retention")
    username = by if isinstance(by, str) else by.username
    now = now or utcnow()
    policy = load_policy()
    validate_classes = set(policy.retention.get("validate_or_purge") or [])
    r = t.record.c
    with store.connect() as conn:
        due = conn.execute(
            select(r.id, r.record_class).where(r.status != "purged", r.review_due < now).order_by(r.review_due, r.id)
        ).all()
    report = RetentionReport()
    for row in due[:limit] if limit else due:
        reason = (
            f"not validated by its review date ({review_years()}-year limit, 28 CFR 23.20(h))"
            if row.record_class in validate_classes
            else f"retention period for {row.record_class} records ended"
        )
        with store.begin() as conn:
            if purge_record(conn, store, username, int(row.id), reason, now):
                report.purged.append(int(row.id))
    with store.connect() as conn:
        soon = conn.execute(
            select(r.id).where(
                r.status != "purged", r.record_class.in_(validate_classes), r.review_due < now + timedelta(days=90)
            )
        ).all()
    report.due_soon = len(soon)
    if report.purged:
        from fusionhub.store.followers import notify_followers

        notify_followers(store)
    return report


def purge_log(store: Store, actor: Actor, limit: int = 1000) -> list[dict[str, Any]]:
    if not actor.has("privacy-officer", "auditor", "supervisor"):
        raise AccessDenied("only privacy officers, auditors and supervisors read the purge log")
    p = pt.purge_log.c
    with store.connect() as conn:
        rows = conn.execute(select(pt.purge_log).order_by(p.id.desc()).limit(limit)).all()
    return [
        {
            "record_id": row.record_id,
            "record_class": row.record_class,
            "agency_id": row.agency_id,
            "purged_at": aware(row.purged_at).isoformat(),  # type: ignore[union-attr]
            "purged_by": row.purged_by,
            "reason": row.reason,
        }
        for row in rows
    ]
