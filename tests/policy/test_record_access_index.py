"""The record-access index ("who looked at record X") follows the audit chain: a look
writes its event alone, ``index_record_access`` derives the rows from the events."""

from __future__ import annotations

import time

import pytest
from alembic import command
from sqlalchemy import func, select

from fusionhub.policy import audit
from fusionhub.policy.audit import ACCESS_FOLLOWER, RecordAccessFollower, index_record_access, query, record_event
from fusionhub.policy.reader import RecordReader
from fusionhub.store import Store
from fusionhub.store import policy_tables as pt
from fusionhub.store.followers import get_cursor
from tests import factories
from tests.policy.conftest import make_record, make_source


def _access(store: Store) -> list[tuple[int, int]]:
    a = pt.audit_record_access.c
    with store.connect() as conn:
        return [
            (int(e), int(r)) for e, r in conn.execute(select(a.event_id, a.record_id).order_by(a.event_id, a.record_id))
        ]


def _head(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.max(pt.audit_event.c.id))).scalar_one())


def test_looks_are_indexed_from_their_events_once(store: Store) -> None:
    src = make_source(store, "rms", "PD1", {})
    first, second = make_record(store, src), make_record(store, src, key="r2")
    ana = factories.user(store, "ana")
    RecordReader(store, ana, "case 24-001").get(first)
    with store.begin() as conn:
        shown = record_event(conn, ana, "search", None, {"query": "x", "record_ids": [second, first, second]})
    assert _access(store) == []  # the looks wrote their events only

    indexed = index_record_access(store)
    assert indexed == _head(store)  # every event read, those naming no record too
    viewed = max(e for e, r in _access(store) if r == first and e != shown)
    assert _access(store) == sorted([(viewed, first), (shown, first), (shown, second)])
    with store.connect() as conn:
        assert get_cursor(conn, ACCESS_FOLLOWER) == _head(store)

    assert index_record_access(store) == 0
    assert len(_access(store)) == 3  # nothing twice


def test_a_query_by_record_catches_up_first(store: Store) -> None:
    src = make_source(store, "rms", "PD1", {})
    rid = make_record(store, src)
    ana = factories.user(store, "ana")
    auditor = factories.user(store, "aud", roles=("auditor",))
    RecordReader(store, ana, "case 24-001").get(rid)
    assert [(e.username, e.action) for e in query(store, auditor, record_id=rid)] == [("ana", "record.view")]


def test_events_are_indexed_in_chunks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "ACCESS_CHUNK", 3)
    src = make_source(store, "rms", "PD1", {})
    rid = make_record(store, src)
    ana = factories.user(store, "ana")
    for _ in range(10):
        RecordReader(store, ana, "case 24-001").get(rid)
    index_record_access(store)
    assert len([r for _, r in _access(store) if r == rid]) == 10
    with store.connect() as conn:
        assert get_cursor(conn, ACCESS_FOLLOWER) == _head(store)


def test_the_web_servers_follower_indexes_new_looks(store: Store) -> None:
    src = make_source(store, "rms", "PD1", {})
    rid = make_record(store, src)
    ana = factories.user(store, "ana")
    follower = RecordAccessFollower(store, every=0.05)
    follower.start()
    try:
        RecordReader(store, ana, "case 24-001").get(rid)
        deadline = time.monotonic() + 30
        while not _access(store) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        follower.stop()
    assert [r for _, r in _access(store)] == [rid]


def test_upgrading_a_store_whose_looks_wrote_their_rows_indexes_none_again(store: Store) -> None:
    src = make_source(store, "rms", "PD1", {})
    rid = make_record(store, src)
    ana = factories.user(store, "ana")
    RecordReader(store, ana, "case 24-001").get(rid)
    index_record_access(store)
    rows = _access(store)
    with store.begin() as conn:
        command.downgrade(store._alembic(conn), "0005_record_access-1")
        assert conn.execute(select(func.count()).select_from(pt.audit_record_access)).scalar_one() == len(rows)
    with store.begin() as conn:
        command.upgrade(store._alembic(conn), "heads")
    with store.connect() as conn:
        assert get_cursor(conn, ACCESS_FOLLOWER) == _head(store)
    assert index_record_access(store) == 0 and _access(store) == rows
