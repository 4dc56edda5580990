"""The compiled index filter agrees with the decision point, for random records and actors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import tantivy
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionhub.policy.actor import ROLES, Actor
from fusionhub.policy.decision import RecordFacts, decide_read
from fusionhub.search.documents import TERM_FLAGS, RecordRow, record_documents
from fusionhub.search.policy_filter import compile_read_filter
from fusionhub.search.tantivy_engine import ANALYZER, _analyzer, _document, build_schema

CLASSES = [
    "incident",
    "call-for-service",
    "arrest",
    "lpr-read",
    "tip",
    "sar",
    "criminal-intelligence",
    "alert",
    "person-record",
]
TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
MARKS = ["LES", "CUI", "FOUO", "PRIVACY", "NO-PRIVATE-SECTOR", "ORCON"]
KINDS = ["law-enforcement", "federal", "state", "tribal", "private-sector", "public-health", "other"]

facts_strategy = st.builds(
    RecordFacts,
    agency_id=st.integers(1, 3),
    record_class=st.sampled_from(CLASSES),
    tlp=st.sampled_from(TLPS),
    handling=st.lists(st.sampled_from(MARKS), unique=True, max_size=3).map(lambda m: ",".join(sorted(m))),
    status=st.sampled_from(["active", "cancelled", "purged"]),
    terms=st.dictionaries(st.sampled_from(list(TERM_FLAGS)), st.booleans(), max_size=4),
)
actor_strategy = st.builds(
    Actor,
    username=st.just("u"),
    user_id=st.just(1),
    agency=st.just("A"),
    agency_id=st.integers(1, 3),
    agency_kind=st.sampled_from(KINDS),
    roles=st.frozensets(st.sampled_from(ROLES), max_size=3),
    training_current=st.booleans(),
)


def _row(record_id: int, facts: RecordFacts) -> RecordRow:
    return RecordRow(
        id=record_id,
        seq=record_id,
        status=facts.status,
        agency_id=facts.agency_id,
        agency="A",
        source_id=1,
        source="s",
        system="s",
        record_class=facts.record_class,
        tlp=facts.tlp,
        handling=facts.handling,
        received_at=datetime(2024, 1, 1, tzinfo=UTC),
        occurred_at=None,
        sharing_terms=facts.terms,
        payload={"entities": [{"id": "x", "schema": "Person", "key": "p", "properties": {"name": ["A B"]}}]},
    )


@settings(max_examples=150, deadline=None)
@given(records=st.lists(facts_strategy, min_size=1, max_size=25), actor=actor_strategy)
def test_index_filter_agrees_with_decide_read(records: list[RecordFacts], actor: Actor) -> None:
    schema = build_schema()
    index = tantivy.Index(schema)
    index.register_tokenizer(ANALYZER, _analyzer())
    writer = index.writer(15_000_000, 1)
    for number, facts in enumerate(records, start=1):
        if facts.status == "purged":
            # The indexer keeps no document of a purged record; index one anyway to prove
            # the filter would refuse it too.
            row = _row(number, RecordFacts(**{**facts.__dict__, "status": "active"}))
            docs = record_documents(row)
            for doc in docs:
                doc.fields["status"] = ["purged"]
        else:
            docs = record_documents(_row(number, facts))
        for doc in docs:
            writer.add_document(_document(doc))
    writer.commit()
    index.reload()
    searcher = index.searcher()
    found = searcher.search(compile_read_filter(schema, actor).query(), 100)
    seen = {int(v or 0) for v in searcher.fast_field_values("record_id", [a for _, a in found.hits])}
    expected = {n for n, facts in enumerate(records, start=1) if decide_read(actor, facts).allowed}
    assert seen == expected, [(n, records[n - 1], decide_read(actor, records[n - 1])) for n in seen ^ expected]


def test_no_reader_role_sees_nothing() -> None:
    schema = build_schema()
    actor = Actor("aud", 1, "A", 1, "law-enforcement", frozenset({"auditor"}))
    query: Any = compile_read_filter(schema, actor).query()
    index = tantivy.Index(schema)
    index.register_tokenizer(ANALYZER, _analyzer())
    writer = index.writer(15_000_000, 1)
    for doc in record_documents(_row(1, RecordFacts(1, "incident", "GREEN", "", "active", {}))):
        writer.add_document(_document(doc))
    writer.commit()
    index.reload()
    assert index.searcher().search(query, 10).hits == []
