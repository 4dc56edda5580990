"""The audit chain on both engines: any edit, deletion (including the newest events),
insertion or reordering of audit rows is detected and the first bad event named."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.policy.audit import bind, read_checkpoint, record_event, verify
from fusionhub.store import Store


def _events(store: Store, n: int = 6) -> None:
    for i in range(n):
        with store.begin() as conn:
            record_event(conn, "ana", "record.view", f"record:{i + 1}", {"record_id": i + 1}, "case 24-001")


def _unguarded(store: Store, conn: Connection) -> None:
    """What a database owner can do: drop the append-only triggers."""
    if store.dialect == "sqlite":
        conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(text("DROP TRIGGER audit_event_no_delete"))
    else:
        conn.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))


def _tamper(store: Store, *statements: str | tuple[str, dict[str, object]]) -> None:
    with store.begin() as conn:
        _unguarded(store, conn)
        for statement in statements:
            sql, params = (statement, {}) if isinstance(statement, str) else statement
            conn.execute(text(sql), params)


def _cli_verify(store: Store) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--store", store.url, "audit", "verify"])
    return result.exit_code, result.output


def test_intact_chain_verifies_and_is_checkpointed(store: Store) -> None:
    _events(store)
    result = verify(store)
    # Six views, and the policy in force recorded once by the first event of the process.
    assert result.ok and result.events == 7 and result.head_seq == 7
    point = read_checkpoint(bind(store))
    assert point is not None and point.seq == 7
    code, output = _cli_verify(store)
    assert code == 0 and "intact" in output


def test_rows_are_append_only(store: Store) -> None:
    _events(store, 2)
    with pytest.raises(DBAPIError), store.begin() as conn:
        conn.execute(text("UPDATE audit_event SET username = 'mallory' WHERE id = 1"))
    with pytest.raises(DBAPIError), store.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE id = 2"))
    assert verify(store).ok


def test_rolled_back_action_leaves_no_event(store: Store) -> None:
    _events(store, 2)
    with pytest.raises(RuntimeError), store.begin() as conn:
        record_event(conn, "ana", "export", None, {})
        raise RuntimeError("the export failed")
    result = verify(store)
    assert result.ok and result.events == 3


def test_edited_event_is_named(store: Store) -> None:
    _events(store)
    _tamper(store, "UPDATE audit_event SET purpose = 'curiosity' WHERE id = 3")
    result = verify(store)
    assert not result.ok and result.first_bad == 3 and "edited" in (result.problem or "")
    code, output = _cli_verify(store)
    assert code == 6 and "event 3" in output


def test_deleted_event_is_named(store: Store) -> None:
    _events(store)
    _tamper(store, "DELETE FROM audit_event WHERE id = 4")
    result = verify(store)
    assert not result.ok and result.first_bad == 4 and "missing" in (result.problem or "")


def test_deleting_newest_events_and_head_is_caught_by_checkpoint(store: Store) -> None:
    _events(store)
    with store.connect() as conn:
        fourth = conn.execute(text("SELECT hash FROM audit_event WHERE id = 4")).scalar_one()
    _tamper(
        store,
        "DELETE FROM audit_event WHERE id > 4",  # the three newest
        f"UPDATE audit_head SET seq = 4, hash = '{fourth}'",
    )
    result = verify(store)
    assert not result.ok and result.first_bad == 5 and "checkpoint" in (result.problem or "")


def test_deleting_newest_events_only_is_caught_by_head(store: Store) -> None:
    _events(store)
    _tamper(store, "DELETE FROM audit_event WHERE id = 7")
    result = verify(store)
    assert not result.ok and result.first_bad == 7


def test_inserted_event_is_named(store: Store) -> None:
    _events(store)
    forged = "'" + "ab" * 32 + "'"
    _tamper(
        store,
        "INSERT INTO audit_event (id, ts, username, action, subject, purpose, ip, details, hash) "
        f"VALUES (8, '2026-01-01T00:00:00.000000+00:00', 'ana', 'login.success', NULL, NULL, NULL, '{{}}', {forged})",
        f"UPDATE audit_head SET seq = 8, hash = {forged}",
    )
    result = verify(store)
    assert not result.ok and result.first_bad == 8


def test_inserted_event_in_the_middle_is_named(store: Store) -> None:
    _events(store)
    # Make room by shifting the newest rows up, then slip a row in at 4.
    with store.connect() as conn:
        rows = conn.execute(text("SELECT id FROM audit_event WHERE id >= 4 ORDER BY id DESC")).all()
    statements: list[str | tuple[str, dict[str, object]]] = []
    for row in rows:
        statements.append(f"UPDATE audit_event SET id = {row.id + 1} WHERE id = {row.id}")
    statements.append(
        "INSERT INTO audit_event (id, ts, username, action, subject, purpose, ip, details, hash) "
        "VALUES (4, '2026-01-01T00:00:00.000000+00:00', 'ana', 'login.success', NULL, NULL, NULL, '{}', 'x')"
    )
    _tamper(store, *statements)
    result = verify(store)
    assert not result.ok and result.first_bad == 4


def test_reordered_events_are_named(store: Store) -> None:
    _events(store)
    with store.connect() as conn:
        two, three = (
            conn.execute(text(f"SELECT ts, subject, details, hash FROM audit_event WHERE id = {i}")).one()
            for i in (2, 3)
        )

    def put(row_id: int, row: object) -> tuple[str, dict[str, object]]:
        ts, subject, details, digest = row  # type: ignore[misc]
        return (
            "UPDATE audit_event SET ts = :ts, subject = :subject, details = :details, hash = :hash WHERE id = :id",
            {"ts": ts, "subject": subject, "details": details, "hash": digest, "id": row_id},
        )

    _tamper(store, put(2, three), put(3, two))
    result = verify(store)
    assert not result.ok and result.first_bad == 2


def test_altered_checkpoint_file_is_reported(store: Store) -> None:
    _events(store, 3)
    path = bind(store).checkpoint
    data = json.loads(path.read_text())
    data["seq"] = 2
    path.write_text(json.dumps(data))
    result = verify(store)
    assert not result.ok and "altered" in (result.problem or "")


def test_separator_in_user_text_cannot_shift_fields(store: Store) -> None:
    with store.begin() as conn:
        record_event(conn, "ana", "search", "search", {"query": "x\x1fy"}, "case 24-001\x1fevil", "10.0.0.1")
    assert verify(store).ok
    # Moving text across the field boundary (purpose -> ip) is detected.
    _tamper(
        store,
        (
            "UPDATE audit_event SET purpose = :p, ip = :ip WHERE id = 1",
            {"p": "case 24-001 evil\x1f10.0.0.1", "ip": None},
        ),
    )
    result = verify(store)
    assert not result.ok and result.first_bad == 1


def test_policy_change_is_audited(store: Store, tmp_path: object) -> None:
    from pathlib import Path

    from fusionhub.policy.audit import _POLICY_NOTED
    from fusionhub.policy.rules import POLICY_FILE

    _events(store, 1)
    changed = Path(str(tmp_path)) / "policy.yaml"
    changed.write_text(POLICY_FILE.read_text().replace('version: "2026-11-26"', 'version: "2026-12-01"'))
    import os

    os.environ["FUSIONHUB_POLICY"] = str(changed)
    try:
        _POLICY_NOTED.pop(store.engine, None)  # a new process
        _events(store, 1)
    finally:
        del os.environ["FUSIONHUB_POLICY"]
    with store.connect() as conn:
        rows = conn.execute(text("SELECT details FROM audit_event WHERE action = 'policy.change' ORDER BY id")).all()
    assert len(rows) == 2
    second = json.loads(rows[1].details)
    assert second["version"] == "2026-12-01" and second["previous_sha256"] == json.loads(rows[0].details)["sha256"]
