"""The indexer: keeps the search index in step with the store's change sequence.

THIS IS NOT A USER READ PATH. The indexer reads whole records (every agency, every
class) because the index must hold everything and decide nothing: the policy is applied
when a user searches (the compiled filter inside the index query) and when hits are
hydrated (the policy-filtered store query). Nothing read here is ever shown to anyone.

Catch-up reads the records whose ``seq`` is above the index's own cursor (a record
updated, cancelled or purged takes a new ``seq``, so it comes back), replaces their
documents and commits them together with the new cursor. A crash between the store's
commit and the index's commit loses nothing: the cursor still points before those
changes, and the next catch-up (after the next import, at the next search, or at
start) indexes them. The cursor is mirrored in the store's ``index_cursor`` table so
operators can see how far the index is behind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from fusionhub.search.documents import RecordRow, record_documents
from fusionhub.search.engine import IndexBusy
from fusionhub.search.tantivy_engine import TantivyEngine
from fusionhub.store import Store
from fusionhub.store import tables as t
from fusionhub.store.followers import register_follower, set_cursor

log = logging.getLogger(__name__)
FOLLOWER_NAME = "search"
READ_BATCH = 2000
#: Commit at least this often during a long catch-up, so a crash keeps most of the work.
COMMIT_EVERY = 100_000
_ENGINES: dict[str, TantivyEngine] = {}
_RESOLVED: dict[str, Path] = {}
# The web server answers requests on many threads; the first searches arrive together.
_ENGINES_LOCK = threading.Lock()

Progress = Callable[[int, int], None]  # records indexed so far, last seq


def index_path(store: Store) -> Path:
    return Path(store.data_dir) / "search-index"


def engine_for(store: Store) -> TantivyEngine:
    """The index beside ``store``, opened once per process."""
    folder = index_path(store)
    # One engine per index however its folder is spelled; resolving it took a few system
    # calls on every search, so an absolute spelling is resolved once.
    path = _RESOLVED.get(str(folder)) if folder.is_absolute() else None
    if path is None:
        path = folder.resolve()
        if folder.is_absolute():
            _RESOLVED[str(folder)] = path
    engine = _ENGINES.get(str(path))
    if engine is None:
        with _ENGINES_LOCK:
            engine = _ENGINES.get(str(path))
            if engine is None:
                engine = _ENGINES[str(path)] = TantivyEngine(path)
    return engine


def _changed_records(store: Store, after: int, upto: int, limit: int) -> list[RecordRow]:
    """Records changed after ``after`` (system read for indexing; see the module docstring)."""
    r, s, a = t.record.c, t.source.c, t.agency.c
    query = (
        select(
            r.id,
            r.seq,
            r.status,
            r.agency_id,
            a.code,
            r.source_id,
            s.name,
            s.system,
            r.record_class,
            r.tlp,
            r.handling,
            r.received_at,
            r.occurred_at,
            s.sharing_terms,
            r.payload,
        )
        .join(t.source, s.id == r.source_id)
        .join(t.agency, a.id == r.agency_id)
        .where(r.seq > after, r.seq <= upto)
        .order_by(r.seq)
        .limit(limit)
    )
    with store.connect() as conn:
        return [RecordRow(*row) for row in conn.execute(query)]  # type: ignore[call-arg]


def catch_up(store: Store, engine: TantivyEngine | None = None, progress: Progress | None = None) -> int:
    """Index every change above the index's cursor; return how many records were indexed.

    Returns 0 without waiting when another process is writing the index (it is doing
    the same work).
    """
    engine = engine or engine_for(store)
    cursor = engine.cursor()
    upto = store.last_seq()
    if upto <= cursor:
        return 0
    done = 0
    try:
        with engine.writer() as session:
            since_commit = 0
            while True:
                rows = _changed_records(store, cursor, upto, READ_BATCH)
                if not rows:
                    break
                session.remove_records(row.id for row in rows)
                for row in rows:
                    session.add(record_documents(row))
                cursor = rows[-1].seq
                done += len(rows)
                since_commit += len(rows)
                if since_commit >= COMMIT_EVERY:
                    session.commit(cursor)
                    since_commit = 0
                if progress:
                    progress(done, cursor)
            # Changes may have been rolled back below ``upto``: the cursor still reaches it.
            session.commit(upto)
    except IndexBusy:
        log.info("search index busy in another process; it will catch up there")
        return done
    with store.begin() as conn:
        set_cursor(conn, FOLLOWER_NAME, upto)
    return done


def rebuild(store: Store, progress: Progress | None = None) -> int:
    """Drop the index and index the whole store again."""
    engine = engine_for(store)
    engine.clear()
    return catch_up(store, engine, progress)


def follow(store: Store) -> None:
    """The follower the ingest pipeline notifies after each committed chunk."""
    catch_up(store)


register_follower(FOLLOWER_NAME, follow)
