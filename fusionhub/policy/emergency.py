"""The emergency exception of 28 CFR 23.20(f)(2): an *assessment* of criminal intelligence
released to a government official or any other person when necessary to avoid imminent
danger to life or property.

What makes it an exception and not a loophole:

* only an assessment the analyst writes is released, never the record: the assessment is
  refused when it reproduces a record's own text (:func:`reproduced_text`), and the
  records it rests on are only referenced by id;
* the danger (life or property) and a justification are mandatory;
* a supervisor of the releasing agency is named, and a post-hoc review task is opened in
  that supervisor's queue at once, due within :data:`REVIEW_HOURS`; it stays in the
  compliance report until it is reviewed;
* the release, its log row and its audit event commit together; a refusal is audited.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from fusionhub.model.types import InvalidValue
from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.decision import RecordFacts, decide_read
from fusionhub.policy.dissemination import DISSEMINATORS, LOG_READERS
from fusionhub.policy.identity import actor_row, aware
from fusionhub.policy.reader import AccessDenied, NotFound
from fusionhub.store import Store, utcnow
from fusionhub.store import dissemination_tables as dt
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t

DANGERS = ("life", "property")
#: The named supervisor reviews an emergency release within this many hours.
REVIEW_HOURS = 72
REVIEW_OUTCOMES = ("upheld", "unwarranted")
#: A passage of a record this long, copied into the assessment, makes it the record.
#: Shorter values (a name, a date, a plate) may be needed to identify who is in danger.
RAW_TEXT_MIN = 24
MIN_ASSESSMENT = 20
MIN_JUSTIFICATION = 10


@dataclass(frozen=True)
class EmergencyRelease:
    id: int
    record_ids: list[int]
    assessment: str
    danger: str
    justification: str
    recipient_person: str
    recipient_organization: str
    released_by: str
    released_at: str
    supervisor: str
    review_due: str
    review_status: str
    reviewed_by: str | None
    reviewed_at: str | None
    review_note: str | None
    overdue: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def reproduced_text(assessment: str, payload: dict[str, Any]) -> str | None:
    """The first passage of the record (``RAW_TEXT_MIN`` characters or more) that the
    assessment copies, compared without case and runs of whitespace; None if none."""
    folded = _fold(assessment)
    if _fold(json.dumps(payload, ensure_ascii=False)) in folded:
        return "the whole record"
    for text in _strings(payload):
        # Length before case folding: folding can lengthen a text (ß -> ss).
        plain = " ".join(text.split())
        if len(plain) >= RAW_TEXT_MIN and plain.casefold() in folded:
            return plain
    return None


def _row(row: Any, now: datetime) -> EmergencyRelease:
    due = aware(row.review_due)
    assert due is not None
    return EmergencyRelease(
        id=int(row.id),
        record_ids=[int(i) for i in row.record_ids],
        assessment=row.assessment,
        danger=row.danger,
        justification=row.justification,
        recipient_person=row.recipient_person,
        recipient_organization=row.recipient_organization,
        released_by=row.released_by,
        released_at=aware(row.released_at).isoformat(),  # type: ignore[union-attr]
        supervisor=row.supervisor,
        review_due=due.isoformat(),
        review_status=row.review_status,
        reviewed_by=row.reviewed_by,
        reviewed_at=aware(row.reviewed_at).isoformat() if row.reviewed_at else None,  # type: ignore[union-attr]
        review_note=row.review_note,
        overdue=row.review_status == "open" and due < now,
    )


def release_assessment(
    store: Store,
    actor: Actor,
    record_ids: list[int],
    assessment: str,
    *,
    danger: str,
    justification: str,
    supervisor: str,
    recipient_person: str,
    recipient_organization: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> EmergencyRelease:
    """Release the analyst's assessment of ``record_ids`` under §23.20(f)(2)."""
    if not actor.has(*DISSEMINATORS):
        raise AccessDenied("only analysts, supervisors and privacy officers release emergency assessments")
    assessment = assessment.strip()
    justification = " ".join(justification.split())
    recipient_person = " ".join(recipient_person.split())
    recipient_organization = " ".join(recipient_organization.split())
    record_ids = list(dict.fromkeys(record_ids))
    if danger not in DANGERS:
        raise InvalidValue(f"an emergency release avoids imminent danger to {' or '.join(DANGERS)}; say which")
    if len(justification) < MIN_JUSTIFICATION:
        raise InvalidValue("an emergency release states why the danger is imminent (justification required)")
    if len(_fold(assessment)) < MIN_ASSESSMENT:
        raise InvalidValue(f"write the assessment to release (at least {MIN_ASSESSMENT} characters)")
    if not recipient_person or not recipient_organization:
        raise InvalidValue("an emergency release names the recipient person and their organization")
    if not record_ids:
        raise InvalidValue("name the records the assessment rests on")
    now = now or utcnow()
    refusal: Exception | None = None
    with store.begin() as conn:
        boss = actor_row(conn, supervisor)
        if boss is None or not boss.active or "supervisor" not in (boss.roles or []):
            raise InvalidValue(f"{supervisor!r} is not an active supervisor")
        if boss.username == actor.username:
            raise InvalidValue("name a supervisor other than yourself: the release is reviewed by someone else")
        if boss.agency_id != actor.agency_id:
            raise InvalidValue(f"{supervisor} is not a supervisor of your agency ({actor.agency})")
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
                refusal = NotFound(f"no record {record_id} that you may see")
                break
            facts = RecordFacts(
                row.agency_id, row.record_class, row.tlp, row.handling, row.status, row.sharing_terms or {}
            )
            verdict = decide_read(actor, facts)
            if not verdict.allowed:
                refusal = (
                    AccessDenied(f"record {record_id}: {verdict.reason}")
                    if verdict.may_know_exists
                    else NotFound(f"no record {record_id} that you may see")
                )
                break
            if reproduced_text(assessment, row.payload or {}) is not None:
                refusal = AccessDenied(
                    f"the assessment copies the text of record {record_id}: the emergency path releases an "
                    "assessment written by the analyst, never the record itself (28 CFR 23.20(f)(2))"
                )
                break
        if refusal is not None:
            record_event(
                conn,
                actor,
                "dissemination.emergency.refused",
                f"person:{recipient_person}",
                {"requested": len(record_ids), "reason": str(refusal)},
                justification,
                ip,
                now=now,
            )
        else:
            new = conn.execute(
                insert(dt.emergency_release).values(
                    record_ids=record_ids,
                    assessment=assessment,
                    danger=danger,
                    justification=justification,
                    recipient_person=recipient_person,
                    recipient_organization=recipient_organization,
                    released_by=actor.username,
                    released_at=now,
                    supervisor=boss.username,
                    review_due=now + timedelta(hours=REVIEW_HOURS),
                    review_status="open",
                )
            ).inserted_primary_key
            assert new is not None
            release_id = int(new[0])
            record_event(
                conn,
                actor,
                "dissemination.emergency",
                f"emergency:{release_id}",
                {
                    "record_ids": record_ids,
                    "danger": danger,
                    "recipient_person": recipient_person,
                    "recipient_organization": recipient_organization,
                    "supervisor": boss.username,
                },
                justification,
                ip,
                now=now,
            )
            stored = conn.execute(select(dt.emergency_release).where(dt.emergency_release.c.id == release_id)).one()
    if refusal is not None:
        raise refusal
    return _row(stored, now)


