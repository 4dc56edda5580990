"""Link analysis over resolved entities: neighbours, paths, communities, export, policy."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.graph.build import build_graph
from fusionhub.graph.queries import (
    EdgeFilter,
    GraphError,
    centrality,
    communities,
    cytoscape,
    graphml,
    neighbours,
    shortest_path,
)
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.resolve import resolver
from fusionhub.store import Store
from tests.factories import source, user
from tests.resolve.conftest import seed_model

PROFILE = Path(__file__).with_name("incident_people.yaml")
COLUMNS = [
    "case",
    "date",
    "p1_first",
    "p1_last",
    "p1_dob",
    "p1_role",
    "p2_first",
    "p2_last",
    "p2_dob",
    "p2_role",
    "p1_home",
    "p1_phone",
    "assoc",
]
ANN = ("ANN", "RIVERA", "1980-02-03")
BOB = ("BOB", "KOWALSKI", "1975-06-07")
CAL = ("CAL", "OKAFOR", "1990-09-10")
DEE = ("DEE", "NAKAMURA", "1985-11-12")
EVE = ("EVE", "LINDQVIST", "1970-01-30")


def _row(
    case: str,
    date: str,
    p1: tuple[str, ...],
    role1: str,
    p2: tuple[str, ...] | None = None,
    role2: str = "",
    home: str = "",
    phone: str = "",
    assoc: str = "",
) -> dict[str, str]:
    p2 = p2 or ("", "", "")
    return dict(zip(COLUMNS, [case, date, *p1, role1, *p2, role2, home, phone, assoc], strict=True))


def _ingest(store: Store, tmp_path: Path, name: str, rows: list[dict[str, str]], **kw: Any) -> None:
    source(store, name, kw.pop("agency", "PD1"), kind="rms", profile=str(PROFILE), **kw)
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    assert ingest_file(store, path, name).rejected == 0


@pytest.fixture
def world(store: Store, tmp_path: Path, trained_model: dict[str, Any]) -> Store:
    seed_model(store, trained_model)
    _ingest(
        store,
        tmp_path,
        "rms",
        [
            _row("C1", "2024-01-05", ANN, "suspect", BOB, "victim", home="12 OAK ST, SPRINGFIELD", phone="3145550101"),
            _row("C2", "2024-03-09", BOB, "arrestee", CAL, "arrestee", assoc="associate"),
            _row("C3", "2024-06-01", DEE, "witness", home="12 OAK STREET, SPRINGFIELD"),
            _row("C4", "2024-07-01", EVE, "suspect", phone="314-555-0101"),
        ],
    )
    # A tie only an agency-only source states: BOB and EVE in one incident.
    _ingest(
        store,
        tmp_path,
        "secret",
        [_row("S1", "2024-08-01", BOB, "suspect", EVE, "suspect")],
        agency="PD2",
        sharing_terms={"agency_only": True},
    )
    resolver.run(store, full=True)
    return store


def _person(store: Store, case: str, surname: str) -> str:
    """The canonical id of the person with this surname in the record of this case."""
    from sqlalchemy import select

    from fusionhub.store import resolve_tables as rt
    from fusionhub.store import tables as t

    with store.connect() as conn:
        payload = conn.execute(select(t.record.c.payload).where(t.record.c.source_record_id == case)).scalar_one()
        ref = next(
            e["id"]
            for e in payload["entities"]
            if e["schema"] == "Person" and surname in str(e["properties"].get("lastName"))
        )
        return str(
            conn.execute(select(rt.resolve_entity.c.canonical_id).where(rt.resolve_entity.c.ref == ref)).scalar_one()
        )


def test_neighbours_paths_and_shared_identifiers(world: Store) -> None:
    ana = user(world, "ana", "PD1")
    graph = build_graph(world, ana)
    bob = _person(world, "C2", "KOWALSKI")
    assert bob == _person(world, "C1", "KOWALSKI")  # BOB of C1 and BOB of C2 resolved to one entity
    assert bob == _person(world, "S1", "KOWALSKI")
    ann = _person(world, "C1", "RIVERA")
    near = neighbours(graph, ann, 1)
    kinds = {e["kind"] for e in near["edges"]}
    assert {"involved", "same-incident", "resides", "uses-phone"} <= kinds
    dee = _person(world, "C3", "NAKAMURA")
    eve = _person(world, "C4", "LINDQVIST")
    # DEE lives at ANN's address (written differently), EVE uses ANN's phone.
    assert {e["kind"] for e in neighbours(graph, ann, 1, EdgeFilter(frozenset({"shared-address"})))["edges"]} == {
        "shared-address"
    }
    assert dee in neighbours(graph, ann, 1, EdgeFilter(frozenset({"shared-address"})))["depth"]
    assert eve in neighbours(graph, ann, 1, EdgeFilter(frozenset({"shared-phone"})))["depth"]
    cal = _person(world, "C2", "OKAFOR")
    co = neighbours(graph, bob, 1, EdgeFilter(frozenset({"co-arrest", "associate"})))
    assert cal in co["depth"] and {e["kind"] for e in co["edges"]} == {"co-arrest", "associate"}
    path = shortest_path(graph, dee, cal)
    assert path["found"] and path["length"] == 3  # DEE - ANN - BOB - CAL
    # Time filters: before March, BOB and CAL were not yet tied.
    early = neighbours(graph, bob, 1, EdgeFilter(frozenset({"co-arrest"}), until="2024-02-28"))
    assert cal not in early["depth"]
    assert not shortest_path(graph, dee, cal, EdgeFilter(frozenset({"shared-address"})))["found"]
    elements = cytoscape(near)
    assert {e["group"] for e in elements} == {"nodes", "edges"}
    with pytest.raises(GraphError):
        EdgeFilter(frozenset({"telepathy"}))


def test_graph_is_policy_filtered(world: Store) -> None:
    ana = user(world, "ana", "PD1")
    owner = user(world, "bo", "PD2")
    bob = _person(world, "C2", "KOWALSKI")
    eve = _person(world, "C4", "LINDQVIST")
    seen_by_ana = build_graph(world, ana)
    seen_by_owner = build_graph(world, owner)
    direct = EdgeFilter(frozenset({"same-incident"}))
    assert eve not in neighbours(seen_by_ana, bob, 1, direct)["depth"]
    assert eve in neighbours(seen_by_owner, bob, 1, direct)["depth"]
    assert "S1" not in json.dumps(neighbours(seen_by_ana, bob, 2))
    assert _person(world, "S1", "LINDQVIST") == eve  # one entity, whoever looks


def test_communities_centrality_and_graphml(world: Store, tmp_path: Path) -> None:
    ana = user(world, "ana", "PD1")
    graph = build_graph(world, ana)
    found = communities(graph)
    assert found and sum(c["size"] for c in found) <= graph.number_of_nodes()
    assert communities(graph) == found  # seeded: the same graph gives the same communities
    top = centrality(graph, top=3)
    assert len(top) == 3 and top[0]["betweenness"] >= top[-1]["betweenness"]
    text = graphml(graph)
    assert text.startswith("<?xml") and "graphml" in text
    out = tmp_path / "g.graphml"
    runner = CliRunner()
    base = ["--store", world.url, "--as", "ana", "graph"]
    result = runner.invoke(app, [*base, "export", "--out", str(out), "--around", top[0]["id"], "--depth", "1"])
    assert result.exit_code == 0, result.output
    assert "<graphml" in out.read_text(encoding="utf-8")
    result = runner.invoke(app, [*base, "neighbours", top[0]["id"], "--depth", "2", "--type", "involved"])
    assert result.exit_code == 0 and json.loads(result.output)["center"] == top[0]["id"]
    result = runner.invoke(app, [*base, "communities", "--min-size", "2"])
    assert result.exit_code == 0 and json.loads(result.output)
    result = runner.invoke(app, [*base, "path", top[0]["id"], "Enope"])
    assert result.exit_code == 5
