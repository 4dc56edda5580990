"""Queries over a user's link graph: neighbours, shortest paths, communities, centrality,
GraphML export. Every query takes the graph built for that user (``build_graph``), so
policy filtering is already done; filters here narrow by edge type and time.

The JSON shape (``nodes`` and ``edges``, each a flat mapping) is what the API and the
link chart use; ``cytoscape()`` wraps it as Cytoscape.js elements.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import networkx as nx

from fusionhub.graph.build import EDGE_TYPES


class GraphError(ValueError):
    """A query the graph cannot answer (unknown node, unknown edge type)."""


class UnknownEntity(GraphError):
    """The entity is not in the graph the user may see (or does not exist: the same answer)."""


@dataclass(frozen=True)
class EdgeFilter:
    types: frozenset[str] = frozenset()
    since: str | None = None  # ISO date; edges dated before it are left out
    until: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.types) - set(EDGE_TYPES)
        if unknown:
            raise GraphError(f"unknown relationship type(s) {sorted(unknown)}; one of {', '.join(EDGE_TYPES)}")

    def keeps(self, data: dict[str, Any]) -> bool:
        if self.types and data.get("kind") not in self.types:
            return False
        date = str(data.get("date") or "")
        if self.since and date and date[:10] < self.since[:10]:
            return False
        return not (self.until and date and date[:10] > self.until[:10])


def filtered(graph: nx.MultiGraph, where: EdgeFilter) -> nx.MultiGraph:
    """The edges the filter keeps, as a read-only view (no copy: graphs can be large)."""
    if where == EdgeFilter():
        return graph
    view: nx.MultiGraph = nx.subgraph_view(graph, filter_edge=lambda a, b, k: where.keeps(graph[a][b][k]))
    return view


def _simple(graph: nx.MultiGraph) -> nx.Graph:
    """Collapse parallel edges; the weight is how many records state a tie."""
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes(data=True))
    for a, b, data in graph.edges(data=True):
        if a == b:
            continue
        if simple.has_edge(a, b):
            simple[a][b]["weight"] += 1
            simple[a][b]["kinds"].add(data.get("kind"))
        else:
            simple.add_edge(a, b, weight=1, kinds={data.get("kind")})
    return simple


def _require(graph: nx.MultiGraph, node: str) -> None:
    if node not in graph:
        raise UnknownEntity(f"no entity {node} in the graph you may see")


def _node_json(graph: nx.MultiGraph, node: str) -> dict[str, Any]:
    data = graph.nodes[node]
    return {
        "id": node,
        "schema": data.get("schema"),
        "label": data.get("label"),
        "records": len(data.get("records", [])),
        **({"date": data["date"]} if data.get("date") else {}),
    }


def _edge_json(a: str, b: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"source": a, "target": b, **{k: v for k, v in data.items() if v is not None}}


def subgraph_json(graph: nx.MultiGraph, nodes: Collection[str]) -> dict[str, Any]:
    keep = set(nodes)
    return {
        "nodes": [_node_json(graph, n) for n in sorted(keep)],
        "edges": [_edge_json(a, b, d) for a, b, d in graph.edges(keep, data=True) if a in keep and b in keep],
    }


def neighbours(graph: nx.MultiGraph, node: str, depth: int = 1, where: EdgeFilter | None = None) -> dict[str, Any]:
    """Everything within ``depth`` hops of ``node`` along the edges the filter keeps.

    A breadth-first walk from the node: the cost is the neighbourhood's, not the graph's
    (the link chart asks this on every click).
    """
    _require(graph, node)
    where = where or EdgeFilter()
    reached = {node: 0}
    frontier = [node]
    for hop in range(1, max(0, depth) + 1):
        following = []
        for current in frontier:
            for _, other, data in graph.edges(current, data=True):
                if other not in reached and where.keeps(data):
                    reached[other] = hop
                    following.append(other)
        frontier = following
    body: dict[str, Any] = {
        "nodes": [_node_json(graph, n) for n in sorted(reached)],
        "edges": [
            _edge_json(a, b, d) for a, b, d in graph.edges(list(reached), data=True) if b in reached and where.keeps(d)
        ],
    }
    body["center"] = node
    body["depth"] = {n: d for n, d in sorted(reached.items())}
    return body


def shortest_path(graph: nx.MultiGraph, a: str, b: str, where: EdgeFilter | None = None) -> dict[str, Any]:
    _require(graph, a)
    _require(graph, b)
    view = filtered(graph, where or EdgeFilter())
    try:
        nodes = nx.shortest_path(view, a, b)  # breadth-first: parallel edges do not matter
    except nx.NetworkXNoPath:
        return {"found": False, "nodes": [], "edges": []}
    edges: list[dict[str, Any]] = []
    for x, y in itertools.pairwise(nodes):
        stated = view.get_edge_data(x, y) or {}
        edges.extend(_edge_json(x, y, d) for d in stated.values())
    return {"found": True, "length": len(nodes) - 1, "nodes": [_node_json(view, n) for n in nodes], "edges": edges}


def communities(graph: nx.MultiGraph, where: EdgeFilter | None = None, min_size: int = 2) -> list[dict[str, Any]]:
    """Louvain communities (seeded, so the same graph gives the same answer)."""
    simple = _simple(filtered(graph, where or EdgeFilter()))
    found = nx.community.louvain_communities(simple, weight="weight", seed=7)
    out = []
    for group in sorted(found, key=lambda g: (-len(g), min(g))):
        if len(group) < min_size:
            continue
        sub = simple.subgraph(group)
        central = max(group, key=lambda n: (sub.degree(n), n))
        out.append({"size": len(group), "central": central, "members": sorted(group)})
    return out


def centrality(graph: nx.MultiGraph, where: EdgeFilter | None = None, top: int = 20) -> list[dict[str, Any]]:
    """Degree and betweenness centrality (betweenness sampled on large graphs)."""
    simple = _simple(filtered(graph, where or EdgeFilter()))
    if not simple:
        return []
    degree = nx.degree_centrality(simple)
    k = None if len(simple) <= 2000 else 500
    between = nx.betweenness_centrality(simple, k=k, seed=7)
    ranked = sorted(simple.nodes, key=lambda n: (-between[n], -degree[n], n))[:top]
    return [
        {**_node_json(graph, n), "degree": round(degree[n], 6), "betweenness": round(between[n], 6)} for n in ranked
    ]


def graphml(graph: nx.MultiGraph, nodes: Collection[str] | None = None) -> str:
    """GraphML text; list values become comma-joined strings (GraphML has scalars only)."""
    part = graph.subgraph(nodes) if nodes is not None else graph
    clean = nx.MultiGraph()
    for node, data in part.nodes(data=True):
        clean.add_node(node, **{k: _scalar(v) for k, v in data.items() if v is not None})
    for a, b, data in part.edges(data=True):
        clean.add_edge(a, b, **{k: _scalar(v) for k, v in data.items() if v is not None})
    buffer = io.BytesIO()
    nx.write_graphml(clean, buffer)
    return buffer.getvalue().decode("utf-8")


def _scalar(value: Any) -> Any:
    if isinstance(value, (list, set, tuple)):
        return ",".join(str(v) for v in value)
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def markings(graph: nx.MultiGraph) -> list[tuple[str, list[str]]]:
    """(TLP, handling markings) of every record the graph was built from, for a page's caveat."""
    return [(tlp, list(handling)) for tlp, handling in graph.graph.get("markings", [])]


def cytoscape(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Nodes and edges as Cytoscape.js elements."""
    elements: list[dict[str, Any]] = [{"group": "nodes", "data": dict(node)} for node in body.get("nodes", [])]
    for index, edge in enumerate(body.get("edges", [])):
        elements.append({"group": "edges", "data": {"id": f"e{index}", **edge}})
    return elements
