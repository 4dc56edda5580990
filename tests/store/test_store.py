"""The store on both engines: migrations and the change sequence."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from fusionhub.store import Store
from fusionhub.store import tables as t
from fusionhub.store.followers import get_cursor, set_cursor


def test_init_is_idempotent_and_current(store: Store) -> None:
    store.init()
    assert store.is_current()


def test_seq_allocation_is_contiguous_and_rolls_back(store: Store) -> None:
    with store.begin() as conn:
        assert store.allocate_seq(conn, 3) == 1
    try:
        with store.begin() as conn:
            store.allocate_seq(conn, 5)
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    # An aborted transaction leaves no gap.
    with store.begin() as conn:
        assert store.allocate_seq(conn) == 4
    assert store.last_seq() == 4


def test_concurrent_writers_get_distinct_numbers_in_commit_order(store: Store) -> None:
    committed: list[int] = []
    lock = threading.Lock()

    def writer() -> None:
        for _ in range(20):
            with store.begin() as conn:
                first = store.allocate_seq(conn, 2)
                with lock:
                    committed.append(first)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(committed) == list(range(1, 161, 2))
    assert store.last_seq() == 160


def test_index_cursor_round_trip(store: Store) -> None:
    with store.begin() as conn:
        assert get_cursor(conn, "search") == 0
        set_cursor(conn, "search", 42)
        set_cursor(conn, "search", 43)
    with store.connect() as conn:
        assert get_cursor(conn, "search") == 43
        assert conn.execute(select(t.index_cursor.c.name)).scalars().all() == ["search"]


def test_a_nul_in_a_statement_is_a_bad_value_not_a_store_failure(store: Store) -> None:
    from fusionhub.model.types import InvalidValue
    from fusionhub.store.store import UnstorableText

    name = "rms\x00"
    if store.dialect != "postgresql":
        with store.connect() as conn:  # SQLite holds any text: the name is simply not there
            assert conn.execute(select(t.source.c.id).where(t.source.c.name == name)).first() is None
        return
    # PostgreSQL refuses the text in any statement, a lookup included.
    with pytest.raises(UnstorableText) as refused, store.connect() as conn:
        conn.execute(select(t.source.c.id).where(t.source.c.name == name)).first()
    assert isinstance(refused.value, InvalidValue)
    before = store.last_seq()
    with pytest.raises(UnstorableText), store.begin() as conn:
        store.allocate_seq(conn)
        conn.execute(select(t.source.c.id).where(t.source.c.name == name)).first()
    assert store.last_seq() == before  # the refused transaction took nothing with it
    # Driver cursor statements (the audit trail's) are refused the same way.
    with pytest.raises(UnstorableText), store.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.cursor().execute("SELECT %s::text", (name,))
