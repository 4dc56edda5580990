"""Resolution over the store: full and incremental runs, strong identifiers."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fusionhub.resolve import resolver
from fusionhub.resolve.deterministic import entity_keys
from fusionhub.store import Store
from fusionhub.store import resolve_tables as rt
from fusionhub.store import tables as t
from tests.resolve.conftest import canonical, ingest_rows, seed_model


def _partition(store: Store) -> set[frozenset[str]]:
    """Person clusters as sets of source record ids."""
    r, e = t.record.c, rt.resolve_entity.c
    groups: dict[str, set[str]] = {}
    with store.connect() as conn:
        for rid, canon in conn.execute(
            select(r.source_record_id, e.canonical_id).join(t.record, r.id == e.record_id).where(e.schema == "Person")
        ):
            groups.setdefault(canon, set()).add(rid)
    return {frozenset(g) for g in groups.values()}


def _f1(partition: set[frozenset[str]], persons: list[dict[str, str]]) -> float:
    truth_of = {p["rec_id"]: p["person_id"] for p in persons}
    predicted = {tuple(sorted(p)) for g in partition for p in itertools.combinations(g, 2)}
    by: dict[str, list[str]] = {}
    for rec, person in truth_of.items():
        by.setdefault(person, []).append(rec)
    truth = {tuple(sorted(p)) for g in by.values() for p in itertools.combinations(g, 2)}
    return 2 * len(predicted & truth) / (len(predicted) + len(truth))


def test_incremental_batch_is_resolved_against_existing_entities(
    store: Store, tmp_path: Path, persons: list[dict[str, str]], trained_model: dict[str, Any]
) -> None:
    seed_model(store, trained_model)
    ingest_rows(store, tmp_path, "rms-a", persons[:500])
    first = resolver.run(store, full=True)
    assert first.records == 500 and not first.trained and first.model_version == 1
    ingest_rows(store, tmp_path, "rms-a", persons[500:])
    second = resolver.run(store)
    # Only the new batch was read: the run followed the change sequence from its cursor.
    assert second.mode == "incremental"
    assert second.from_seq == first.to_seq
    assert second.records == 100
    assert resolver.status(store)["cursor"] == resolver.status(store)["store_seq"]
    incremental = _partition(store)
    assert _f1(incremental, persons) >= 0.95
    # A person of the new batch whose earlier record was in the first batch joined it.
    old = {p["person_id"]: p["rec_id"] for p in persons[:500]}
    both = [p for p in persons[500:] if p["person_id"] in old and p["variation"] in ("original", "typo", "moved")]
    assert both
    assert canonical(store, both[0]["rec_id"]) == canonical(store, old[both[0]["person_id"]])
    # Resolving the new batch incrementally gives the clusters a full run gives.
    resolver.run(store, full=True)
    assert _partition(store) == incremental
    # Nothing changed: a run reads nothing.
    assert resolver.run(store).records == 0


def test_strong_identifier_links_without_the_model(
    store: Store, tmp_path: Path, persons: list[dict[str, str]], trained_model: dict[str, Any]
) -> None:
    seed_model(store, trained_model)
    base = dict(persons[0], rec_id="X1", ssn="123456789")
    # Same SSN, nothing else alike: the model alone would never join these two.
    other = dict(
        persons[1], rec_id="X2", ssn="123-45-6789", given="ZEBEDEE", surname="QUANTRILL", dob="1999-12-31", phone=""
    )
    stranger = dict(persons[2], rec_id="X3", ssn="987654321")
    ingest_rows(store, tmp_path, "rms-a", [base, stranger])
    ingest_rows(store, tmp_path, "rms-b", [other], agency="PD2")
    resolver.run(store, full=True)
    assert canonical(store, "X1") == canonical(store, "X2")
    assert canonical(store, "X3") != canonical(store, "X1")
    with store.connect() as conn:
        kinds = {row.kind: row.evidence for row in conn.execute(select(rt.resolve_pair))}
    assert kinds["identifier"]["identifier"] == "ssn"


def test_vehicle_keys_need_vin_or_plate_state_and_year() -> None:
    vehicle = {"id": "v1", "schema": "Vehicle", "properties": {"vin": ["1HGCM82633A004352"], "plate": ["7ABC123"]}}
    keys = list(entity_keys(vehicle, [vehicle], {"occurred_at": "2024-05-01T10:00:00"}))
    assert keys == ["vin||1HGCM82633A004352"]  # a plate without its state identifies nothing
    vehicle["properties"]["plateState"] = ["CA"]
    keys = list(entity_keys(vehicle, [vehicle], {"occurred_at": "2024-05-01T10:00:00"}))
    assert "plate|CA|7ABC123@2024" in keys
    later = list(entity_keys(vehicle, [vehicle], {"occurred_at": "2031-01-01"}))
    assert "plate|CA|7ABC123@2031" in later and "plate|CA|7ABC123@2024" not in later


def test_other_identifiers_are_evidence_not_links() -> None:
    person = {"id": "p1", "schema": "Person", "properties": {"firstName": ["ANN"]}}
    ident = {"id": "i1", "schema": "Identifier", "properties": {"number": ["1234567"], "scheme": ["other"]}}
    holds = {"id": "h1", "schema": "Identification", "properties": {"holder": ["p1"], "identifier": ["i1"]}}
    assert list(entity_keys(person, [person, ident, holds], {})) == []
    ident["properties"]["scheme"] = ["ssn"]
    assert list(entity_keys(person, [person, ident, holds], {})) == ["ssn||1234567"]
