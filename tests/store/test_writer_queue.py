"""SQLite writers queue (threads on a lock, processes on an flock) instead of sleeping in
the busy handler; a write inside a write still fails rather than waiting for itself."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError

from fusionhub.store import Store
from fusionhub.store import tables as t

HOLD_WRITE = """
import sys, time
from fusionhub.store import Store
store = Store(sys.argv[1])
with store.begin() as conn:
    store.allocate_seq(conn)
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _counter(store: Store) -> int:
    return store.last_seq()


def test_many_threads_of_short_writes_all_commit_in_turn(sqlite_store: Store) -> None:
    store = sqlite_store
    start = _counter(store)
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(25):
                with store.begin() as conn:
                    # Read, then write what was read: lost updates would show in the total.
                    value = conn.execute(
                        select(t.store_counter.c.value).where(t.store_counter.c.name == "change_seq")
                    ).scalar_one()
                    conn.execute(
                        update(t.store_counter).where(t.store_counter.c.name == "change_seq").values(value=value + 1)
                    )
        except BaseException as exc:  # collected for the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _counter(store) == start + 12 * 25


def test_a_writer_in_another_process_is_waited_for(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    script = tmp_path / "hold.py"
    script.write_text(HOLD_WRITE)
    holder = subprocess.Popen([sys.executable, str(script), store.url, "1.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        before = _counter(store)  # the holder's change is not committed yet
        with store.begin() as conn:  # queued behind the other process's transaction
            seq = store.allocate_seq(conn)
        assert seq == before + 2  # the holder's change was committed first, then this one
    finally:
        assert holder.wait(timeout=60) == 0


def test_a_write_inside_a_write_fails_instead_of_waiting_for_itself(sqlite_store: Store) -> None:
    store = sqlite_store
    other = Store(store.url)  # a second Store on the same file shares its writer queue

    def short_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")  # SQLite's own wait, shortened for the test

    event.listen(other.engine, "connect", short_wait)
    try:
        with store.begin() as conn:
            store.allocate_seq(conn)
            with pytest.raises(OperationalError, match="locked"), other.begin() as inner:
                other.allocate_seq(inner)
    finally:
        other.dispose()
