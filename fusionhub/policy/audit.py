"""The tamper-evident audit trail.

Every event is appended inside the transaction of the action it records (no action
without its event, no event without its action) and chained: its ``hash`` is
HMAC-SHA256(key, previous hash + canonical event), the key coming from configuration,
never from the database. The chain head is also checkpointed to a file outside the
database after each committed transaction, so deleting the newest events (and rolling
back ``audit_head`` with them) is still detected by :func:`verify`.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, event, insert, select, update

from fusionhub.config import Settings
from fusionhub.policy.actor import Actor
from fusionhub.store import Store
from fusionhub.store import policy_tables as pt
from fusionhub.store.driver import DriverStatement
from fusionhub.store.store import AFTER_COMMIT

log = logging.getLogger(__name__)
GENESIS = "0" * 64
_FIELDS = "id, ts, username, action, subject, purpose, ip, details, hash"


class AuditError(Exception):
    """The audit trail cannot be written or read as asked."""


class AuditForbidden(AuditError):
    """The actor's roles do not include reading the audit trail."""


@dataclass(frozen=True)
class ChainConfig:
    key: bytes
    checkpoint: Path


_CONFIGS: weakref.WeakKeyDictionary[Engine, ChainConfig] = weakref.WeakKeyDictionary()


# -- keys and configuration --------------------------------------------------------
def ensure_key(settings: Settings) -> bytes:
    """The chain's HMAC key: ``FUSIONHUB_AUDIT_KEY`` or the key file (created 0600 if absent)."""
    if settings.audit_key:
        return settings.audit_key.encode()
    path = settings.audit_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it a moment ago
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    text = path.read_text().strip()
    if not text:
        raise AuditError(f"the audit key file {path} is empty")
    return text.encode()


def bind(store: Store) -> ChainConfig:
    """The chain configuration of a store; installs the post-commit checkpoint hook once."""
    config = _CONFIGS.get(store.engine)
    if config is None:
        config = ChainConfig(ensure_key(store.settings), store.settings.audit_checkpoint)
        _install(store.engine, config)
    return config


def _config_for(conn: Connection) -> ChainConfig:
    config = _CONFIGS.get(conn.engine)
    if config is None:
        settings = Settings.from_env(conn.engine.url.render_as_string(hide_password=False))
        config = ChainConfig(ensure_key(settings), settings.audit_checkpoint)
        _install(conn.engine, config)
    return config


def _install(engine: Engine, config: ChainConfig) -> None:
    _CONFIGS[engine] = config

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        # Runs when a connection goes back to the pool, after its transaction committed
        # or rolled back; the head is read from the database, so a rollback writes nothing new.
        if record is None or not record.info.pop("audit_dirty", False):
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT seq, hash FROM audit_head WHERE name = 'chain'")
            row = cursor.fetchone()
            cursor.close()
            dbapi_connection.rollback()
            if row:
                write_checkpoint(config, int(row[0]), str(row[1]))
        except Exception:  # the next committed event writes it again
            log.exception("could not write the audit checkpoint %s", config.checkpoint)

    event.listen(engine, "checkin", on_checkin)


# -- the chain ---------------------------------------------------------------------
def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


#: Field separator of the hashed form of an event. Writers strip it (and NUL, the mark
#: of an absent field) from every text field, and the details are JSON, which escapes
#: control characters; so an event has exactly seven separators and the form is
#: unambiguous. Verification treats any other count as tampering.
SEP = "\x1f"
NONE = "\x00"


def clean(text: str | None) -> str | None:
    return None if text is None else text.replace(SEP, " ").replace(NONE, " ")


def event_message(
    seq: int,
    ts: str,
    username: str,
    action: str,
    subject: str | None,
    purpose: str | None,
    ip: str | None,
    details: str,
) -> bytes:
    return SEP.join(
        (
            str(seq),
            ts,
            username,
            action,
            NONE if subject is None else subject,
            NONE if purpose is None else purpose,
            NONE if ip is None else ip,
            details,
        )
    ).encode()


def chain_hash(key: bytes, previous: str, message: bytes) -> str:
    return hmac.digest(key, previous.encode() + message, "sha256").hex()


# Built once: every audited action (every search) runs them, and composing a statement
# costs more than executing these.
_HEAD = pt.audit_head.c
# They run on the driver's cursor (fusionhub.store.driver): their values are integers
# and strings, and the execution layer's overhead was most of an event's cost.
_NEXT_SEQ = DriverStatement(
    update(pt.audit_head).where(_HEAD.name == "chain").values(seq=_HEAD.seq + 1).returning(_HEAD.seq, _HEAD.hash)
)
_INSERT_EVENT = DriverStatement(insert(pt.audit_event).values({name: bindparam(name) for name in _FIELDS.split(", ")}))
_SET_HEAD = DriverStatement(update(pt.audit_head).where(_HEAD.name == "chain").values(hash=bindparam("digest")))
_INSERT_ACCESS = DriverStatement(
    insert(pt.audit_record_access).values(event_id=bindparam("event_id"), record_id=bindparam("record_id"))
)


