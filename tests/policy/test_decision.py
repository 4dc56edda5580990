"""The decision function, its SQL filter and its search-index clause agree for every
combination of record metadata (a grid of every class, TLP, caveat, sharing terms,
owner and status) and any actor, under the shipped policy and under random policies."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.actor import ROLES, Actor
from fusionhub.policy.decision import RecordFacts, decide_read, index_filter, record_filter
from fusionhub.policy.rules import SHARING_TERMS, PolicyError, load_policy, parse_policy
from fusionhub.store import Store
from fusionhub.store import tables as t
from tests.policy.grid import HANDLING, STATUSES, lay_grid

KINDS = ("law-enforcement", "federal", "state", "tribal", "private-sector", "public-health", "fire-ems", "other")
VOCAB = load_vocabulary()


@pytest.fixture
def grid(store: Store) -> tuple[Store, dict[int, RecordFacts]]:
    return store, lay_grid(store)


def actors(agency_ids: tuple[int, ...] = (1, 2)) -> st.SearchStrategy[Actor]:
    return st.builds(
        lambda roles, kind, agency, trained: Actor("x", 1, "A", agency, kind, frozenset(roles), None, trained),
        st.sets(st.sampled_from(ROLES), max_size=3),
        st.sampled_from(KINDS),
        st.sampled_from(agency_ids),
        st.booleans(),
    )


def _sql_ids(store: Store, where: Any) -> set[int]:
    with store.connect() as conn:
        return set(
            conn.execute(
                select(t.record.c.id)
                .select_from(t.record.join(t.source, t.source.c.id == t.record.c.source_id))
                .where(where)
            ).scalars()
        )


def _check(store: Store, grid: dict[int, RecordFacts], actor: Actor, policy: Any = None) -> None:
    decided = {i for i, facts in grid.items() if decide_read(actor, facts, policy).allowed}
    clause = index_filter(actor, policy)
    indexed = {i for i, facts in grid.items() if clause.matches(facts.document())}
    assert _sql_ids(store, record_filter(actor, policy)) == decided
    assert indexed == decided


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actor=actors())
def test_shipped_policy_filter_agrees_with_decision(grid: tuple[Store, dict[int, RecordFacts]], actor: Actor) -> None:
    store, facts = grid
    _check(store, facts, actor)


# -- random policies ------------------------------------------------------------------
def record_conditions(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.fixed_dictionaries(
        {},
        optional={
            "record_class": st.lists(st.sampled_from(list(VOCAB.record_classes)), min_size=1, max_size=3),
            "tlp": st.lists(st.sampled_from(VOCAB.tlp), min_size=1, max_size=2),
            "status": st.lists(st.sampled_from(STATUSES), min_size=1, max_size=2),
            "handling": st.lists(st.sampled_from(list(VOCAB.handling)), min_size=1, max_size=2),
            "terms": st.lists(st.sampled_from(SHARING_TERMS), min_size=1, max_size=2),
            "own_agency": st.booleans(),
        },
    )
    if depth == 0:
        return leaf
    inner = record_conditions(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda a, items: {**a, "any": items}, leaf, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda a, item: {**a, "not": item}, leaf, inner),
    )


actor_conditions = st.fixed_dictionaries(
    {},
    optional={
        "roles_any": st.lists(st.sampled_from(ROLES), min_size=1, max_size=3),
        "roles_none": st.lists(st.sampled_from(ROLES), min_size=1, max_size=3),
        "roles_only": st.lists(st.sampled_from(ROLES), min_size=1, max_size=4),
        "private_sector": st.booleans(),
        "law_enforcement": st.booleans(),
        "training_current": st.booleans(),
    },
)


def policies() -> st.SearchStrategy[Any]:
    rules = st.lists(
        st.builds(
            lambda a, r, hide: {"actor": a, "record": r, "hide": hide},
            actor_conditions,
            record_conditions(),
            st.booleans(),
        ),
        max_size=6,
    )

    def build(items: list[dict[str, Any]]) -> Any:
        import yaml

        base = load_policy().raw
        data = {**base, "read_rules": [{"id": f"r{n}", "reason": f"rule {n}", **rule} for n, rule in enumerate(items)]}
        return parse_policy(yaml.safe_dump(data), "generated")

    return st.builds(build, rules)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policy=policies(), actor=actors())
def test_random_policy_filter_agrees_with_decision(
    grid: tuple[Store, dict[int, RecordFacts]], policy: Any, actor: Actor
) -> None:
    store, facts = grid
    _check(store, facts, actor, policy)


@given(
    policy=policies(),
    actor=actors(),
    record_class=st.sampled_from(list(VOCAB.record_classes)),
    tlp=st.sampled_from(VOCAB.tlp),
    handling=st.sampled_from(HANDLING),
    status=st.sampled_from(STATUSES),
    terms=st.dictionaries(st.sampled_from(SHARING_TERMS), st.booleans()),
    agency=st.sampled_from((1, 2)),
)
def test_first_refusing_rule_gives_the_reason(
    policy: Any,
    actor: Actor,
    record_class: str,
    tlp: str,
    handling: str,
    status: str,
    terms: dict[str, bool],
    agency: int,
) -> None:
    facts = RecordFacts(agency, record_class, tlp, handling, status, terms)
    verdict = decide_read(actor, facts, policy)
    refusing = [
        r for r in policy.read_rules if r.applies_to(actor) and r.record_clause(actor).matches(facts.document())
    ]
    assert verdict.allowed == (not refusing)
    if refusing:
        assert verdict.rule == refusing[0].id and verdict.reason == refusing[0].reason
        assert verdict.may_know_exists == (not refusing[0].hide)


def test_malformed_policies_are_refused() -> None:
    import yaml

    base = load_policy().raw
    for bad_rule in (
        {"id": "x", "reason": "r", "record": {"colour": ["red"]}},
        {"id": "x", "reason": "r", "record": {"tlp": ["PURPLE"]}},
        {"id": "x", "reason": "r", "actor": {"roles_any": ["wizard"]}},
        {"id": "x", "record": {}},
    ):
        with pytest.raises(PolicyError):
            parse_policy(yaml.safe_dump({**base, "read_rules": [bad_rule]}), "bad")


def test_index_filter_serialises() -> None:
    actor = Actor("p", 1, "CORP", 2, "private-sector", frozenset({"partner"}), None, True)
    tree = index_filter(actor).to_json()
    assert "and" in tree
    analyst = Actor("a", 1, "PD1", 1, "law-enforcement", frozenset({"analyst"}), None, False)
    assert index_filter(analyst).to_json() == {"false": True}  # lapsed training: nothing
