"""SQLite's write-ahead log copied by a thread of the process, not in its writers' commits."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from fusionhub.store import Store
from fusionhub.store.store import WalCheckpointer


def _log_pages(database: Path) -> int:
    """Pages in the log not yet copied back (0 once a checkpoint copied them all)."""
    with sqlite3.connect(database) as probe:
        _busy, pages, copied = probe.execute("PRAGMA wal_checkpoint(NOOP)").fetchone()
    return int(pages) - int(copied)


def _writes(store: Store, count: int) -> None:
    with store.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (n INTEGER PRIMARY KEY, body TEXT)"))
    for n in range(count):
        with store.begin() as conn:
            conn.execute(text("INSERT INTO filler (body) VALUES (:body)"), {"body": f"{n:08d}" * 600})


def test_writers_leave_the_log_to_the_thread_which_keeps_it_short(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WalCheckpointer, "INTERVAL", 0.01)
    monkeypatch.setattr(WalCheckpointer, "RESTART_PAGES", 40)
    database = Path(str(sqlite_store.engine.url.database))
    sqlite_store.checkpoint_in_background()
    checkpointer = sqlite_store.checkpointer
    assert checkpointer is not None
    with sqlite_store.engine.connect() as conn:
        # The writers' own checkpoint is only the fallback, far beyond the thread's.
        autocheckpoint = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
    assert autocheckpoint == WalCheckpointer.WRITER_PAGES
    _writes(sqlite_store, 400)  # ~5 KB each: ~800 pages of log in all
    deadline = time.monotonic() + 30
    while checkpointer.restarts < 3 or _log_pages(database) > 0:
        assert time.monotonic() < deadline, (checkpointer.passes, checkpointer.restarts)
        time.sleep(0.02)
    # The log was begun again from its start: the file is a few restarts' worth, not all 400 writes.
    assert database.with_name(database.name + "-wal").stat().st_size < 400 * 4096
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM filler")).scalar_one() == 400
    sqlite_store.stop_background_checkpoints()
    assert not any(t.name == "wal-checkpoint" for t in threading.enumerate())
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000


def test_without_the_thread_writers_checkpoint_as_sqlite_does(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
    assert sqlite_store.checkpointer is None


def test_postgresql_has_no_log_to_copy(store: Store) -> None:
    store.checkpoint_in_background()
    assert (store.checkpointer is None) == (store.dialect == "postgresql")
    store.stop_background_checkpoints()
