"""The store: one interface over SQLite (embedded default) and PostgreSQL (production).

Dialect differences (pragmas, upsert, bulk copy) live here and nowhere else.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, select, update

from fusionhub.config import Settings
from fusionhub.model.types import InvalidValue
from fusionhub.store import tables as t

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)
#: ``connection.info`` key of the callables to run after a ``Store.begin`` transaction commits.
AFTER_COMMIT = "after_commit"
NUL_REFUSAL = "a text value may not contain the NUL character (U+0000)"


class StoreError(Exception):
    """The store cannot do what was asked (not initialised, unreachable, ...)."""


class UnstorableText(InvalidValue):
    """A text no statement may carry: PostgreSQL refuses U+0000 (NUL) in every text, even a
    looked-up name. Raised for the database's own refusal, so the caller hears of a bad
    value rather than of a failing store; SQLite takes such a text and finds nothing."""


def _refuses_nul(exc: BaseException) -> bool:
    """PostgreSQL's refusal, through SQLAlchemy or straight from the driver's cursor (PEP 249 names
    the class ``DataError`` in every driver)."""
    return type(exc).__name__ == "DataError" and "cannot contain NUL" in str(exc)


@contextmanager
def _nul_is_a_bad_value() -> Iterator[None]:
    """Around a connection's block: the database's refusal of a NUL, once rolled back, as ``UnstorableText``."""
    try:
        yield
    except Exception as exc:
        if _refuses_nul(exc):
            raise UnstorableText(NUL_REFUSAL) from exc
        raise


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, say when a transaction begins (see ``_sqlite_begin``).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


class WriterQueue:
    """SQLite's writers, queued: one thread of one process at a time, waiting in line.

    SQLite allows one writer; a second ``BEGIN IMMEDIATE`` is retried by the busy
    handler, which sleeps 1, 2, 5, 10 ... 100 ms between tries. Under many short write
    transactions (every record view and search writes its audit event) the sleepers
    kept missing the moment the lock was free: at 50 concurrent web users some waited
    seconds behind writers that each held the lock for a millisecond. Here the threads
    of a process queue on a lock, and the processes on an ``flock`` of a file beside
    the database, both of which wake the next waiter as soon as the lock is released.
    The busy timeout stays as the fallback for writers outside FusionHub.

    One queue per database file and process (:meth:`of`), shared by every ``Store`` on
    it, so a write opened inside another write in the same thread (on another ``Store``)
    fails on the busy timeout as it always did instead of waiting for itself.
    """

    _queues: ClassVar[dict[Path, WriterQueue]] = {}
    _queues_lock = threading.Lock()

    @classmethod
    def of(cls, database: Path) -> WriterQueue:
        with cls._queues_lock:
            queue = cls._queues.get(database)
            if queue is None:
                queue = cls._queues[database] = cls(database)
            return queue

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + "-writer.lock")
        self._threads = threading.Lock()
        self._local = threading.local()
        self._fd: int | None = None
        self._fd_lock = threading.Lock()

    def _after_fork(self) -> None:
        # A forked child starts with its own locks (a parent's thread may have held them)
        # and its own open file (a shared one would share the parent's lock).
        self._threads = threading.Lock()
        self._fd_lock = threading.Lock()
        self._local = threading.local()
        self._fd = None

    def _file(self) -> int | None:
        with self._fd_lock:
            if self._fd is None:
                try:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                except OSError:  # a read-only folder: fall back to the busy handler
                    log.warning("cannot open %s; SQLite writers fall back to the busy timeout", self.path)
                    self._fd = -1
            return None if self._fd < 0 else self._fd

    @contextmanager
    def turn(self) -> Iterator[None]:
        depth = getattr(self._local, "depth", 0)
        if depth:
            # A write inside a write on another connection: it was never possible (the
            # busy timeout ends it); do not deadlock on our own lock instead.
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        with self._threads:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)


class WalCheckpointer:
    """Copies a SQLite store's write-ahead log into the database from a thread of its own.

    Left to the writers, the commit that took the log past 1,000 pages (~4 MB) also
    copied them into the database and synced both files before returning, ~10 ms while
    holding the writers' queue. At 50 web users that was one commit in 80, every writer
    of every process waited behind it, and the server processes sat ~23% idle with
    requests waiting. Here a thread copies the log every ``INTERVAL`` seconds outside
    the queue (a PASSIVE checkpoint: writers go on appending meanwhile). Once the log
    holds ``RESTART_PAGES``, it copies what it can, then takes its turn in the queue for
    a RESTART checkpoint: only the pages written since remain to copy, and when the
    readers have left the log the next writer starts it again from the beginning, so the
    file stays a few MB. Writers keep SQLite's own checkpoint at ``WRITER_PAGES`` should
    this thread fall behind.
    """

    INTERVAL = 0.1
    RESTART_PAGES = 4096
    WRITER_PAGES = 16384
    #: How long the RESTART checkpoint waits for readers to leave the log before trying
    #: again later (it holds the writers' queue meanwhile).
    READER_WAIT_MS = 50

    def __init__(self, database: Path, writers: WriterQueue) -> None:
        self.database, self.writers = database, writers
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = self.restarts = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        import sqlite3

        connection = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
        try:
            connection.execute(f"PRAGMA busy_timeout={self.READER_WAIT_MS}").close()
            while not self._stop.wait(self.INTERVAL):
                try:
                    self.checkpoint(connection)
                except sqlite3.Error as exc:  # a locked or busy database: the next pass
                    log.warning("WAL checkpoint of %s: %s", self.database, exc)
        finally:
            connection.close()

    def checkpoint(self, connection: Any) -> None:
        """One pass: copy the log; restart it once it is ``RESTART_PAGES`` long."""
        _busy, pages, _copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.passes += 1
        if pages >= self.RESTART_PAGES:
            with self.writers.turn():
                busy, _pages, _copied = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            self.restarts += not busy


def _queues_after_fork() -> None:
    for queue in WriterQueue._queues.values():
        queue._after_fork()


os.register_at_fork(after_in_child=_queues_after_fork)


class Store:
    def __init__(self, url: str | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env(url)
        self.url = url or self.settings.store_url
        if self.url.startswith("postgresql://"):
            self.url = "postgresql+psycopg://" + self.url.removeprefix("postgresql://")
        self.dialect = "sqlite" if self.url.startswith("sqlite") else "postgresql"
        kwargs: dict[str, Any] = {"future": True, "json_deserializer": json_loads}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
            if ":memory:" in self.url:
                raise StoreError("an in-memory SQLite store cannot be shared; use a file")
            # Keep connections open: closing the last connection to a WAL database
            # checkpoints it, which made every short transaction (a search's audit
            # event) cost ~10 ms more than the work it did.
            kwargs["pool_size"] = 5
            kwargs["pool_pre_ping"] = False
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", self._sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        database = self.engine.url.database if self.dialect == "sqlite" else None
        self.writers: WriterQueue | None = WriterQueue.of(Path(database).resolve()) if database else None
        self.checkpointer: WalCheckpointer | None = None
        self.engine.dialect._json_serializer = _json_dumps  # type: ignore[attr-defined]

    def _sqlite_connect(self, dbapi_connection: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, record)
        if self.checkpointer is not None:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={WalCheckpointer.WRITER_PAGES}").close()

    def checkpoint_in_background(self) -> None:
        """Copy SQLite's write-ahead log into the database from a thread of this process
        rather than in the commits of its writers (see :class:`WalCheckpointer`); for a
        long-running process of many short transactions, the server. Nothing on PostgreSQL."""
        if self.dialect != "sqlite" or self.checkpointer is not None or self.writers is None:
            return
        self.checkpointer = WalCheckpointer(Path(str(self.engine.url.database)), self.writers)
        self.engine.dispose()  # pooled connections reopen with the writers' fallback setting
        self.checkpointer.start()

    def stop_background_checkpoints(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
            self.engine.dispose()

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    # -- schema -------------------------------------------------------------------
    def _alembic(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def init(self) -> None:
        """Create or upgrade the schema to the newest revision. Safe to run twice."""
        with self.begin() as connection:
            command.upgrade(self._alembic(connection), "heads")

    def is_current(self) -> bool:
        with self.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
            heads = set(ScriptDirectory.from_config(self._alembic(connection)).get_heads())
        return current == heads

    def require_initialised(self) -> None:
        try:
            current = self.is_current()
        except Exception as exc:  # unreachable server, unreadable file
            raise StoreError(f"cannot open the store {self.safe_url}: {exc}") from exc
        if not current:
            raise StoreError(f"the store {self.safe_url} is not initialised or not current: run `fusionhub init`")

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # -- transactions ------------------------------------------------------------
    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back on error.

        Callables a writer puts in ``connection.info[AFTER_COMMIT]`` (a dict, by name) run
        once the transaction has committed and its locks are released; not on rollback.
        """
        hooks: dict[str, Callable[[], None]] = {}
        # The connection is taken from the pool and given back outside the writers'
        # queue: only the transaction holds the write lock.
        with _nul_is_a_bad_value(), self.engine.connect() as connection:
            connection.info["writer"] = self.writers is not None
            connection.info[AFTER_COMMIT] = {}
            try:
                with self.writers.turn() if self.writers is not None else nullcontext(), connection.begin():
                    yield connection
            finally:
                connection.info.pop("writer", None)
                hooks = connection.info.pop(AFTER_COMMIT, {})
        for hook in hooks.values():
            hook()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with _nul_is_a_bad_value(), self.engine.connect() as connection:
            yield connection

    def allocate_seq(self, connection: Connection, count: int = 1) -> int:
        """Reserve ``count`` change numbers; return the first.

        The counter row stays locked until the caller's transaction ends, so change
        numbers become visible in the order they were allocated: a follower that has
        read up to N never later meets a committed change below N.
        """
        if count < 1:
            raise ValueError("count must be positive")
        row = connection.execute(
            update(t.store_counter)
            .where(t.store_counter.c.name == "change_seq")
            .values(value=t.store_counter.c.value + count)
            .returning(t.store_counter.c.value)
        ).scalar_one()
        return int(row) - count + 1

    def last_seq(self, connection: Connection | None = None) -> int:
        query = select(t.store_counter.c.value).where(t.store_counter.c.name == "change_seq")
        if connection is not None:
            return int(connection.execute(query).scalar_one())
        with self.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def dispose(self) -> None:
        self.stop_background_checkpoints()
        self.engine.dispose()


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock at BEGIN, so two writers queue instead of one failing
    # halfway through a batch; readers begin deferred and never wait for a writer (WAL).
    connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.info.get("writer") else "BEGIN")


#: A run of digits that may be an integer beyond 64 bits, which orjson reads as a float.
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_BYTES = re.compile(rb"\d{19}")


def json_loads(text: str | bytes) -> Any:
    """Decode a stored JSON document: orjson, several times faster on the payloads a page
    of search hits reads; the standard library for what orjson would read differently
    (integers beyond 64 bits, which it turns into floats) or refuses (lone surrogate
    escapes, NaN), so every stored document reads back exactly as written."""
    long_digits = _LONG_DIGITS_BYTES if isinstance(text, bytes) else _LONG_DIGITS
    if long_digits.search(text) is None:  # type: ignore[arg-type]
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
