"""``fusionhub search`` and ``fusionhub index``, as an analyst and an operator run them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.store import Store
from tests import factories
from tests.search.conftest import Draft, Put, entity


def test_search_json_and_index_commands(store: Store, put: Put) -> None:
    source = factories.source(store, "rms-a", "PDA", "rms")
    put(store, source, [Draft("p1", [entity("Person", name="JOHN SMITH", birthDate="1980-05-06")])])
    factories.user(store, "ana", "PDA")
    url = store.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    out = runner.invoke(
        app, ["--store", url, "--as", "ana", "search", 'name:"jon smyth"', "--json", "--purpose", "case 24-001"]
    )
    assert out.exit_code == 0, out.output
    body = json.loads(out.output.strip().splitlines()[-1])
    assert body["total"] == 1
    hit = body["hits"][0]
    assert {"record_id", "entity_type", "score", "matched", "provenance"} <= set(hit)
    assert hit["provenance"]["source"] == "rms-a" and hit["entity_type"] == "Person"
    assert {m["how"] for m in hit["matched"]} >= {"nickname"}
    assert {"agency", "source", "entity_type", "year", "caveat"} <= set(body["facets"])
    text = runner.invoke(app, ["--store", url, "--as", "ana", "search", "smith", "--purpose", "case 24-001"])
    assert "1 found" in text.output and "rms-a" in text.output
    bad = runner.invoke(app, ["--store", url, "--as", "ana", "search", "(smith", "--purpose", "case 24-001"])
    assert bad.exit_code == 2 and "not closed" in bad.output
    rebuilt = runner.invoke(app, ["--store", url, "index", "rebuild"])
    assert rebuilt.exit_code == 0 and json.loads(rebuilt.output.strip().splitlines()[-1])["records"] == 1
    status = json.loads(runner.invoke(app, ["--store", url, "index", "status"]).output.strip().splitlines()[-1])
    assert status["behind"] == 0 and status["documents"] == 1


def test_search_is_audited(store: Store, put: Put) -> None:
    from sqlalchemy import select

    from fusionhub.search.service import search
    from fusionhub.store.policy_tables import audit_event, audit_record_access

    source = factories.source(store, "rms-a", "PDA", "rms")
    put(store, source, [Draft("p1", [entity("Person", name="JOHN SMITH")])])
    actor = factories.user(store, "ana", "PDA")
    result = search(store, actor, "name:smith", purpose="case 24-001")
    with store.connect() as conn:
        row = conn.execute(select(audit_event).where(audit_event.c.action == "search")).one()
        seen = conn.execute(select(audit_record_access.c.record_id).where(audit_record_access.c.event_id == row.id))
        record_ids = seen.scalars().all()
    details = json.loads(row.details)
    assert (row.username, row.purpose, details["query"], details["total"]) == ("ana", "case 24-001", "name:smith", 1)
    assert record_ids == [result.hits[0].record_id]


def test_first_searches_arriving_together_share_one_engine(store: Store, put: Put) -> None:
    """The web server's threads open the index at once on the first requests."""
    from concurrent.futures import ThreadPoolExecutor

    from fusionhub.search import follower
    from fusionhub.search.service import search

    source = factories.source(store, "rms-c", "PDC", "rms")
    put(store, source, [Draft("c1", [entity("Person", name="ROSA PARKS")])], index=False)
    actor = factories.user(store, "cal", "PDC")
    follower._ENGINES.clear()

    def one(_: int) -> int:
        return search(store, actor, "name:parks", purpose="case 24-001").total

    with ThreadPoolExecutor(max_workers=12) as pool:
        totals = list(pool.map(one, range(24)))
    assert totals == [1] * 24
    assert len(follower._ENGINES) == 1