def record_event(
    conn: Connection,
    actor_or_username: Actor | str,
    action: str,
    subject: str | None,
    details: dict[str, Any],
    purpose: str | None = None,
    ip: str | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its sequence number.

    ``details["record_ids"]`` (or ``details["record_id"]``) also index the event under
    those records, for "who looked at this record".
    """
    config = _config_for(conn)
    username = str(clean(actor_or_username if isinstance(actor_or_username, str) else actor_or_username.username))
    action, subject, purpose, ip = str(clean(action)), clean(subject), clean(purpose), clean(ip)
    ts = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    body = canonical(details)
    # The update locks the head row until the caller's transaction ends: one chain, in order.
    ((seq, previous),) = _NEXT_SEQ.execute(conn)
    seq = int(seq)
    digest = chain_hash(config.key, previous, event_message(seq, ts, username, action, subject, purpose, ip, body))
    event_row = {
        "id": seq,
        "ts": ts,
        "username": username,
        "action": action,
        "subject": subject,
        "purpose": purpose,
        "ip": ip,
        "details": body,
        "hash": digest,
    }
    _INSERT_EVENT.execute(conn, event_row)
    _SET_HEAD.execute(conn, {"digest": digest})
    ids = list(details.get("record_ids") or [])
    if "record_id" in details and details["record_id"] is not None:
        ids.append(details["record_id"])
    if ids:
        _INSERT_ACCESS.execute_many(conn, [{"event_id": seq, "record_id": int(i)} for i in set(ids)])
    after_commit = conn.info.get(AFTER_COMMIT)
    if after_commit is None:
        conn.info["audit_dirty"] = True  # checkpointed from the database when the connection is returned
    else:
        # Checkpointed once the transaction commits, with the newest event it wrote: no query.
        after_commit["audit checkpoint"] = partial(_checkpoint_committed, config, seq, digest)
    if not _POLICY_NOTED.get(conn.engine) and action != "policy.change":
        _note_policy(conn, now)
    return seq


_POLICY_NOTED: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _note_policy(conn: Connection, now: datetime | None) -> None:
    """Audit a change of the policy file: the first event a process writes compares the
    policy in force with the last one recorded and records a ``policy.change`` if it differs."""
    from fusionhub.policy.rules import load_policy

    policy = load_policy()
    e = pt.audit_event.c
    last = conn.execute(select(e.details).where(e.action == "policy.change").order_by(e.id.desc()).limit(1)).scalar()
    previous = json.loads(last).get("sha256") if last else None
    if previous != policy.sha256:
        record_event(
            conn,
            "system",
            "policy.change",
            "policy",
            {"sha256": policy.sha256, "previous_sha256": previous, "version": policy.version, "path": policy.path},
            now=now,
        )
    _POLICY_NOTED[conn.engine] = True


# -- checkpoint --------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    written_at: str


def _checkpoint_committed(config: ChainConfig, seq: int, digest: str) -> None:
    try:
        write_checkpoint(config, seq, digest)
    except Exception:  # the next committed event writes it again
        log.exception("could not write the audit checkpoint %s", config.checkpoint)


def _checkpoint_mac(key: bytes, seq: int, digest: str) -> str:
    return hmac.digest(key, f"checkpoint:{seq}:{digest}".encode(), "sha256").hex()


def read_checkpoint(config: ChainConfig, path: Path | None = None) -> Checkpoint | None:
    """The checkpointed head; raises AuditError when the file was altered."""
    target = path or config.checkpoint
    if target != config.checkpoint:  # a shipped copy: nobody writes it
        return _read_checkpoint(config, target)
    if not target.exists():
        return None
    # Shared with other readers, exclusive of the writer, which overwrites the file in place.
    with open(_lock_path(target), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        return _read_checkpoint(config, target)


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _read_checkpoint(config: ChainConfig, target: Path) -> Checkpoint | None:
    if not target.exists():
        return None
    return _parse_checkpoint(config, target, target.read_bytes())


def _parse_checkpoint(config: ChainConfig, target: Path, raw: bytes) -> Checkpoint | None:
    try:
        data = json.loads(raw)
        point = Checkpoint(int(data["seq"]), str(data["hash"]), str(data.get("written_at", "")))
        mac = str(data["mac"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"the audit checkpoint {target} is unreadable: {exc}") from exc
    if not hmac.compare_digest(mac, _checkpoint_mac(config.key, point.seq, point.hash)):
        raise AuditError(f"the audit checkpoint {target} does not match its key (altered)")
    return point


#: The checkpoint is one JSON document padded with spaces to this size (one disk sector).
CHECKPOINT_BYTES = 512


def write_checkpoint(config: ChainConfig, seq: int, digest: str) -> None:
    """Record a newer head; never moves the checkpoint backwards.

    The file is overwritten in place, one sector-sized write under the lock, never
    replaced by a renamed copy: on ext4 renaming over an existing file flushes the new
    file's data to disk first, which cost every audited transaction (every search) 0.3
    to 15 ms, while the write itself costs microseconds. A write this small lands in
    one page and one sector; readers take the lock shared, so they never see it half
    done.
    """
    path = config.checkpoint
    lock = _descriptor(path, _lock_path(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        # Opened (created, the first time) under the lock: no reader sees it empty.
        fd = _descriptor(path, path, os.O_RDWR | os.O_CREAT, 0o600)
        raw = os.pread(fd, 4 * CHECKPOINT_BYTES, 0)
        try:
            current = _parse_checkpoint(config, path, raw) if raw.strip() else None
        except AuditError:
            current = None  # an altered file is replaced; verify reports the chain itself
        if current is not None and current.seq >= seq:
            return
        data = {
            "seq": seq,
            "hash": digest,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "mac": _checkpoint_mac(config.key, seq, digest),
        }
        body = (json.dumps(data) + "\n").encode().ljust(CHECKPOINT_BYTES)
        os.pwrite(fd, body, 0)
        if os.fstat(fd).st_size > len(body):  # a longer file written some other way
            os.ftruncate(fd, len(body))
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


#: The checkpoint's lock file and the checkpoint itself, open per process: opening
#: both for every audited transaction cost more than the write.
_DESCRIPTORS: dict[tuple[int, Path], int] = {}


def _descriptor(checkpoint: Path, path: Path, flags: int, mode: int) -> int:
    """This process's descriptor of ``path`` (the checkpoint or its lock file), opened
    again when the file was removed or replaced since."""
    key = (os.getpid(), path)
    fd = _DESCRIPTORS.get(key)
    if fd is not None:
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)
        del _DESCRIPTORS[key]
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    fd = _DESCRIPTORS[key] = os.open(path, flags, mode)
    return fd


def checkpoint(store: Store) -> Checkpoint | None:
    """Write the database's current head to the checkpoint file now."""
    config = bind(store)
    with store.connect() as conn:
        row = conn.execute(select(pt.audit_head.c.seq, pt.audit_head.c.hash)).first()
    if row is None or int(row.seq) == 0:
        return None
    write_checkpoint(config, int(row.seq), str(row.hash))
    return read_checkpoint(config)


# -- verification ------------------------------------------------------------------
@dataclass
class VerifyResult:
    ok: bool
    events: int
    head_seq: int
    checkpoint_seq: int | None
    first_bad: int | None
    problem: str | None
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _rows(store: Store, batch: int = 20000) -> Iterator[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        if store.dialect == "postgresql":
            cursor = raw.cursor(name="fusionhub_audit_verify")  # server-side: constant memory
        else:
            cursor = raw.cursor()
        try:
            cursor.execute(f"SELECT {_FIELDS} FROM audit_event ORDER BY id")
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    break
                yield from rows
        finally:
            cursor.close()
            raw.rollback()


def verify(store: Store, checkpoint_path: Path | None = None) -> VerifyResult:
    """Check the whole chain; names the first event edited, deleted, inserted or reordered."""
    started = time.perf_counter()
    config = bind(store)
    # One keyed HMAC state copied per event: the key's pads are computed once, not 10^6 times.
    keyed = hmac.new(config.key, digestmod=hashlib.sha256)
    sep, none = SEP, NONE
    previous = GENESIS
    expected = 1
    count = 0
    problem: str | None = None
    first_bad: int | None = None
    point: Checkpoint | None = None
    try:
        point = read_checkpoint(config, checkpoint_path)
    except AuditError as exc:
        problem = str(exc)
    point_seq = point.seq if point else None
    for seq, ts, username, action, subject, purpose, ip, details, stored in _rows(store):
        count += 1
        if seq != expected:
            first_bad = expected
            problem = (
                f"event {expected} is missing (deleted)"
                if seq > expected
                else f"event {seq} is out of order (inserted or reordered)"
            )
            break
        message = sep.join(
            (
                str(seq),
                ts,
                username,
                action,
                none if subject is None else subject,
                none if purpose is None else purpose,
                none if ip is None else ip,
                details,
            )
        )
        state = keyed.copy()
        state.update(previous.encode())
        state.update(message.encode())
        computed = state.hexdigest()
        if computed != stored or message.count(sep) != 7:
            first_bad = seq
            problem = f"event {seq} does not match its hash (edited, inserted or reordered)"
            break
        if point is not None and seq == point.seq and computed != point.hash:
            first_bad = seq
            problem = f"event {seq} differs from the checkpointed head (the chain was rewritten)"
            break
        previous = stored
        expected += 1
    last = expected - 1
    with store.connect() as conn:
        head = conn.execute(select(pt.audit_head.c.seq, pt.audit_head.c.hash)).first()
    head_seq = int(head.seq) if head else 0
    if problem is None and head is not None and (head_seq != last or (last and head.hash != previous)):
        first_bad = last + 1 if head_seq > last else head_seq + 1
        problem = (
            f"events {last + 1}..{head_seq} are missing (the newest events were deleted)"
            if head_seq > last
            else f"the chain head says {head_seq} events but {last} are stored (events inserted)"
        )
    if problem is None and point is not None and point.seq > last:
        first_bad = last + 1
        problem = (
            f"events {last + 1}..{point.seq} are missing: the checkpoint outside the database "
            "records them (the newest events were deleted)"
        )
    return VerifyResult(
        ok=problem is None,
        events=count,
        head_seq=head_seq,
        checkpoint_seq=point_seq,
        first_bad=first_bad,
        problem=problem,
        seconds=round(time.perf_counter() - started, 3),
    )


# -- queries -----------------------------------------------------------------------
AUDIT_READERS = ("auditor", "privacy-officer")


@dataclass(frozen=True)
class AuditEvent:
    id: int
    ts: str
    username: str
    action: str
    subject: str | None
    purpose: str | None
    ip: str | None
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def query(
    store: Store,
    actor: Actor,
    *,
    user: str | None = None,
    record_id: int | None = None,
    subject: str | None = None,
    action: str | None = None,
    text: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
    purpose: str | None = None,
) -> list[AuditEvent]:
    """Answer "who looked at this record / person" and "what did user X do between two dates".

    Only auditors and privacy officers read the audit; each query is itself audited.
    """
    if not actor.has(*AUDIT_READERS):
        raise AuditForbidden("only auditors and privacy officers read the audit trail")
    e = pt.audit_event.c
    stmt = select(pt.audit_event)
    if user:
        stmt = stmt.where(e.username == user)
    if record_id is not None:
        accessed = select(pt.audit_record_access.c.event_id).where(pt.audit_record_access.c.record_id == record_id)
        stmt = stmt.where((e.id.in_(accessed)) | (e.subject == f"record:{record_id}"))
    if subject:
        stmt = stmt.where(e.subject == subject)
    if action:
        stmt = stmt.where(e.action.like(action.replace("*", "%")))
    if text:
        pattern = f"%{text}%"
        stmt = stmt.where(e.details.like(pattern) | e.subject.like(pattern) | e.purpose.like(pattern))
    if since:
        stmt = stmt.where(e.ts >= since.astimezone(UTC).isoformat(timespec="microseconds"))
    if until:
        stmt = stmt.where(e.ts <= until.astimezone(UTC).isoformat(timespec="microseconds"))
    stmt = stmt.order_by(e.id).limit(limit)
    filters = {
        k: v
        for k, v in {
            "user": user,
            "record_id": record_id,
            "subject": subject,
            "action": action,
            "text": text,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }.items()
        if v is not None
    }
    with store.begin() as conn:
        rows = conn.execute(stmt).all()
        record_event(conn, actor, "audit.query", None, {"filters": filters, "returned": len(rows)}, purpose)
    return [
        AuditEvent(r.id, r.ts, r.username, r.action, r.subject, r.purpose, r.ip, json.loads(r.details)) for r in rows
    ]


def bulk_chain(
    key: bytes, previous: str, first_seq: int, events: Iterable[tuple[str, str, str, str | None, str | None, str]]
) -> Iterator[dict[str, Any]]:
    """Chain pre-built events (ts, username, action, subject, purpose, details-json) into rows.

    Used by the benchmark to lay down a long chain quickly with the same hashing as
    :func:`record_event`.
    """
    seq = first_seq
    for ts, username, action, subject, purpose, details in events:
        digest = chain_hash(key, previous, event_message(seq, ts, username, action, subject, purpose, None, details))
        yield {
            "id": seq,
            "ts": ts,
            "username": username,
            "action": action,
            "subject": subject,
            "purpose": purpose,
            "ip": None,
            "details": details,
            "hash": digest,
        }
        previous = digest
        seq += 1
