"""``fusionhub graph neighbours|path|communities|centrality|export``: link analysis, as you may see it.

Each command reads the graph of the records you may read, needs ``--purpose`` (a case
number or a configured reason) like a record view, and is audited with what it returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from fusionhub.cli.context import STATE, acting_actor, domain_errors, fail, print_json

graph_app = typer.Typer(help="Link analysis over resolved entities (policy-filtered).", no_args_is_help=True)
TYPES = typer.Option(None, "--type", help="Keep only this relationship type (repeatable).")
SINCE = typer.Option(None, "--since", help="Leave out ties dated before this day (YYYY-MM-DD).")
UNTIL = typer.Option(None, "--until", help="Leave out ties dated after this day.")
PURPOSE = typer.Option(None, "--purpose", help="Why you look: a case number or a configured reason.")


@contextmanager
def _graph_errors() -> Iterator[None]:
    from fusionhub.graph.queries import GraphError

    with domain_errors():
        try:
            yield
        except GraphError as exc:
            fail(str(exc), 5)


def _look(types: list[str] | None, since: str | None, until: str | None, call: Callable[..., Any]) -> Any:
    """Run one audited look with the acting user and the edge filter from the options."""
    from fusionhub.graph.queries import EdgeFilter

    actor = acting_actor()
    with _graph_errors():
        return call(STATE.store(), actor, EdgeFilter(frozenset(types or ()), since, until))


@graph_app.command("neighbours")
def neighbours_command(
    entity_id: str,
    depth: int = typer.Option(1, "--depth", min=0, max=6),
    types: list[str] = TYPES,
    since: str = SINCE,
    until: str = UNTIL,
    purpose: str = PURPOSE,
) -> None:
    """Entities and events within DEPTH hops of ENTITY_ID."""
    from fusionhub.graph.looks import look_neighbours

    print_json(
        _look(
            types,
            since,
            until,
            lambda store, actor, where: look_neighbours(store, actor, entity_id, depth, where, purpose),
        )
    )


@graph_app.command("path")
def path_command(
    a: str, b: str, types: list[str] = TYPES, since: str = SINCE, until: str = UNTIL, purpose: str = PURPOSE
) -> None:
    """The shortest chain of stated ties between two entities."""
    from fusionhub.graph.looks import look_path

    print_json(_look(types, since, until, lambda store, actor, where: look_path(store, actor, a, b, where, purpose)))


@graph_app.command("communities")
def communities_command(
    types: list[str] = TYPES,
    since: str = SINCE,
    until: str = UNTIL,
    min_size: int = typer.Option(3, "--min-size"),
    purpose: str = PURPOSE,
) -> None:
    """Groups of entities more tied to each other than to the rest (Louvain)."""
    from fusionhub.graph.looks import look_communities

    print_json(
        _look(types, since, until, lambda store, actor, where: look_communities(store, actor, where, min_size, purpose))
    )


@graph_app.command("centrality")
def centrality_command(
    types: list[str] = TYPES,
    since: str = SINCE,
    until: str = UNTIL,
    top: int = typer.Option(20, "--top"),
    purpose: str = PURPOSE,
) -> None:
    """The most connected entities (degree and betweenness)."""
    from fusionhub.graph.looks import look_centrality

    print_json(
        _look(types, since, until, lambda store, actor, where: look_centrality(store, actor, where, top, purpose))
    )


@graph_app.command("export")
def export_command(
    out: Path = typer.Option(..., "--out", help="GraphML file to write."),
    around: str = typer.Option(None, "--around", help="Only the neighbourhood of this entity."),
    depth: int = typer.Option(2, "--depth"),
    types: list[str] = TYPES,
    since: str = SINCE,
    until: str = UNTIL,
    purpose: str = PURPOSE,
) -> None:
    """Export the graph you may see (or a neighbourhood of it) as GraphML."""
    from fusionhub.graph.looks import look_graphml

    text = _look(
        types, since, until, lambda store, actor, where: look_graphml(store, actor, around, depth, where, purpose)
    )
    out.write_text(text, encoding="utf-8")
    print_json({"file": str(out), "nodes": text.count("<node ")})


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")
