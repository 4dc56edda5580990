"""``fusionhub demo`` against real stores: it loads everything, and a second run changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.demo.loader import DEMO_USERS
from fusionhub.policy.identity import actor_for
from fusionhub.policy.reader import RecordReader
from fusionhub.store import Store
from fusionhub.store import tables as t


def run_demo(store: Store, *args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["--store", store.url, "demo", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def snapshot(store: Store) -> dict[str, int]:
    with store.connect() as conn:
        counts = {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (t.agency, t.source, t.app_user, t.record, t.record_version, t.ingest_batch, t.quarantine)
        }
    counts["seq"] = store.last_seq()
    return counts


def test_demo_loads_and_second_run_changes_nothing(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    first = run_demo(store, "--size", "600", "--seed", "4", "--out", str(out), "--no-real")
    assert first["stored"] == 600 and first["rejected"] == 0
    assert set(first["users_added"]) == {u[0] for u in DEMO_USERS}
    assert len(first["sources_added"]) == 4
    before = snapshot(store)
    assert before["record"] == 600 and before["app_user"] == len(DEMO_USERS)
    second = run_demo(store, "--size", "600", "--seed", "4", "--out", str(out), "--no-real")
    assert second["stored"] == second["updated"] == 0
    assert not second["users_added"] and not second["sources_added"] and not second["agencies_added"]
    assert {i["status"] for i in second["imports"]} == {"already imported"}
    assert snapshot(store) == before
    # The demo users exist with their roles and can read demo records through the policy.
    analyst = actor_for(store, "ana")
    assert analyst.roles == frozenset({"analyst"})
    with store.connect() as conn:
        record_id = conn.execute(select(t.record.c.id).order_by(t.record.c.id).limit(1)).scalar_one()
    view = RecordReader(store, analyst, "case 24-001").get(record_id)
    assert view.payload["entities"]
    # The demo's law-enforcement agencies hold participation agreements: releases work.
    from fusionhub.ingest.sources import list_agencies
    from fusionhub.policy.dissemination import disseminate

    kinds = {a.code: a.kind for a in list_agencies(store)}
    recipient = next(a for a in first["agencies_added"] if a != analyst.agency and kinds[a] == "law-enforcement")
    release = disseminate(store, analyst, [record_id], recipient, "Det. Demo", "joint case 24-001")
    assert release.record_ids == [record_id]


def test_demo_loads_the_real_files_that_have_a_profile(sqlite_store: Store, tmp_path: Path) -> None:
    body = run_demo(sqlite_store, "--size", "200", "--out", str(tmp_path / "demo"))
    real = [i for i in body["imports"] if not i["source"].startswith("demo-")]
    assert any(i["source"] == "berkeley-cfs" and i["stored"] > 3000 for i in real)
    missing = {"stlouis_slmpd", "houston_hpd", "chicago_cpd"} - {Path(i["file"]).parent.name for i in real}
    for folder in missing:
        assert any(note.startswith(folder) for note in body["notes"])
    again = run_demo(sqlite_store, "--size", "200", "--out", str(tmp_path / "demo"))
    assert again["stored"] == again["updated"] == 0
