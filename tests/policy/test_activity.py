"""A user's recent searches come from their own audit events only, newest first,
one line per distinct query and purpose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fusionhub.policy.activity import recent_searches
from fusionhub.search.audit import record_search
from fusionhub.store import Store
from tests import factories

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_recent_searches_are_the_users_own(store: Store) -> None:
    ana = factories.user(store, "ana")
    bob = factories.user(store, "bob")
    with store.begin() as conn:
        record_search(conn, ana, "case 24-001", "smith", 3, [1, 2, 3])
        record_search(conn, bob, "case 24-999", "secret target", 1, [9])
        record_search(conn, ana, "case 24-001", "smith", 3, [4, 5])  # the next page: same search
        record_search(conn, ana, "threat assessment", "jones", 0, [])
    found = recent_searches(store, ana)
    assert [(s.query, s.purpose, s.hits) for s in found] == [
        ("jones", "threat assessment", 0),
        ("smith", "case 24-001", 3),
    ]
    assert found[1].rerun == "/search?q=smith&purpose=case+24-001"
    assert [s.query for s in recent_searches(store, bob)] == ["secret target"]
    assert len(recent_searches(store, ana, limit=1)) == 1


def test_newest_first_over_time(store: Store) -> None:
    from fusionhub.policy.audit import record_event

    ana = factories.user(store, "ana")
    with store.begin() as conn:
        for n in range(3):
            record_event(conn, ana, "search", None, {"query": f"q{n}", "total": n}, None, now=T0 + timedelta(days=n))
    assert [s.query for s in recent_searches(store, ana)] == ["q2", "q1", "q0"]
