"""Link analysis over resolved entities: neighbours, paths, communities, export, policy."""

from __future__ import annotations

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
from fusionhub.store import Store
from tests.factories import user
from tests.graph.seed import person, seed_link_world


@pytest.fixture
def world(store: Store, tmp_path: Path, trained_model: dict[str, Any]) -> Store:
    seed_link_world(store, tmp_path, trained_model)
    return store


def test_neighbours_paths_and_shared_identifiers(world: Store) -> None:
    ana = user(world, "ana", "PD1")
    graph = build_graph(world, ana)
    bob = person(world, "C2", "KOWALSKI")
    assert bob == person(world, "C1", "KOWALSKI")  # BOB of C1 and BOB of C2 resolved to one entity
    assert bob == person(world, "S1", "KOWALSKI")
    ann = person(world, "C1", "RIVERA")
    near = neighbours(graph, ann, 1)
    kinds = {e["kind"] for e in near["edges"]}
    # An edge's ends are node ids (its record's source is ``source_name``).
    assert all(e["source"] in near["depth"] and e["target"] in near["depth"] for e in near["edges"])
    assert {e["source_name"] for e in near["edges"]} == {"rms"}
    assert {"involved", "same-incident", "resides", "uses-phone"} <= kinds
    dee = person(world, "C3", "NAKAMURA")
    eve = person(world, "C4", "LINDQVIST")
    # DEE lives at ANN's address (written differently), EVE uses ANN's phone.
    assert {e["kind"] for e in neighbours(graph, ann, 1, EdgeFilter(frozenset({"shared-address"})))["edges"]} == {
        "shared-address"
    }
    assert dee in neighbours(graph, ann, 1, EdgeFilter(frozenset({"shared-address"})))["depth"]
    assert eve in neighbours(graph, ann, 1, EdgeFilter(frozenset({"shared-phone"})))["depth"]
    cal = person(world, "C2", "OKAFOR")
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
    bob = person(world, "C2", "KOWALSKI")
    eve = person(world, "C4", "LINDQVIST")
    seen_by_ana = build_graph(world, ana)
    seen_by_owner = build_graph(world, owner)
    direct = EdgeFilter(frozenset({"same-incident"}))
    assert eve not in neighbours(seen_by_ana, bob, 1, direct)["depth"]
    assert eve in neighbours(seen_by_owner, bob, 1, direct)["depth"]
    assert "S1" not in json.dumps(neighbours(seen_by_ana, bob, 2))
    assert person(world, "S1", "LINDQVIST") == eve  # one entity, whoever looks


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


def test_a_users_graph_is_reused_until_the_records_or_the_terms_change(world: Store, tmp_path: Path) -> None:
    from sqlalchemy import update

    from fusionhub.graph.build import graph_for
    from fusionhub.store import tables as t
    from tests.graph.seed import ANN, ingest, row

    ana, owner = user(world, "ana", "PD1"), user(world, "bo", "PD2")
    first = graph_for(world, ana)
    assert graph_for(world, ana) is first
    assert graph_for(world, owner) is not first  # per user: never another's graph
    ingest(world, tmp_path, "rms2", [row("C9", "2024-09-09", ANN, "witness")])
    again = graph_for(world, ana)
    # The new incident (and ANN's mention in it, its own node until the next resolution run).
    assert again is not first and again.number_of_nodes() == first.number_of_nodes() + 2
    # The agency-only source opens to everyone: the next graph has its records.
    eve, bob = person(world, "C4", "LINDQVIST"), person(world, "C2", "KOWALSKI")
    assert eve not in neighbours(again, bob, 1, EdgeFilter(frozenset({"same-incident"})))["depth"]
    with world.begin() as conn:  # as an administrator's change of the source's terms would
        conn.execute(update(t.source).where(t.source.c.name == "secret").values(sharing_terms={}))
    opened = graph_for(world, ana)
    assert eve in neighbours(opened, bob, 1, EdgeFilter(frozenset({"same-incident"})))["depth"]
