"""Analysts' decisions persist, override the model on every later run, and are audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fusionhub.resolve import decisions, resolver
from fusionhub.store import Store
from fusionhub.store import resolve_tables as rt
from tests.factories import user
from tests.resolve.conftest import canonical, ingest_rows, person_ref, seed_model


def _joined_pair(persons: list[dict[str, str]]) -> tuple[str, str]:
    seen: dict[str, str] = {}
    for p in persons:
        if p["person_id"] in seen and p["variation"] in ("moved", "new-phone", "typo"):
            return seen[p["person_id"]], p["rec_id"]
        seen.setdefault(p["person_id"], p["rec_id"])
    raise AssertionError("no duplicate in the sample")


def test_decisions_survive_a_full_rerun(
    store: Store, tmp_path: Path, persons: list[dict[str, str]], trained_model: dict[str, Any]
) -> None:
    seed_model(store, trained_model)
    sample = persons[:200]
    ingest_rows(store, tmp_path, "rms-a", sample)
    resolver.run(store, full=True)
    ana = user(store, "ana")
    # The model joined these two; the analyst says they are not the same person.
    a, b = _joined_pair(sample)
    assert canonical(store, a) == canonical(store, b)
    decisions.decide(store, ana, "not-same", person_ref(store, a), person_ref(store, b), "different SSN on file")
    # Two different people; the analyst confirms they are one (an alias the data cannot show).
    c, d = sample[0]["rec_id"], next(p["rec_id"] for p in sample if p["person_id"] != sample[0]["person_id"])
    assert canonical(store, c) != canonical(store, d)
    decisions.decide(store, ana, "confirm", person_ref(store, c), person_ref(store, d), "booking photo match")
    for _ in range(2):  # the decisions hold on this run and on every later one
        resolver.run(store, full=True)
        assert canonical(store, a) != canonical(store, b)
        assert canonical(store, c) == canonical(store, d)
    history = decisions.history(store)
    assert [(h["kind"], h["user"]) for h in history] == [("not-same", "ana"), ("confirm", "ana")]
    assert history[0]["reason"] == "different SSN on file"


def test_split_keeps_a_record_apart_and_newer_decisions_supersede(
    store: Store, tmp_path: Path, persons: list[dict[str, str]], trained_model: dict[str, Any]
) -> None:
    seed_model(store, trained_model)
    sample = persons[:200]
    ingest_rows(store, tmp_path, "rms-a", sample)
    resolver.run(store, full=True)
    ana = user(store, "ana")
    with store.connect() as conn:
        big = conn.execute(
            select(rt.resolve_entity.c.canonical_id)
            .where(rt.resolve_entity.c.schema == "Person")
            .group_by(rt.resolve_entity.c.canonical_id)
            .having(func.count() >= 3)
            .limit(1)
        ).scalar_one()
        members = [
            r for (r,) in conn.execute(select(rt.resolve_entity.c.ref).where(rt.resolve_entity.c.canonical_id == big))
        ]
    decisions.decide(store, ana, "split", members[0], None, "a namesake, not the subject")
    resolver.run(store, full=True)
    with store.connect() as conn:
        canon = {r: c for r, c in conn.execute(select(rt.resolve_entity.c.ref, rt.resolve_entity.c.canonical_id))}
    assert all(canon[members[0]] != canon[m] for m in members[1:])
    assert len({canon[m] for m in members[1:]}) == 1
    # Not-same, then confirm on the same pair: the newer decision is the one in force.
    decisions.decide(store, ana, "not-same", members[1], members[2], "first look")
    decisions.decide(store, ana, "confirm", members[1], members[2], "second look: same tattoo")
    resolver.run(store, full=True)
    with store.connect() as conn:
        canon = {r: c for r, c in conn.execute(select(rt.resolve_entity.c.ref, rt.resolve_entity.c.canonical_id))}
    assert canon[members[1]] == canon[members[2]]
    assert [h["superseded_by"] is not None for h in decisions.history(store, members[1])] == [True, False]


def test_only_analysts_decide_and_every_decision_has_a_reason(
    store: Store, tmp_path: Path, persons: list[dict[str, str]], trained_model: dict[str, Any]
) -> None:
    seed_model(store, trained_model)
    ingest_rows(store, tmp_path, "rms-a", persons[:20])
    resolver.run(store, full=True)
    a, b = person_ref(store, persons[0]["rec_id"]), person_ref(store, persons[1]["rec_id"])
    officer = user(store, "ofc", roles=("field-user",))
    with pytest.raises(decisions.DecisionError, match="only analysts"):
        decisions.decide(store, officer, "confirm", a, b, "looks alike")
    ana = user(store, "ana")
    with pytest.raises(decisions.DecisionError, match="reason"):
        decisions.decide(store, ana, "confirm", a, b, "  ")
    with pytest.raises(decisions.DecisionError, match="no resolved entity"):
        decisions.decide(store, ana, "confirm", a, "e-nonexistent", "typo")
    assert decisions.history(store) == []
