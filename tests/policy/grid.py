"""Every combination of record metadata the policy reads, laid down once per store."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from fusionhub.ingest.sources import add_agency, add_source
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.decision import RecordFacts
from fusionhub.policy.rules import SHARING_TERMS
from fusionhub.store import Store
from fusionhub.store import tables as t

HANDLING = ("", "LES", "NO-PRIVATE-SECTOR", "CUI,PRIVACY")
STATUSES = ("active", "cancelled", "purged")
AGENCIES = (("PD1", "law-enforcement"), ("CORP", "private-sector"))
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def term_sets() -> list[dict[str, bool]]:
    out = []
    for bits in itertools.product((False, True), repeat=len(SHARING_TERMS)):
        out.append({name: bit for name, bit in zip(SHARING_TERMS, bits, strict=True) if bit or name == "agency_only"})
    return out


def lay_grid(store: Store) -> dict[int, RecordFacts]:
    """All classes x TLP x handling x terms x agency x status; returns id -> facts."""
    vocab = load_vocabulary()
    agency_ids = {code: add_agency(store, code, code, kind).id for code, kind in AGENCIES}
    sources: list[tuple[int, int, dict[str, bool]]] = []
    for code, _ in AGENCIES:
        for n, terms in enumerate(term_sets()):
            src = add_source(store, f"{code}-src{n}", code, "rms", sharing_terms={k: bool(v) for k, v in terms.items()})
            sources.append((src.id, agency_ids[code], src.sharing_terms))
    rows: list[dict[str, Any]] = []
    for (source_id, agency_id, _terms), record_class, tlp, handling, status in itertools.product(
        sources, vocab.record_classes, vocab.tlp, HANDLING, STATUSES
    ):
        n = len(rows)
        rows.append(
            {
                "source_id": source_id,
                "source_record_id": f"g{n}",
                "agency_id": agency_id,
                "record_class": record_class,
                "tlp": tlp,
                "handling": handling,
                "reliability": "B",
                "validity": "2",
                "received_at": WHEN,
                "review_due": WHEN,
                "status": status,
                "version": 1,
                "content_hash": hashlib.sha1(str(n).encode()).hexdigest(),
                "payload": {"entities": []},
                "seq": n + 1,
                "updated_at": WHEN,
            }
        )
    with store.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(t.record), rows[start : start + 5000])
        conn.execute(t.store_counter.update().values(value=len(rows)))
        found = conn.execute(
            select(
                t.record.c.id,
                t.record.c.agency_id,
                t.record.c.record_class,
                t.record.c.tlp,
                t.record.c.handling,
                t.record.c.status,
                t.source.c.sharing_terms,
            ).join(t.source, t.source.c.id == t.record.c.source_id)
        ).all()
    return {r.id: RecordFacts(r.agency_id, r.record_class, r.tlp, r.handling, r.status, r.sharing_terms) for r in found}