def emergency_releases(
    store: Store, actor: Actor, *, status: str | None = None, now: datetime | None = None
) -> list[EmergencyRelease]:
    """Every emergency release, oldest first (privacy officers, auditors, supervisors)."""
    if not actor.has(*LOG_READERS):
        raise AccessDenied("only privacy officers, auditors and supervisors read the dissemination log")
    e = dt.emergency_release.c
    stmt = select(dt.emergency_release).order_by(e.id)
    if status is not None:
        stmt = stmt.where(e.review_status == status)
    now = now or utcnow()
    with store.connect() as conn:
        return [_row(r, now) for r in conn.execute(stmt)]


def review_queue(store: Store, actor: Actor, *, now: datetime | None = None) -> list[EmergencyRelease]:
    """Open post-hoc reviews: a supervisor's own; the privacy officer sees every one."""
    if not actor.has("supervisor", "privacy-officer"):
        raise AccessDenied("the review queue of emergency releases is for supervisors and privacy officers")
    e = dt.emergency_release.c
    stmt = select(dt.emergency_release).where(e.review_status == "open").order_by(e.review_due, e.id)
    if not actor.has("privacy-officer"):
        stmt = stmt.where(e.supervisor == actor.username)
    now = now or utcnow()
    with store.connect() as conn:
        return [_row(r, now) for r in conn.execute(stmt)]


