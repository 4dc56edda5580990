"""The only way to read records: a reader bound to an actor and a stated purpose.

Every query it runs carries the compiled policy filter; a single record is judged by
``decide_read`` and a refusal says why without revealing content (nor, where the
terms say so, that the record exists at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from fusionhub.policy.actor import Actor
from fusionhub.policy.decision import RecordFacts, decide_read, record_filter
from fusionhub.store import Store
from fusionhub.store import tables as t


class AccessDenied(Exception):
    """The policy refuses; the message is safe to show (it carries no record content)."""


class NotFound(AccessDenied):
    """No such record, or one the actor may not know exists: the two are indistinguishable."""


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
        }


class RecordReader:
    def __init__(self, store: Store, actor: Actor, purpose: str | None = None) -> None:
        self.store = store
        self.actor = actor
        self.purpose = purpose

    def get(self, record_id: int) -> RecordView:
        r, s, a = t.record.c, t.source.c, t.agency.c
        with self.store.connect() as conn:
            row = conn.execute(
                select(t.record, s.name.label("source_name"), s.system, s.sharing_terms, a.code.label("agency_code"))
                .join(t.source, s.id == r.source_id)
                .join(t.agency, a.id == r.agency_id)
                .where(r.id == record_id)
            ).first()
            if row is None:
                raise NotFound(f"no record {record_id} that you may see")
            facts = RecordFacts(
                row.agency_id, row.record_class, row.tlp, row.handling, row.status, row.sharing_terms or {}
            )
            verdict = decide_read(self.actor, facts)
            if not verdict.allowed:
                if not verdict.may_know_exists:
                    raise NotFound(f"no record {record_id} that you may see")
                raise AccessDenied(f"record {record_id}: {verdict.reason}")
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
                for v in conn.execute(
                    select(t.record_version)
                    .where(t.record_version.c.record_id == record_id)
                    .order_by(t.record_version.c.version)
                )
            ]
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

    def count(self) -> int:
        from sqlalchemy import func

        with self.store.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(t.record.join(t.source, t.source.c.id == t.record.c.source_id))
                    .where(record_filter(self.actor))
                ).scalar_one()
            )
