"""Link analysis as an analyst's look: a stated purpose, and an audit event of what came back.

A graph answer names people and the records that tie them, so it is a read of personal
information like a record view: it needs a stated purpose (a case number or a
configured reason) and leaves an audit event naming the entities and the records it
returned, so "who looked at this person" finds chart views too. The CLI, the API and
the link chart page all call these functions; the bare queries in ``queries`` stay
pure functions over a graph.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fusionhub.graph.build import graph_for
from fusionhub.graph.queries import EdgeFilter, centrality, communities, filtered, graphml, neighbours, shortest_path
from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.reader import check_purpose
from fusionhub.store import Store


def _record_ids(edges: Iterable[dict[str, Any]]) -> list[int]:
    return sorted({int(e["record_id"]) for e in edges if e.get("record_id") is not None})


def _audit(store: Store, actor: Actor, action: str, subject: str, details: dict[str, Any], purpose: str) -> None:
    with store.begin() as conn:
        record_event(conn, actor, action, subject, details, purpose)


def look_neighbours(
    store: Store, actor: Actor, entity: str, depth: int, where: EdgeFilter | None, purpose: str | None
) -> dict[str, Any]:
    """``neighbours`` on the actor's graph, for a stated purpose, audited."""
    stated = check_purpose(purpose)
    body = neighbours(graph_for(store, actor), entity, depth, where)
    details = {"depth": depth, "entities": sorted(body["depth"]), "record_ids": _record_ids(body["edges"])}
    _audit(store, actor, "graph.neighbours", f"entity:{entity}", details, stated)
    return body


def look_path(
    store: Store, actor: Actor, a: str, b: str, where: EdgeFilter | None, purpose: str | None
) -> dict[str, Any]:
    """``shortest_path`` on the actor's graph, for a stated purpose, audited."""
    stated = check_purpose(purpose)
    body = shortest_path(graph_for(store, actor), a, b, where)
    details = {"b": b, "entities": [n["id"] for n in body["nodes"]], "record_ids": _record_ids(body["edges"])}
    _audit(store, actor, "graph.path", f"entity:{a}", details, stated)
    return body


def look_communities(
    store: Store, actor: Actor, where: EdgeFilter | None, min_size: int, purpose: str | None
) -> list[dict[str, Any]]:
    """``communities`` of the actor's graph, for a stated purpose, audited (members named)."""
    stated = check_purpose(purpose)
    found = communities(graph_for(store, actor), where, min_size)
    details = {
        "min_size": min_size,
        "communities": len(found),
        "entities": sorted(m for c in found for m in c["members"]),
    }
    _audit(store, actor, "graph.communities", "graph", details, stated)
    return found


def look_centrality(
    store: Store, actor: Actor, where: EdgeFilter | None, top: int, purpose: str | None
) -> list[dict[str, Any]]:
    """``centrality`` of the actor's graph, for a stated purpose, audited."""
    stated = check_purpose(purpose)
    ranked = centrality(graph_for(store, actor), where, top)
    _audit(store, actor, "graph.centrality", "graph", {"top": top, "entities": [n["id"] for n in ranked]}, stated)
    return ranked


def look_graphml(
    store: Store, actor: Actor, entity: str | None, depth: int, where: EdgeFilter | None, purpose: str | None
) -> str:
    """The actor's graph (or one entity's neighbourhood) as GraphML: an export, audited as one."""
    stated = check_purpose(purpose)
    graph = graph_for(store, actor)
    where = where or EdgeFilter()
    view = filtered(graph, where)
    if entity is not None:
        body = neighbours(graph, entity, depth, where)
        nodes: list[str] | None = [n["id"] for n in body["nodes"]]
        record_ids = _record_ids(body["edges"])
    else:
        nodes = None
        record_ids = _record_ids(data for _, _, data in view.edges(data=True))
    text = graphml(view, nodes)
    details = {
        "format": "graphml",
        "depth": depth if entity else None,
        "entities": len(nodes) if nodes else view.number_of_nodes(),
        "record_ids": record_ids,
    }
    _audit(store, actor, "graph.export", f"entity:{entity}" if entity else "graph", details, stated)
    return text
