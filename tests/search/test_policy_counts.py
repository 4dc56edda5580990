"""Totals and facet counts never include what the user may not read."""

from __future__ import annotations

import pytest

from fusionhub.policy.reader import RecordReader
from fusionhub.search.service import search
from fusionhub.store import Store
from tests import factories
from tests.search.conftest import Draft, Put, entity


def _people(prefix: str, count: int) -> list[Draft]:
    return [
        Draft(f"{prefix}{i}", [entity("Person", name=f"ALEX {('SMITH', 'SMITHE', 'SMYTH')[i % 3]}")])
        for i in range(count)
    ]


@pytest.fixture
def mixed(store: Store, put: Put) -> None:
    put(store, factories.source(store, "own-rms", "PDA", "rms"), _people("a", 3))
    put(store, factories.source(store, "other-rms", "PDB", "rms"), _people("b", 4))
    put(
        store, factories.source(store, "other-only", "PDB", "rms", sharing_terms={"agency_only": True}), _people("c", 5)
    )
    put(store, factories.source(store, "other-red", "PDB", "rms", caveat="TLP:RED"), _people("d", 6))
    put(
        store,
        factories.source(
            store, "intel", "PDB", "intelligence", caveat="TLP:AMBER LES", sharing_terms={"originator_approval": False}
        ),
        _people("e", 2),
    )
    put(store, factories.source(store, "tips", "PDB", "tip-line", caveat="TLP:GREEN"), _people("f", 7))


@pytest.mark.parametrize(
    ("username", "agency", "roles", "kind"),
    [
        ("ana", "PDA", ("analyst",), "law-enforcement"),
        ("fred", "PDA", ("field-user",), "law-enforcement"),
        ("pat", "CORP", ("partner",), "private-sector"),
        ("boris", "PDB", ("analyst",), "law-enforcement"),
        ("aud", "PDA", ("auditor",), "law-enforcement"),
    ],
)
def test_totals_and_facets_count_only_readable_records(
    store: Store, mixed: None, username: str, agency: str, roles: tuple[str, ...], kind: str
) -> None:
    actor = factories.user(store, username, agency, roles, kind)
    readable = RecordReader(store, actor).count()  # the SQL policy filter's count
    result = search(store, actor, "name:smith", limit=50, purpose="case 24-001")
    assert result.total == readable
    assert len(result.hits) == readable
    everything = search(store, actor, "", limit=0, purpose="case 24-001")
    assert everything.total == readable
    for facet, buckets in everything.facets.items():
        if facet != "caveat":
            assert sum(b["count"] for b in buckets) == readable, facet
    sources = {b["value"] for b in everything.facets["source"]}
    if username == "ana":
        assert readable == 3 + 4 + 2 + 7  # not PDB's agency-only or TLP:RED records
        assert sources == {"own-rms", "other-rms", "intel", "tips"}
    if username == "boris":  # the owning agency sees its agency-only, RED and intelligence records
        assert sources == {"own-rms", "other-rms", "other-only", "other-red", "intel", "tips"}
    if username == "aud":
        assert readable == 0 and everything.facets["source"] == []


def test_hidden_records_are_not_hydrated_even_if_the_index_is_stale(store: Store, mixed: None) -> None:
    from sqlalchemy import update

    from fusionhub.store import tables as t

    actor = factories.user(store, "ana", "PDA")
    before = {h.provenance["source"] for h in search(store, actor, "source:other-rms", purpose="case 24-001").hits}
    assert before == {"other-rms"}
    # The policy facts change in the store without a new change number (as a policy
    # migration might): the index is stale, the hydration query still refuses.
    with store.begin() as conn:
        conn.execute(update(t.record).where(t.record.c.agency_id != actor.agency_id).values(tlp="RED"))
    assert search(store, actor, "source:other-rms", purpose="case 24-001").hits == []


def test_a_policy_switched_under_a_running_process_is_applied(
    store: Store, mixed: None, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from fusionhub.policy.rules import POLICY_FILE

    actor = factories.user(store, "ana", "PDA")
    before = search(store, actor, "name:smith", limit=50, purpose="case 24-001")
    assert before.total == 3 + 4 + 2 + 7
    # The same actor, a stricter policy: TLP:GREEN records now stay with their agency.
    stricter = Path(str(tmp_path)) / "policy.yaml"
    text = POLICY_FILE.read_text()
    assert "record: {tlp: [RED], own_agency: false}" in text
    stricter.write_text(
        text.replace("record: {tlp: [RED], own_agency: false}", "record: {tlp: [RED, GREEN], own_agency: false}")
    )
    monkeypatch.setenv("FUSIONHUB_POLICY", str(stricter))
    after = search(store, actor, "name:smith", limit=50, purpose="case 24-001")
    assert after.total == len(after.hits) == 3 + 4 + 2  # the cached filters were not reused
    assert "tips" not in {h.provenance["source"] for h in after.hits}
    assert "tips" not in {b["value"] for b in after.facets["source"]}


def test_caveat_facet_counts_what_a_caveat_search_finds(store: Store, mixed: None) -> None:
    # The facet is counted from TLP and handling marks; the caveat: clause searches the
    # combined field. They must agree, bucket by bucket.
    actor = factories.user(store, "boris", "PDB")
    everything = search(store, actor, "", limit=0, purpose="case 24-001")
    buckets = {b["value"]: b["count"] for b in everything.facets["caveat"]}
    assert {"TLP:RED", "TLP:AMBER", "TLP:GREEN", "LES"} <= set(buckets)
    for value, count in buckets.items():
        assert search(store, actor, f'caveat:"{value}"', limit=0, purpose="case 24-001").total == count, value


def test_facets_counted_by_key_equal_facets_counted_one_by_one(
    store: Store, mixed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fusionhub.search import tantivy_engine

    actor = factories.user(store, "boris", "PDB")

    def facets() -> dict[str, dict[str, int]]:
        found = search(store, actor, "name:smith", limit=0, purpose="case 24-001").facets
        return {name: {b["value"]: b["count"] for b in buckets} for name, buckets in found.items()}

    by_key = facets()
    assert sum(by_key["source"].values()) == 3 + 4 + 5 + 6 + 2 + 7
    # Too many distinct keys to count at once: each facet is counted on its own.
    monkeypatch.setattr(tantivy_engine, "MAX_FACET_KEYS", 1)
    assert facets() == by_key


@pytest.mark.parametrize("username", ["ana", "boris"])
def test_facets_of_a_page_holding_every_match_equal_the_query_s(store: Store, mixed: None, username: str) -> None:
    """A page with every match counts its facets over its own documents: the same counts
    as over the query, for what the user may read only."""
    actor = factories.user(store, username, "PDA" if username == "ana" else "PDB")

    def facets(limit: int) -> tuple[int, dict[str, dict[str, int]]]:
        found = search(store, actor, "name:smith", limit=limit, purpose="case 24-001")
        return found.total, {name: {b["value"]: b["count"] for b in buckets} for name, buckets in found.facets.items()}

    total, over_query = facets(limit=1)  # a page short of the matches: counted over the query
    assert total > 1
    assert facets(limit=50) == (total, over_query)  # every match on the page
    assert sum(over_query["source"].values()) == total
