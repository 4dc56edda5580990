"""Every query feature, end to end: records written to the store, indexed by the
follower, searched through the service as a named user (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from fusionhub.search.query import QuerySyntaxError
from fusionhub.search.service import SearchResult, search
from fusionhub.store import Store
from tests import factories
from tests.search.conftest import Draft, Put, entity


def person(rid: str, name: str | None = None, **props: Any) -> Draft:
    if name:
        props["name"] = name
    return Draft(rid, [entity("Person", **props)])


@pytest.fixture
def world(store: Store, put: Put) -> dict[str, Any]:
    rms = factories.source(store, "rms-a", "PDA", "rms")
    jail = factories.source(store, "jail-b", "PDB", "jail", caveat="TLP:GREEN")
    put(
        store,
        rms,
        [
            person(
                "p1",
                "JONATHAN Q SMITH",
                firstName="JONATHAN",
                middleName="QUINCY",
                lastName="SMITH",
                birthDate="1980-05-06",
                phone=["+14155550123", "(415) 555-0123"],
                email="jsmith@example.org",
                address="12 MAIN STREET, OAKLAND, CA",
            ),
            person("p2", "KATHERINE GARCIA-LOPEZ", birthDate="1975-11-02"),
            person("p3", "WILLIAM O'BRIEN", birthDate="1990"),
            Draft("v1", [entity("Vehicle", plate="7ABC123", vin="1HGCM82633A004352", make="HONDA")]),
            Draft(
                "i1",
                [
                    entity(
                        "Incident",
                        "inc",
                        caseNumber="18-0001",
                        offenseDescription="BURGLARY OF A RED PICKUP",
                        occurredAt="2018-03-04T10:00:00Z",
                    ),
                    entity("Address", "place", full="2100 SHATTUCK AVE, BERKELEY, CA", geo="37.870000,-122.268000"),
                ],
                occurred_at="2018-03-04T10:00:00Z",
            ),
            Draft(
                "i2",
                [
                    entity(
                        "Incident",
                        "inc",
                        caseNumber="18-0002",
                        offenseDescription="THEFT",
                        occurredAt="2019-07-01T10:00:00Z",
                    ),
                    entity("Address", "place", full="1 CIVIC CENTER, SAN JOSE, CA", geo="37.338000,-121.886000"),
                ],
                occurred_at="2019-07-01T10:00:00Z",
            ),
        ],
    )
    put(
        store,
        jail,
        [
            person("b1", "SMYTH, JON", birthDate="1980-06-05"),  # misspelt, nickname, day/month swapped
            person("b2", "SMITH JONATHAN", firstName="SMITH", lastName="JONATHAN"),  # swapped
            person("b3", "BILL OBRIEN", birthDate="1990-02-03"),
            person("b4", "KATHRYN LOPEZ"),
            Draft("v2", [entity("Vehicle", plate="7A8CI23")]),  # plate reader confusions B/8 and 1/I
        ],
    )
    analyst = factories.user(store, "ana", "PDA")
    return {"actor": analyst}


def run(store: Store, world: dict[str, Any], query: str, **kw: Any) -> SearchResult:
    return search(store, world["actor"], query, purpose="case 24-001", **kw)


def ids(result: SearchResult) -> set[str]:
    return {h.provenance["source_record_id"] for h in result.hits}


def hows(result: SearchResult, rid: str) -> list[str]:
    hit = next(h for h in result.hits if h.provenance["source_record_id"] == rid)
    return [m["how"] for m in hit.matched]


def test_exact_name_ranks_first_and_explains(store: Store, world: dict[str, Any]) -> None:
    result = run(store, world, 'name:"jonathan smith"')
    assert result.hits[0].provenance["source_record_id"] == "p1"
    assert {"p1", "b1", "b2"} <= ids(result)
    assert hows(result, "p1") == ["exact", "exact"]
    assert result.hits[0].entity_type == "Person"
    assert result.hits[0].provenance["agency"] == "PDA" and result.hits[0].provenance["source"] == "rms-a"


def test_typo_nickname_phonetic_and_swap(store: Store, world: dict[str, Any]) -> None:
    assert "p1" in ids(run(store, world, 'name:"jonathon smiht"'))  # two typos
    nick = run(store, world, 'name:"jon smith"')
    assert "p1" in ids(nick) and "nickname" in hows(nick, "p1")
    phon = run(store, world, "last:smythe")
    assert {"p1", "b1"} <= ids(phon)
    swapped = run(store, world, 'name:"jonathan smith"')
    assert any("swapped" in h for h in hows(swapped, "b2"))
    assert "fuzzy:1" in hows(run(store, world, "last:smiht"), "p1") or "phonetic" in hows(
        run(store, world, "last:smiht"), "p1"
    )


def test_middle_names_missing_or_initial(store: Store, world: dict[str, Any]) -> None:
    assert "p1" in ids(run(store, world, 'name:"jonathan x smith"'))  # a middle name the record lacks
    with_initial = run(store, world, 'name:"jonathan quentin smith"')  # the record has Q only
    assert with_initial.hits[0].provenance["source_record_id"] == "p1"
    assert "initial" in hows(with_initial, "p1")
    assert "p1" in ids(run(store, world, 'name:"j smith"'))


def test_hyphenated_and_two_part_surnames(store: Store, world: dict[str, Any]) -> None:
    assert "p2" in ids(run(store, world, "last:lopez"))
    assert "p2" in ids(run(store, world, "last:garcia"))
    both = run(store, world, 'name:"katherine lopez"')
    assert {"p2", "b4"} <= ids(both)
    assert "b3" in ids(run(store, world, 'name:"william obrien"'))  # BILL, and O'BRIEN without the apostrophe


def test_dates_of_birth(store: Store, world: dict[str, Any]) -> None:
    exact = run(store, world, "dob:1980-05-06")
    assert ids(exact) == {"p1", "b1"}
    assert "day/month swap" in hows(exact, "b1")
    assert ids(run(store, world, "dob:1980")) == {"p1", "b1"}
    assert ids(run(store, world, "dob:1975-11-04~2")) == {"p2"}
    assert ids(run(store, world, "dob:1975-11-04")) == set()
    assert {"p3", "b3"} <= ids(run(store, world, "dob:1990"))  # a year-only date of birth too
    assert ids(run(store, world, "dob:1974..1976")) == {"p2"}


def test_plates_identifiers_phones_emails(store: Store, world: dict[str, Any]) -> None:
    plate = run(store, world, "plate:7ABC123")
    assert ids(plate) == {"v1", "v2"}
    assert hows(plate, "v1") == ["exact"] and hows(plate, "v2") == ["confusable"]
    assert ids(run(store, world, 'plate:"7 abc-123"')) == {"v1", "v2"}
    assert ids(run(store, world, "plate:7AB*")) == {"v1", "v2"}
    assert ids(run(store, world, "plate:*C123")) == {"v1", "v2"}
    assert ids(run(store, world, "plate:7ABD*")) == set()
    assert ids(run(store, world, "vin:1hgcm82633a004352")) == {"v1"}
    for phone in ("415-555-0123", "+1 (415) 555 0123", "14155550123", "4155550123"):
        assert ids(run(store, world, f'phone:"{phone}"')) == {"p1"}, phone
    assert ids(run(store, world, "email:JSmith@Example.org")) == {"p1"}
    assert ids(run(store, world, 'address:"12 main st"')) == {"p1"}
    assert ids(run(store, world, "id:18-0002")) == {"i2"}


def test_free_text_boolean_and_phrases(store: Store, world: dict[str, Any]) -> None:
    assert ids(run(store, world, "burglary")) == {"i1"}
    assert ids(run(store, world, '"red pickup"')) == {"i1"}
    assert ids(run(store, world, '"pickup red"')) == set()
    assert ids(run(store, world, "burglary OR theft")) == {"i1", "i2"}
    assert ids(run(store, world, "type:incident NOT theft")) == {"i1"}
    assert ids(run(store, world, "type:incident -theft")) == {"i1"}
    assert ids(run(store, world, "(burglary OR theft) AND berkeley")) == {"i1"}
    assert ids(run(store, world, "honda")) == {"v1"}


def test_fields_of_provenance(store: Store, world: dict[str, Any]) -> None:
    assert ids(run(store, world, "type:vehicle")) == {"v1", "v2"}
    assert ids(run(store, world, "agency:pdb type:vehicle")) == {"v2"}
    assert ids(run(store, world, "source:jail-b type:person")) == {"b1", "b2", "b3", "b4"}
    assert ids(run(store, world, "caveat:green type:vehicle")) == {"v2"}
    assert ids(run(store, world, "caveat:LES class:incident type:vehicle")) == {"v1"}
    assert run(store, world, "type:nosuchthing").total == 0


def test_place_and_time(store: Store, world: dict[str, Any]) -> None:
    assert ids(run(store, world, "near:37.87,-122.27,1km")) == {"i1"}
    assert ids(run(store, world, "near:37.87,-122.27,100m")) == set()
    assert ids(run(store, world, "bbox:37,-123,38,-121")) == {"i1", "i2"}
    assert ids(run(store, world, "bbox:37.3,-122,37.4,-121.8")) == {"i2"}
    assert ids(run(store, world, "when:2018")) == {"i1"}
    assert ids(run(store, world, "when:2018-03-04..2019-12-31")) == {"i1", "i2"}
    assert ids(run(store, world, "when:..2018-03-03")) == set()
    assert run(store, world, "received:2000..").total == run(store, world, "").total
    assert run(store, world, "received:..2000").total == 0


def test_facets_pagination_sorting(store: Store, world: dict[str, Any]) -> None:
    result = run(store, world, "type:person")
    assert result.total == 7
    facets = {name: {b["value"]: b["count"] for b in buckets} for name, buckets in result.facets.items()}
    assert facets["agency"] == {"PDA": 3, "PDB": 4}
    assert facets["source"] == {"rms-a": 3, "jail-b": 4}
    assert facets["entity_type"] == {"Person": 7}
    assert facets["caveat"]["TLP:GREEN"] == 4 and facets["caveat"]["TLP:AMBER"] == 3
    everything = run(store, world, "")
    assert {b["value"] for b in everything.facets["year"]} >= {"2018", "2019"}
    first = run(store, world, "type:person", limit=3, offset=0)
    second = run(store, world, "type:person", limit=3, offset=3)
    third = run(store, world, "type:person", limit=3, offset=6)
    seen = [h.record_id for r in (first, second, third) for h in r.hits]
    assert len(seen) == 7 and len(set(seen)) == 7
    newest = run(store, world, "type:incident", sort="-occurred")
    assert [h.provenance["source_record_id"] for h in newest.hits] == ["i2", "i1"]
    oldest = run(store, world, "type:incident", sort="occurred")
    assert [h.provenance["source_record_id"] for h in oldest.hits] == ["i1", "i2"]


def test_bad_queries_say_why(store: Store, world: dict[str, Any]) -> None:
    for query, words in [
        ("colour:red", "unknown field"),
        ("(smith", "not closed"),
        ("dob:05/06/1980", "not a date"),
        ("near:37,-122", "near:LAT,LON"),
        ("smith OR", "ends"),
    ]:
        with pytest.raises(QuerySyntaxError, match=words):
            run(store, world, query)
    with pytest.raises(QuerySyntaxError, match="sort"):
        run(store, world, "smith", sort="name")


def test_updates_and_purges_follow_the_store(store: Store, world: dict[str, Any], put: Put) -> None:
    from sqlalchemy import update

    from fusionhub.ingest.sources import get_source
    from fusionhub.store import tables as t
    from fusionhub.store.followers import notify_followers

    rms = get_source(store, "rms-a")
    put(store, rms, [person("p3", "WILLIAM OBRIAN-WHITE", birthDate="1990")])
    assert "p3" in ids(run(store, world, "last:white"))
    assert run(store, world, 'name:"william o\'brien" source:rms-a').total == 1  # fuzzy still finds the new value
    with store.begin() as conn:
        seq = store.allocate_seq(conn)
        conn.execute(
            update(t.record).where(t.record.c.source_record_id == "p3").values(status="purged", seq=seq, payload={})
        )
    notify_followers(store)
    assert "p3" not in ids(run(store, world, "last:white"))
