"""Every role against every data-access function, record class and caveat.

The expectations here are written independently of policy.yaml, from the rules in
plain words (docs/policy.md), so the test catches a policy file that drifts from them.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.actor import Actor
from fusionhub.policy.identity import add_user
from fusionhub.policy.reader import AccessDenied, NotFound, RecordReader
from fusionhub.store import Store
from tests import factories
from tests.policy.conftest import make_record, make_source

VOCAB = load_vocabulary()
HANDLING = ("", "LES", "NO-PRIVATE-SECTOR")
TERMS = {
    "none": {},
    "le-only": {"law_enforcement_only": True},
    "no-private": {"no_private_sector": True},
    "agency-only": {"agency_only": True},
    "originator": {"originator_approval": True},
}
FIELD_CLASSES = {"incident", "call-for-service", "arrest", "lpr-read", "alert", "person-record"}
NAME = "Zebediah Quarrington"
PURPOSE = "case 24-001"


@dataclass(frozen=True)
class Rec:
    id: int
    owner: str
    record_class: str
    tlp: str
    handling: str
    terms: str


# (username, agency, agency kind, roles)
USERS = [
    ("analyst", "PD1", "law-enforcement", ("analyst",)),
    ("supervisor", "PD1", "law-enforcement", ("supervisor",)),
    ("privacy", "PD1", "law-enforcement", ("privacy-officer",)),
    ("field", "PD1", "law-enforcement", ("field-user",)),
    ("partner", "CORP", "private-sector", ("partner",)),
    ("auditor", "PD1", "law-enforcement", ("auditor",)),
    ("admin", "PD1", "law-enforcement", ("administrator",)),
    ("health", "DPH", "public-health", ("analyst",)),
]


def expected(actor: Actor, rec: Rec) -> tuple[bool, bool]:
    """(allowed, may know it exists), from the rules in plain words."""
    own = rec.owner == actor.agency
    readers = {"analyst", "supervisor", "privacy-officer", "field-user", "partner"}
    if not actor.roles & readers:
        return False, False
    terms = TERMS[rec.terms]
    if terms.get("agency_only") and not own:
        return False, False
    if rec.tlp == "RED" and not own:
        return False, False
    if actor.agency_kind == "private-sector":
        if (
            not own
            or terms.get("law_enforcement_only")
            or terms.get("no_private_sector")
            or rec.handling in ("LES", "NO-PRIVATE-SECTOR")
            or rec.tlp not in ("CLEAR", "GREEN")
            or rec.record_class in ("criminal-intelligence", "sar")
        ):
            return False, False
    elif actor.agency_kind not in ("law-enforcement", "federal", "state", "tribal") and terms.get(
        "law_enforcement_only"
    ):
        return False, False
    if rec.record_class == "criminal-intelligence" and not actor.roles & {"analyst", "supervisor", "privacy-officer"}:
        return False, False
    if actor.roles <= {"field-user"} and rec.record_class not in FIELD_CLASSES:
        return False, False
    if terms.get("originator_approval") and not own:
        return False, True
    return True, True


@pytest.fixture
def world(store: Store) -> tuple[Store, list[Rec], dict[str, Actor]]:
    for code, kind in (
        ("PD1", "law-enforcement"),
        ("PD2", "law-enforcement"),
        ("CORP", "private-sector"),
        ("DPH", "public-health"),
    ):
        factories.agency(store, code, kind)
    actors = {name: add_user(store, name, agency, list(roles)) for name, agency, _kind, roles in USERS}
    records: list[Rec] = []
    sources = {
        (owner, term): make_source(store, f"{owner}-{term}", owner, TERMS[term])
        for owner in ("PD1", "PD2", "CORP")
        for term in TERMS
    }
    conn_cm = store.begin()
    conn = conn_cm.__enter__()
    # Every class x TLP x handling from another law-enforcement agency and from the partner...
    for owner, record_class, tlp, handling in itertools.product(
        ("PD2", "CORP"), VOCAB.record_classes, VOCAB.tlp, HANDLING
    ):
        rid = make_record(
            store, sources[(owner, "none")], record_class=record_class, tlp=tlp, handling=handling, name=NAME, conn=conn
        )
        records.append(Rec(rid, owner, record_class, tlp, handling, "none"))
    # ...and every sharing term, own and other, on a few classes and TLPs.
    for owner, term, record_class, tlp in itertools.product(
        ("PD1", "PD2", "CORP"), TERMS, ("incident", "criminal-intelligence", "tip"), ("GREEN", "AMBER", "RED")
    ):
        rid = make_record(store, sources[(owner, term)], record_class=record_class, tlp=tlp, name=NAME, conn=conn)
        records.append(Rec(rid, owner, record_class, tlp, "", term))
    conn_cm.__exit__(None, None, None)
    return store, records, actors


def _no_content(message: str, rec: Rec) -> None:
    assert NAME not in message and "Zebediah" not in message
    assert f"r{rec.id}" not in message.split()  # no source record key


def _matrix(world: tuple[Store, list[Rec], dict[str, Actor]], step: int) -> None:
    store, records, actors = world
    for n, (name, actor) in enumerate(actors.items()):
        reader = RecordReader(store, actor, PURPOSE)
        want = {rec.id for rec in records if expected(actor, rec)[0]}
        listed = {view.id for view in reader.list(limit=100000)}
        assert listed == want, name
        assert reader.count() == len(want), name
        # Single-record views: every record (slow run) or a rotating sample that still
        # meets every class, TLP, caveat and sharing term for each role (default run).
        for rec in records[n % step :: step]:
            allowed, known = expected(actor, rec)
            if allowed:
                view = reader.get(rec.id)
                assert view.id == rec.id
                continue
            with pytest.raises(AccessDenied) as refused:
                reader.get(rec.id)
            message = str(refused.value)
            _no_content(message, rec)
            if known:
                assert not isinstance(refused.value, NotFound), (name, rec)
                assert "originating agency must approve" in message
            else:
                # Indistinguishable from a record that does not exist.
                assert isinstance(refused.value, NotFound), (name, rec)
                assert message == f"no record {rec.id} that you may see"


def test_list_count_and_views_for_every_role_class_and_caveat(
    world: tuple[Store, list[Rec], dict[str, Actor]],
) -> None:
    _matrix(world, 5)


@pytest.mark.slow
def test_every_view_for_every_role_class_and_caveat(world: tuple[Store, list[Rec], dict[str, Actor]]) -> None:
    _matrix(world, 1)


def test_lapsed_training_reads_nothing(world: tuple[Store, list[Rec], dict[str, Actor]]) -> None:
    store, records, actors = world
    from dataclasses import replace

    lapsed = replace(actors["analyst"], training_current=False)
    reader = RecordReader(store, lapsed, PURPOSE)
    assert reader.list(limit=100000) == [] and reader.count() == 0
    with pytest.raises(NotFound):
        reader.get(records[0].id)


#: Every public read function of RecordReader, called for an actor the policy refuses
#: everything. A new read function must be added here (the test fails otherwise).
READ_FUNCTIONS = {
    "get": lambda reader, rid: reader.get(rid),
    "list": lambda reader, rid: reader.list(limit=1000),
    "count": lambda reader, rid: reader.count(),
}


def test_every_read_function_consults_the_policy(world: tuple[Store, list[Rec], dict[str, Actor]]) -> None:
    store, records, actors = world
    public = {n for n, _ in inspect.getmembers(RecordReader, inspect.isfunction) if not n.startswith("_")}
    assert public == set(READ_FUNCTIONS), "add the new read function to READ_FUNCTIONS and the matrix"
    for role in ("admin", "auditor"):
        reader = RecordReader(store, actors[role], PURPOSE)
        for name, call in READ_FUNCTIONS.items():
            try:
                result = call(reader, records[0].id)
            except AccessDenied:
                continue
            assert result in ([], 0), (role, name)


def test_cli_record_show_matrix(world: tuple[Store, list[Rec], dict[str, Actor]]) -> None:
    store, records, actors = world
    runner = CliRunner()
    sample = [r for r in records if r.terms != "none"][::7]
    for name in ("analyst", "field", "partner", "admin"):
        for rec in sample:
            result = runner.invoke(
                app, ["--store", store.url, "--as", name, "record", "show", str(rec.id), "--purpose", PURPOSE, "--json"]
            )
            allowed, _known = expected(actors[name], rec)
            if allowed:
                assert result.exit_code == 0, (name, rec, result.output)
                assert NAME in result.output
            else:
                assert result.exit_code == 5, (name, rec, result.output)
                _no_content(result.output, rec)
