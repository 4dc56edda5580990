"""``/graph``: link analysis over resolved entities, as the asking user may see it.

Each request takes the caller's graph from ``graph_for(store, actor)``: ``build_graph``
(records selected by the policy's filter, exactly as ``fusionhub graph`` does), reused
while nothing it depends on has changed. It answers with the same query functions as
the CLI; filters narrow by relationship type and time.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from fusionhub.api.deps import Authenticated, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.graph.build import EDGE_TYPES, graph_for
from fusionhub.graph.queries import EdgeFilter, centrality, communities, filtered, graphml, neighbours, shortest_path
from fusionhub.policy.actor import RECORD_READERS, Actor

router = APIRouter(prefix="/graph", tags=["graph"])

#: Link analysis reads records: the roles that read records at all (the policy then
#: keeps out of each user's graph every record they may not read).
GRAPH_ROLES = tuple(sorted(RECORD_READERS))
GraphReader = Annotated[Actor, Depends(Authenticated("records:read", GRAPH_ROLES))]

Relationship = Literal[
    "involved",
    "object",
    "same-incident",
    "co-arrest",
    "resides",
    "uses-phone",
    "owns",
    "shared-address",
    "shared-phone",
    "shared-vehicle",
    "associate",
    "employment",
    "identification",
]
assert get_args(Relationship) == EDGE_TYPES

EntityParam = Annotated[str, Query(min_length=1, max_length=64, description="A canonical entity (or event) id.")]
Depth = Annotated[int, Query(ge=0, le=6, description="Hops from the entity.")]
Types = Annotated[
    list[Relationship] | None,
    Query(alias="relationship", max_length=len(EDGE_TYPES), description="Keep only these relationship types."),
]
Since = Annotated[date | None, Query(alias="from", description="Leave out ties dated before this day.")]
Until = Annotated[date | None, Query(alias="to", description="Leave out ties dated after this day.")]


class GraphNode(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    schema_: str | None = Field(alias="schema", description="Person, Vehicle, Phone, Address, Incident, ...")
    label: str | None
    records: int = Field(description="How many records you may read name it.")
    date: str | None = None


class GraphEdge(BaseModel):
    model_config = ConfigDict(extra="allow")
    source: str = Field(description="One end (a node id).")
    target: str = Field(description="The other end (a node id).")
    kind: str = Field(description="The relationship type.")
    role: str | None = None
    date: str | None = None
    record_id: int = Field(description="The record that states the tie.")
    source_name: str | None = Field(default=None, description="That record's source.")
    via: str | None = Field(default=None, description="The event, address, phone or vehicle a tie goes through.")


class NeighboursOut(BaseModel):
    center: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    depth: dict[str, int] = Field(description="Hops of each node from the center.")


class PathOut(BaseModel):
    found: bool
    length: int | None = None
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class CommunityOut(BaseModel):
    size: int
    central: str
    members: list[str]


class CentralOut(GraphNode):
    degree: float
    betweenness: float


def _where(types: list[Relationship] | None, since: date | None, until: date | None) -> EdgeFilter:
    return EdgeFilter(
        frozenset(types or ()), since.isoformat() if since else None, until.isoformat() if until else None
    )


@router.get("/neighbours", response_model=NeighboursOut, responses=responses(*AUTH_ERRORS, 404))
def get_neighbours(
    actor: GraphReader,
    store: StoreDep,
    entity: EntityParam,
    depth: Depth = 1,
    relationship: Types = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """Entities and events within ``depth`` hops of ``entity`` along the ties the filters keep."""
    return neighbours(graph_for(store, actor), entity, depth, _where(relationship, since, until))


@router.get("/path", response_model=PathOut, responses=responses(*AUTH_ERRORS, 404))
def get_path(
    actor: GraphReader,
    store: StoreDep,
    a: EntityParam,
    b: EntityParam,
    relationship: Types = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """The shortest chain of stated ties between two entities (``found`` false when none)."""
    return shortest_path(graph_for(store, actor), a, b, _where(relationship, since, until))


@router.get("/communities", response_model=list[CommunityOut], responses=responses(*AUTH_ERRORS))
def get_communities(
    actor: GraphReader,
    store: StoreDep,
    relationship: Types = None,
    since: Since = None,
    until: Until = None,
    min_size: Annotated[int, Query(ge=1, le=10_000)] = 3,
) -> list[dict[str, Any]]:
    """Groups of entities more tied to each other than to the rest (Louvain, seeded)."""
    return communities(graph_for(store, actor), _where(relationship, since, until), min_size)


@router.get("/centrality", response_model=list[CentralOut], responses=responses(*AUTH_ERRORS))
def get_centrality(
    actor: GraphReader,
    store: StoreDep,
    relationship: Types = None,
    since: Since = None,
    until: Until = None,
    top: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[dict[str, Any]]:
    """The most connected entities (degree and betweenness centrality)."""
    return centrality(graph_for(store, actor), _where(relationship, since, until), top)


@router.get(
    "/export.graphml",
    response_class=Response,
    responses={
        200: {
            "description": "The graph (or the entity's neighbourhood) as GraphML.",
            "content": {"application/graphml+xml": {"schema": {"type": "string"}}},
        },
        **responses(*AUTH_ERRORS, 404),
    },
)
def export_graphml(
    actor: GraphReader,
    store: StoreDep,
    entity: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this entity's neighbourhood.")
    ] = None,
    depth: Depth = 2,
    relationship: Types = None,
    since: Since = None,
    until: Until = None,
) -> Response:
    """Export the graph you may see, or a neighbourhood of it, as GraphML (for Gephi, yEd, ...)."""
    graph = graph_for(store, actor)
    where = _where(relationship, since, until)
    nodes = [n["id"] for n in neighbours(graph, entity, depth, where)["nodes"]] if entity else None
    # Only safe characters in the header: the id is the caller's text.
    name = "fusionhub-" + "".join(c for c in (entity or "graph") if c.isalnum() or c in "-_") + ".graphml"
    return Response(
        graphml(filtered(graph, where), nodes),
        media_type="application/graphml+xml",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