def review(
    store: Store,
    actor: Actor,
    release_id: int,
    outcome: str,
    note: str,
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> EmergencyRelease:
    """The named supervisor's review after the fact. ``unwarranted`` opens a privacy flag."""
    if outcome not in REVIEW_OUTCOMES:
        raise InvalidValue(f"a review is {' or '.join(REVIEW_OUTCOMES)}")
    note = " ".join(note.split())
    if len(note) < 5:
        raise InvalidValue("a review explains its outcome")
    now = now or utcnow()
    e = dt.emergency_release.c
    with store.begin() as conn:
        row = conn.execute(select(dt.emergency_release).where(e.id == release_id)).first()
        if row is None or (row.supervisor != actor.username and not actor.has(*LOG_READERS)):
            raise NotFound(f"no emergency release {release_id}")
        if row.supervisor != actor.username:
            raise AccessDenied(f"emergency release {release_id} is reviewed by its named supervisor")
        if row.review_status != "open":
            raise InvalidValue(f"emergency release {release_id} was already reviewed ({row.review_status})")
        conn.execute(
            update(dt.emergency_release)
            .where(e.id == release_id)
            .values(review_status=outcome, reviewed_by=actor.username, reviewed_at=now, review_note=note)
        )
        if outcome == "unwarranted":
            conn.execute(
                insert(pt.privacy_flag).values(
                    record_id=None,
                    kind="emergency-release-unwarranted",
                    username=actor.username,
                    created_at=now,
                    message=f"emergency release {release_id} by {row.released_by} reviewed as unwarranted: {note}",
                    status="open",
                )
            )
        record_event(
            conn,
            actor,
            "dissemination.emergency.review",
            f"emergency:{release_id}",
            {"outcome": outcome, "record_ids": [int(i) for i in row.record_ids]},
            note,
            ip,
            now=now,
        )
        stored = conn.execute(select(dt.emergency_release).where(e.id == release_id)).one()
    return _row(stored, now)


def review_summary(store: Store, now: datetime) -> dict[str, Any]:
    """For the compliance report: counts and the open review tasks (no assessment text)."""
    e = dt.emergency_release.c
    with store.connect() as conn:
        rows = conn.execute(select(e.id, e.supervisor, e.review_due, e.review_status, e.danger).order_by(e.id)).all()
    open_tasks = [
        {
            "id": int(r.id),
            "supervisor": r.supervisor,
            "review_due": aware(r.review_due).isoformat(),  # type: ignore[union-attr]
            "overdue": aware(r.review_due) < now,  # type: ignore[operator]
        }
        for r in rows
        if r.review_status == "open"
    ]
    return {
        "total": len(rows),
        "reviews_open": len(open_tasks),
        "reviews_overdue": sum(1 for task in open_tasks if task["overdue"]),
        "reviewed_unwarranted": sum(1 for r in rows if r.review_status == "unwarranted"),
        "open_reviews": open_tasks,
    }
