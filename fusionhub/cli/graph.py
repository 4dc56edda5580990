"""``fusionhub graph neighbours|path|communities|centrality|export``: link analysis, as you may see it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fusionhub.cli.context import STATE, acting_actor, fail, print_json

graph_app = typer.Typer(help="Link analysis over resolved entities (policy-filtered).", no_args_is_help=True)
TYPES = typer.Option(None, "--type", help="Keep only this relationship type (repeatable).")
SINCE = typer.Option(None, "--since", help="Leave out ties dated before this day (YYYY-MM-DD).")
UNTIL = typer.Option(None, "--until", help="Leave out ties dated after this day.")


def _graph_and_filter(types: list[str] | None, since: str | None, until: str | None) -> tuple[Any, Any]:
    from fusionhub.graph.build import build_graph
    from fusionhub.graph.queries import EdgeFilter, GraphError

    actor = acting_actor()
    try:
        where = EdgeFilter(frozenset(types or ()), since, until)
    except GraphError as exc:
        fail(str(exc))
    return build_graph(STATE.store(), actor), where


@graph_app.command("neighbours")
def neighbours_command(
    entity_id: str,
    depth: int = typer.Option(1, "--depth", min=0, max=6),
    types: list[str] = TYPES,
    since: str = SINCE,
    until: str = UNTIL,
) -> None:
    """Entities and events within DEPTH hops of ENTITY_ID."""
    from fusionhub.graph.queries import GraphError, neighbours

    graph, where = _graph_and_filter(types, since, until)
    try:
        print_json(neighbours(graph, entity_id, depth, where))
    except GraphError as exc:
        fail(str(exc), 5)


@graph_app.command("path")
def path_command(a: str, b: str, types: list[str] = TYPES, since: str = SINCE, until: str = UNTIL) -> None:
    """The shortest chain of stated ties between two entities."""
    from fusionhub.graph.queries import GraphError, shortest_path

    graph, where = _graph_and_filter(types, since, until)
    try:
        print_json(shortest_path(graph, a, b, where))
    except GraphError as exc:
        fail(str(exc), 5)


@graph_app.command("communities")
def communities_command(
    types: list[str] = TYPES, since: str = SINCE, until: str = UNTIL, min_size: int = typer.Option(3, "--min-size")
) -> None:
    """Groups of entities more tied to each other than to the rest (Louvain)."""
    from fusionhub.graph.queries import communities

    graph, where = _graph_and_filter(types, since, until)
    print_json(communities(graph, where, min_size))


@graph_app.command("centrality")
def centrality_command(
    types: list[str] = TYPES, since: str = SINCE, until: str = UNTIL, top: int = typer.Option(20, "--top")
) -> None:
    """The most connected entities (degree and betweenness)."""
    from fusionhub.graph.queries import centrality

    graph, where = _graph_and_filter(types, since, until)
    print_json(centrality(graph, where, top))


@graph_app.command("export")
def export_command(
    out: Path = typer.Option(..., "--out", help="GraphML file to write."),
    around: str = typer.Option(None, "--around", help="Only the neighbourhood of this entity."),
    depth: int = typer.Option(2, "--depth"),
    types: list[str] = TYPES,
    since: str = SINCE,
    until: str = UNTIL,
) -> None:
    """Export the graph you may see (or a neighbourhood of it) as GraphML."""
    from fusionhub.graph.queries import GraphError, filtered, graphml, neighbours

    graph, where = _graph_and_filter(types, since, until)
    view = filtered(graph, where)
    nodes = None
    if around:
        try:
            nodes = [n["id"] for n in neighbours(graph, around, depth, where)["nodes"]]
        except GraphError as exc:
            fail(str(exc), 5)
    out.write_text(graphml(view, nodes), encoding="utf-8")
    print_json({"file": str(out), "nodes": len(nodes) if nodes is not None else view.number_of_nodes()})


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")
