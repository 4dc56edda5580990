"""Policy administration: stored versions, validation, dry run, activation and audit.

An activated version is what every read path decides with: the per-record decision and
the compiled SQL and index filters, read through ``load_policy()`` with no argument,
change together and keep agreeing (the property of test_decision.py, under policies
activated through the store rather than passed in).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fusionhub.policy.actor import ROLES, Actor
from fusionhub.policy.audit import verify
from fusionhub.policy.decision import RecordFacts, decide_read, index_filter, record_filter
from fusionhub.policy.identity import NotAuthorized
from fusionhub.policy.rules import file_policy, load_policy, set_active_policy
from fusionhub.policy.versions import PolicyConflict, PolicyInvalid, dry_run, history, submit, validate
from fusionhub.store import Store
from fusionhub.store import policy_tables as pt
from fusionhub.store.policy_admin_tables import policy_version
from tests import factories
from tests.policy.grid import lay_grid
from tests.policy.test_decision import _sql_ids, actor_conditions, actors, record_conditions

BASE = file_policy().raw
PACKAGED_TEXT = open(file_policy().path, encoding="utf-8").read()


@pytest.fixture(autouse=True)
def back_to_the_file() -> Iterator[None]:
    """An activated version is process state: later tests start from the policy file."""
    yield
    set_active_policy(None)


def officer(store: Store) -> Actor:
    return factories.user(store, "po", roles=("privacy-officer",))


def text_with(rules: list[dict[str, Any]], **extra: Any) -> str:
    return yaml.safe_dump({**BASE, "read_rules": rules, **extra}, sort_keys=False)


def stored_count(store: Store) -> int:
    with store.connect() as conn:
        return len(conn.execute(select(policy_version.c.id)).all())


def in_transaction(store: Store) -> str:
    """The SHA-256 of the policy a fresh transaction decides with."""
    with store.connect() as conn:
        conn.execute(select(1))
        return load_policy().sha256


# -- validation ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("read_rules: [\n  - id: x\n", "not valid YAML"),
        ("- a list\n- not a policy\n", "not a mapping"),
        (text_with(BASE["read_rules"], colour="red"), "unknown section 'colour'"),
        (text_with([{"id": "x", "reason": "r", "record": {}, "hidden": True}]), "unknown key 'hidden'"),
        (text_with([{"id": "x", "reason": "r", "record": {"colour": ["red"]}}]), "unknown record condition 'colour'"),
        (text_with([{"id": "x", "reason": "r", "actor": {"roles_any": ["wizard"]}}]), "unknown role 'wizard'"),
        (text_with([{"id": "x", "reason": "r", "record": {"tlp": "RED"}}]), "record tlp must be a list"),
        (text_with([{"id": "x", "reason": "r", "hide": "yes"}]), "hide must be true or false"),
        (text_with([{"id": "x", "record": {}}]), "needs an id and a reason"),
    ],
)
def test_invalid_policies_are_refused_with_a_clear_message(text: str, expected: str) -> None:
    with pytest.raises(PolicyInvalid) as caught:
        validate(text)
    assert expected in str(caught.value)
    assert caught.value.problems


def test_settings_are_checked_too() -> None:
    identity = {**BASE["identity"], "lockout_attempts": "five", "mfa_roles": ["analyst", "wizard"]}
    retention = {**BASE["retention"], "validate_or_purge": ["gossip"]}
    with pytest.raises(PolicyInvalid) as caught:
        validate(text_with(BASE["read_rules"], identity=identity, retention=retention))
    problems = "\n".join(caught.value.problems)
    assert "lockout_attempts must be a whole number" in problems
    assert "unknown role 'wizard'" in problems
    assert "unknown record class 'gossip'" in problems


def test_the_packaged_file_is_valid() -> None:
    assert validate(PACKAGED_TEXT).sha256 == file_policy().sha256


def test_a_refused_submission_changes_nothing(store: Store) -> None:
    po = officer(store)
    before = in_transaction(store)
    for bad in ("version: [", text_with(BASE["read_rules"], colour="red")):
        with pytest.raises(PolicyInvalid):
            submit(store, po, bad, note="typo", activate=True)
    assert stored_count(store) == 0
    assert in_transaction(store) == before
    assert [v.id for v in history(store, po)] == [1]
    with pytest.raises(PolicyConflict, match="identical"):
        submit(store, po, PACKAGED_TEXT, note="same", activate=True)
    with pytest.raises(PolicyInvalid, match="state why"):
        submit(store, po, text_with(BASE["read_rules"][:-1]), activate=True)
    assert stored_count(store) == 0


# -- who may --------------------------------------------------------------------------
def test_only_the_privacy_officer_changes_the_policy(store: Store) -> None:
    new = text_with(BASE["read_rules"][:-1])
    for role in ROLES:
        if role == "privacy-officer":
            continue
        actor = factories.user(store, f"u-{role}", roles=(role,))
        with pytest.raises(NotAuthorized):
            submit(store, actor, new, note="try", activate=True)
        with pytest.raises(NotAuthorized):
            submit(store, actor, new)
        if role == "administrator":
            assert history(store, actor)[0].id == 1  # administrators read it
        else:
            with pytest.raises(NotAuthorized):
                history(store, actor)
    assert stored_count(store) == 0


# -- activation -------------------------------------------------------------------------
def test_activation_is_stored_audited_and_followed_by_other_processes(store: Store) -> None:
    po = officer(store)
    new_text = text_with([*BASE["read_rules"], {"id": "no-red", "reason": "no red", "record": {"tlp": ["RED"]}}])
    old_sha = in_transaction(store)
    result = submit(store, po, new_text, note="TLP:RED closed to all", activate=True, base_version=1)
    assert result.activated is not None and result.activated.id == 2
    versions = history(store, po)
    assert [(v.id, v.active, v.created_by) for v in versions] == [(2, True, "po"), (1, False, "package")]
    assert versions[1].text == PACKAGED_TEXT
    assert in_transaction(store) == result.policy.sha256 != old_sha

    with store.connect() as conn:
        e = pt.audit_event.c
        events = conn.execute(select(e.username, e.details).where(e.action == "policy.change")).all()
    changes = [json.loads(d) for u, d in events if u == "po"]
    assert changes == [
        {
            "sha256": result.policy.sha256,
            "previous_sha256": old_sha,
            "version": BASE["version"],
            "previous_version": BASE["version"],
            "version_id": 2,
            "previous_version_id": 1,
            "note": "TLP:RED closed to all",
            "path": "store:policy_version/2",
        }
    ]
    assert verify(store).ok

    # Another process (its own engine on the same store) decides with version 2 from
    # its first transaction on.
    set_active_policy(None)
    other = Store(store.url, settings=store.settings)
    try:
        assert in_transaction(other) == result.policy.sha256
    finally:
        other.dispose()

    # A submission made against the old version is refused, not silently overwritten.
    with pytest.raises(PolicyConflict, match="version 2 is active"):
        submit(store, po, PACKAGED_TEXT, note="roll back", activate=True, base_version=1)
    rollback = submit(store, po, PACKAGED_TEXT, note="roll back", activate=True, base_version=2)
    assert rollback.activated is not None and rollback.activated.id == 3
    assert in_transaction(store) == old_sha


def test_dry_run_counts_what_the_decision_changes(store: Store) -> None:
    grid = lay_grid(store)
    po = officer(store)
    rules = [r for r in BASE["read_rules"] if r["id"] != "tlp-red"]
    rules.append({"id": "no-sar-for-field", "reason": "r", "actor": {"roles_any": ["field-user"]}, "record": {}})
    new_text = text_with(rules)
    result = submit(store, po, new_text)
    assert result.activated is None and stored_count(store) == 0
    old, new = file_policy(), validate(new_text)
    with store.connect() as conn:
        from fusionhub.store import tables as t

        agencies = conn.execute(select(t.agency.c.id, t.agency.c.code, t.agency.c.kind)).all()
    for impact in result.impact:
        gained: set[int] = set()
        lost: set[int] = set()
        for agency in agencies:
            actor = Actor("d", 0, agency.code, agency.id, agency.kind, frozenset({impact.role}), None, True)
            for record_id, facts in grid.items():
                before = decide_read(actor, facts, old).allowed
                after = decide_read(actor, facts, new).allowed
                if after and not before:
                    gained.add(record_id)
                if before and not after:
                    lost.add(record_id)
        assert (impact.newly_allowed, impact.newly_denied) == (len(gained), len(lost)), impact.role
    by_role = {i.role: i for i in result.impact}
    assert by_role["analyst"].newly_allowed > 0  # TLP:RED of other agencies opens
    assert by_role["field-user"].newly_denied > 0
    assert dry_run(store, old, old)[0].newly_allowed == 0


def rules_strategy() -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(
        st.builds(
            lambda a, r, hide: {"actor": a, "record": r, "hide": hide},
            actor_conditions,
            record_conditions(),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    )


@pytest.fixture
def grid_and_officer(store: Store) -> tuple[Store, dict[int, RecordFacts], Actor]:
    grid = lay_grid(store)
    return store, grid, officer(store)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=rules_strategy(), actor=actors())
def test_activated_policy_moves_decision_and_filters_together(
    grid_and_officer: tuple[Store, dict[int, RecordFacts], Actor], rules: list[dict[str, Any]], actor: Actor
) -> None:
    store, grid, po = grid_and_officer
    named = [{"id": f"r{n}", "reason": f"rule {n}", **rule} for n, rule in enumerate(rules)]
    text = text_with(named, version=f"generated-{len(history(store, po))}")
    submit(store, po, text, note="generated", activate=True)
    with store.connect() as conn:  # a new transaction: the active version is in force
        conn.execute(select(1))
        policy = load_policy()
        assert policy.sha256 == validate(text).sha256
        decided = {i for i, facts in grid.items() if decide_read(actor, facts).allowed}
        clause = index_filter(actor)
        assert {i for i, facts in grid.items() if clause.matches(facts.document())} == decided
    assert _sql_ids(store, record_filter(actor)) == decided
    assert decided == {i for i, facts in grid.items() if decide_read(actor, facts, policy).allowed}


def test_nul_characters_are_refused_before_the_store(store: Store) -> None:
    po = officer(store)
    with pytest.raises(PolicyInvalid, match="NUL"):
        submit(store, po, PACKAGED_TEXT.replace("version:", "version:\x00", 1), note="x", activate=True)
    with pytest.raises(PolicyInvalid, match="NUL"):
        submit(store, po, text_with(BASE["read_rules"][:-1]), note="bad\x00note", activate=True)
    assert stored_count(store) == 0
