"""The only way to read records: a reader bound to an actor and a stated purpose.

Every query it runs carries the compiled policy filter; a single record is judged by
``decide_read`` and a refusal says why without revealing content (nor, where the
terms say so, that the record exists at all). Each view, list and refusal writes its
audit event in the same transaction as the read; record views and person searches
require a purpose (a case number or a configured reason, see ``policy.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.decision import RecordFacts, decide_read, record_filter
from fusionhub.policy.rules import load_policy
from fusionhub.store import Store
from fusionhub.store import tables as t
from fusionhub.store.driver import DriverQuery
from fusionhub.store.store import json_loads


class AccessDenied(Exception):
    """The policy refuses; the message is safe to show (it carries no record content)."""


class NotFound(AccessDenied):
    """No such record, or one the actor may not know exists: the two are indistinguishable."""


class PurposeRequired(AccessDenied):
    """A record view or person search without a valid stated purpose."""


def readable_record(conn: Connection, actor: Actor, record_id: int) -> Any:
    """The record's row (with its source's sharing terms) when ``actor`` may read it.

    Otherwise refuses as ``decide_read`` says, without content, and as ``NotFound`` where
    the terms forbid even confirming that the record exists.
    """
    row = conn.execute(
        select(t.record, t.source.c.sharing_terms)
        .join(t.source, t.source.c.id == t.record.c.source_id)
        .where(t.record.c.id == record_id)
    ).first()
    if row is None:
        raise NotFound(f"no record {record_id} that you may see")
    verdict = decide_read(
        actor, RecordFacts(row.agency_id, row.record_class, row.tlp, row.handling, row.status, row.sharing_terms or {})
    )
    if not verdict.allowed:
        if verdict.may_know_exists:
            raise AccessDenied(f"record {record_id}: {verdict.reason}")
        raise NotFound(f"no record {record_id} that you may see")
    return row


def check_purpose(purpose: str | None) -> str:
    """The purpose, normalised, if it is a case number or a configured reason; else refuse."""
    policy = load_policy()
    text = " ".join((purpose or "").split())
    if text:
        if policy.case_number.match(text):
            return text
        for reason in policy.reasons:
            if text.lower() == reason.lower():
                return reason
    raise PurposeRequired(
        "state why you look: a case number (e.g. 'case 24-001') or one of: " + "; ".join(policy.reasons)
    )


@dataclass
class RecordView:
    id: int
    source: str
    agency: str
    system: str
    source_record_id: str
    batch_id: int | None
    received_at: str
    record_class: str
    tlp: str
    handling: list[str]
    reliability: str
    validity: str
    review_due: str
    status: str
    version: int
    seq: int
    occurred_at: str | None
    payload: dict[str, Any]
    versions: list[dict[str, Any]]
    #: An open correction/redress request questions this record.
    disputed: bool = False
    #: The submitter's stated basis; for criminal intelligence, its criminal predicate.
    predicate: dict[str, Any] | None = None

    @property
    def caveat(self) -> str:
        return " ".join([f"TLP:{self.tlp}", *self.handling])

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provenance": {
                "agency": self.agency,
                "source": self.source,
                "system": self.system,
                "source_record_id": self.source_record_id,
                "batch_id": self.batch_id,
                "received_at": self.received_at,
                "reliability": self.reliability,
                "validity": self.validity,
            },
            "record_class": self.record_class,
            "caveat": self.caveat,
            "tlp": self.tlp,
            "handling": self.handling,
            "review_due": self.review_due,
            "status": self.status,
            "version": self.version,
            "seq": self.seq,
            "occurred_at": self.occurred_at,
            "entities": self.payload.get("entities", []),
            "dropped": self.payload.get("dropped", []),
            "unmapped": self.payload.get("unmapped", {}),
            "versions": self.versions,
            "disputed": self.disputed,
            "predicate": self.predicate,
            "corrections": self.payload.get("corrections", []),
            # Every value inherits its record's grading: source reliability + content validity.
            "grading": {"reliability": self.reliability, "validity": self.validity},
        }


class RecordReader:
    def __init__(self, store: Store, actor: Actor, purpose: str | None = None) -> None:
        self.store = store
        self.actor = actor
        self.purpose = purpose

    def get(self, record_id: int, *, ip: str | None = None) -> RecordView:
        """One record, with its versions. Requires a purpose; audited whether shown or refused."""
        purpose = self._purpose_or_audit(f"record:{record_id}", {"record_id": record_id}, ip)
        refusal: AccessDenied | None = None
        record_query, versions_query = _record_query(), _versions_query()
        raw_versions: list[tuple[Any, ...]] = []
        with self.store.begin() as conn:
            # Rows are decoded (payload JSON, times) after the commit: this transaction
            # holds the store's write lock until then.
            found = record_query.execute(conn, {"record_id": record_id})
            if not found:
                refusal = NotFound(f"no record {record_id} that you may see")
                reason = "no such record"
            else:
                undecoded = record_query.row_type(*found[0])
                terms = undecoded.sharing_terms
                facts = RecordFacts(
                    undecoded.agency_id,
                    undecoded.record_class,
                    undecoded.tlp,
                    undecoded.handling,
                    undecoded.status,
                    (json_loads(terms) if isinstance(terms, str | bytes) else terms) or {},
                )
                verdict = decide_read(self.actor, facts)
                reason = f"{verdict.rule}: {verdict.reason}"
                if not verdict.allowed:
                    if not verdict.may_know_exists:
                        refusal = NotFound(f"no record {record_id} that you may see")
                    else:
                        refusal = AccessDenied(f"record {record_id}: {verdict.reason}")
            if refusal is not None:
                # The refusal is kept; the event does not index the record as "seen".
                record_event(
                    conn, self.actor, "record.view.denied", f"record:{record_id}", {"reason": reason}, purpose, ip
                )
            else:
                raw_versions = versions_query.execute(conn, {"record_id": record_id})
                # The event last: from here the audit head stays locked until the commit,
                # so the reads above do not hold up every other audited request.
                record_event(
                    conn, self.actor, "record.view", f"record:{record_id}", {"record_id": record_id}, purpose, ip
                )
        if refusal is not None:
            raise refusal
        row = record_query.decode(found[0])
        versions = [
            {
                "version": v.version,
                "batch_id": v.batch_id,
                "received_at": v.received_at.isoformat(),
                "superseded_at": v.superseded_at.isoformat(),
                "status": v.status,
                "reliability": v.reliability,
                "validity": v.validity,
                "payload": v.payload,
            }
            for v in map(versions_query.decode, raw_versions)
        ]
        view = _view(row, versions)
        view.disputed = row.open_disputes > 0
        if row.predicate_of is not None:
            view.predicate = {
                "criminal_activity": row.criminal_activity,
                "basis": row.basis,
                "protected_activity": row.protected_activity,
                "nexus": row.nexus,
                "submitted_by": row.submitted_by,
                "submitted_at": str(row.submitted_at),
            }
        return view

    def _purpose_or_audit(self, subject: str, details: dict[str, Any], ip: str | None) -> str:
        try:
            return check_purpose(self.purpose)
        except PurposeRequired:
            with self.store.begin() as conn:
                record_event(
                    conn,
                    self.actor,
                    "access.denied",
                    subject,
                    {"reason": "no valid purpose stated", **{k: v for k, v in details.items() if k != "record_id"}},
                    self.purpose,
                    ip,
                )
            raise

    def list(
        self,
        *,
        record_class: str | None = None,
        record_ids: list[int] | None = None,
        limit: int = 100,
        offset: int = 0,
        query: str | None = None,
        person: bool = False,
        ip: str | None = None,
    ) -> list[RecordView]:
        """A page of readable records (the filter is in the query: nothing is dropped afterwards).

        ``person`` marks a person search, which requires a purpose. Audited with the ids returned.
        """
        purpose = self.purpose
        if person:
            purpose = self._purpose_or_audit("search", {"query": query}, ip)
        r, s, a = t.record.c, t.source.c, t.agency.c
        stmt = (
            select(t.record, s.name.label("source_name"), s.system, a.code.label("agency_code"))
            .join(t.source, s.id == r.source_id)
            .join(t.agency, a.id == r.agency_id)
            .where(record_filter(self.actor))
        )
        if record_class:
            stmt = stmt.where(r.record_class == record_class)
        if record_ids is not None:
            stmt = stmt.where(r.id.in_(record_ids))
        stmt = stmt.order_by(r.id).limit(limit).offset(offset)
        with self.store.begin() as conn:
            rows = conn.execute(stmt).all()
            record_event(
                conn,
                self.actor,
                "search" if person or query else "record.list",
                "search" if person or query else None,
                {
                    "query": query,
                    "record_class": record_class,
                    "person": person,
                    "record_ids": [row.id for row in rows],
                },
                purpose,
                ip,
            )
        return [_view(row, []) for row in rows]

    def count(self, record_class: str | None = None) -> int:
        with self.store.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(t.record.join(t.source, t.source.c.id == t.record.c.source_id))
                    .where(record_filter(self.actor))
                    .where(t.record.c.record_class == record_class if record_class else t.record.c.id.is_not(None))
                ).scalar_one()
            )


# The statements of a record view, built once and run on the driver's cursor: a view runs
# them inside the writer's lock (SQLite) or the audit head's row lock, where SQLAlchemy's
# execution and result layers cost several times the database's own work.
@lru_cache(maxsize=1)
def _record_query() -> DriverQuery:
    """The record with its source, agency, open disputes and criminal predicate (if any)."""
    from fusionhub.store import policy_tables as pt

    r, s, a = t.record.c, t.source.c, t.agency.c
    rr, cp = pt.redress_request.c, pt.criminal_predicate.c
    open_disputes = (
        select(func.count())
        .select_from(pt.redress_request)
        .where(rr.record_id == r.id, rr.status == "open")
        .scalar_subquery()
    )
    return DriverQuery(
        select(
            t.record,
            s.name.label("source_name"),
            s.system,
            s.sharing_terms,
            a.code.label("agency_code"),
            open_disputes.label("open_disputes"),
            cp.record_id.label("predicate_of"),
            cp.criminal_activity,
            cp.basis,
            cp.protected_activity,
            cp.nexus,
            cp.submitted_by,
            cp.submitted_at,
        )
        .join(t.source, s.id == r.source_id)
        .join(t.agency, a.id == r.agency_id)
        .outerjoin(pt.criminal_predicate, cp.record_id == r.id)
        .where(r.id == bindparam("record_id"))
    )


@lru_cache(maxsize=1)
def _versions_query() -> DriverQuery:
    v = t.record_version.c
    return DriverQuery(select(t.record_version).where(v.record_id == bindparam("record_id")).order_by(v.version))


def _view(row: Any, versions: list[dict[str, Any]]) -> RecordView:
    return RecordView(
        id=row.id,
        source=row.source_name,
        agency=row.agency_code,
        system=row.system,
        source_record_id=row.source_record_id,
        batch_id=row.batch_id,
        received_at=row.received_at.isoformat(),
        record_class=row.record_class,
        tlp=row.tlp,
        handling=[h for h in row.handling.split(",") if h],
        reliability=row.reliability,
        validity=row.validity,
        review_due=row.review_due.isoformat(),
        status=row.status,
        version=row.version,
        seq=row.seq,
        occurred_at=row.occurred_at,
        payload=row.payload,
        versions=versions,
    )
