"""The link graph of resolved entities, built for one user from the records they may read.

Nodes are canonical entities (persons, vehicles, phones, addresses, organisations, as
resolved by ``fusionhub.resolve``) and events (incidents, arrests, calls). Edges say
how two are related and where that was recorded:

* ``involved`` (a party's role in an event) and ``object`` (a vehicle or item in one);
* ``same-incident`` between two parties of one event, with both roles;
* ``co-arrest`` between two arrestees of one event;
* ``resides``, ``uses-phone``, ``owns`` to addresses, phones and vehicles, and from them
  ``shared-address``, ``shared-phone``, ``shared-vehicle`` between the parties;
* ``associate`` (a stated association: family, associate, gang member, co-arrestee);
* ``employment`` and ``identification``.

Records are selected with ``record_filter(actor)``: an edge exists only if a record
the viewer may read states it, so a query never reveals what a hidden record says.
Each edge names its record (``record_id``) and that record's source (``source_name``;
not ``source``, which is the edge's first end in the JSON and GraphML shapes). The
graph keeps the handling caveats of every record it was built from
(``graph.graph["markings"]``), so a page showing any part of it can carry a caveat at
least as restrictive as what an expansion may reveal.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
from sqlalchemy import func, select

from fusionhub.model import load_model
from fusionhub.policy.actor import Actor
from fusionhub.policy.decision import record_filter
from fusionhub.policy.rules import load_policy
from fusionhub.resolve.features import value
from fusionhub.store import Store
from fusionhub.store import resolve_tables as rt
from fusionhub.store import tables as t

#: Edge types, for filters and the link chart legend.
EDGE_TYPES = (
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
)
#: A shared address or phone held by more parties than this (a shelter, a jail's
#: switchboard) links them all to it but not pairwise to each other.
SHARED_LIMIT = 25
_DIRECT = {"Residence": "resides", "PhoneUse": "uses-phone", "Ownership": "owns"}
_SHARED = {"resides": "shared-address", "uses-phone": "shared-phone", "owns": "shared-vehicle"}


@dataclass
class EdgeFacts:
    kind: str
    role: str | None
    date: str | None
    record_id: int
    source: str


def _node_id(ref: str, canonical: dict[str, str]) -> str:
    return canonical.get(ref, ref)


def _caption(entity: dict[str, Any]) -> str:
    props = entity.get("properties") or {}
    schema = load_model().schemata.get(str(entity.get("schema")))
    if schema is not None:
        parts = [value(props[p][0]) for p in ("firstName", "lastName") if props.get(p)]
        if parts:
            return " ".join(parts)
        for prop in schema.caption:
            if props.get(prop):
                return value(props[prop][0])
        return schema.label
    return str(entity.get("schema"))


def build_graph(store: Store, actor: Actor) -> nx.MultiGraph:
    """The whole graph ``actor`` may see (filters apply at query time)."""
    model = load_model()
    r, s = t.record.c, t.source.c
    graph = nx.MultiGraph()
    markings: set[tuple[str, tuple[str, ...]]] = set()
    with store.connect() as conn:
        canonical = {
            str(ref): str(c)
            for ref, c in conn.execute(select(rt.resolve_entity.c.ref, rt.resolve_entity.c.canonical_id))
        }
        query = (
            select(r.id, r.payload, r.occurred_at, r.tlp, r.handling, s.name.label("source_name"))
            .select_from(t.record.join(t.source, s.id == r.source_id))
            .where(record_filter(actor))
            .execution_options(yield_per=2000)
        )
        for row in conn.execute(query):
            _add_record(graph, model, int(row.id), row.payload or {}, row.occurred_at, row.source_name, canonical)
            markings.add((str(row.tlp), tuple(h for h in str(row.handling or "").split(",") if h)))
    _derive_shared(graph)
    graph.graph["markings"] = sorted(markings)
    return graph


#: Graphs kept for reuse (the link chart asks for neighbours on every click), and how long.
CACHE_SIZE = 4
CACHE_SECONDS = 300.0
_cache: OrderedDict[tuple[Any, ...], tuple[float, nx.MultiGraph]] = OrderedDict()
_cache_lock = threading.Lock()


def _inputs(store: Store) -> tuple[Any, ...]:
    """Everything a user's graph depends on besides the user: the change sequence (new,
    changed, cancelled and purged records), the last resolution run, each source's
    sharing terms and agency, and the policy file in force."""
    with store.connect() as conn:
        seq = conn.execute(select(func.max(t.record.c.seq))).scalar()
        # The resolver's cursor row (fusionhub.resolve.resolver.CURSOR) is rewritten by every run that changed anything.
        resolved = conn.execute(select(t.index_cursor.c.updated_at).where(t.index_cursor.c.name == "resolve")).scalar()
        sources = tuple(
            (int(i), int(a), json.dumps(terms or {}, sort_keys=True))
            for i, a, terms in conn.execute(
                select(t.source.c.id, t.source.c.agency_id, t.source.c.sharing_terms).order_by(t.source.c.id)
            )
        )
    return (seq, str(resolved), sources, load_policy().sha256)


def graph_for(store: Store, actor: Actor) -> nx.MultiGraph:
    """``build_graph(store, actor)``, reused while none of its inputs has changed.

    The key is the whole actor (roles, agency, training) and ``_inputs``: a graph built
    under other terms or another policy is never handed out. Callers must not modify it.
    """
    key = (store.url, actor, _inputs(store))
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            _cache.move_to_end(key)
            return hit[1]
    graph = build_graph(store, actor)
    with _cache_lock:
        _cache[key] = (now, graph)
        _cache.move_to_end(key)
        for stale in [
            k for k, (at, _) in _cache.items() if now - at >= CACHE_SECONDS or (k[:2] == key[:2] and k != key)
        ]:
            _cache.pop(stale, None)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return graph


def _add_record(
    graph: nx.MultiGraph,
    model: Any,
    record_id: int,
    payload: dict[str, Any],
    occurred_at: str | None,
    source: str,
    canonical: dict[str, str],
) -> None:
    entities = list(payload.get("entities") or [])
    by_id = {str(e.get("id")): e for e in entities}
    event_parties: dict[str, list[tuple[str, str | None]]] = {}
    for entity in entities:
        schema = model.schemata.get(str(entity.get("schema")))
        if schema is None or schema.is_relationship:
            continue
        node = _node_id(str(entity.get("id")), canonical)
        if node not in graph:
            graph.add_node(node, schema=schema.name, label=_caption(entity), records=[])
        if record_id not in graph.nodes[node]["records"]:
            graph.nodes[node]["records"].append(record_id)
        if schema.is_a("Event"):
            props = entity.get("properties") or {}
            when = value(props["occurredAt"][0]) if props.get("occurredAt") else occurred_at
            graph.nodes[node]["date"] = when
    for entity in entities:
        schema = model.schemata.get(str(entity.get("schema")))
        if schema is None or not schema.is_relationship or not schema.edge:
            continue
        props = entity.get("properties") or {}
        src_refs = [value(v) for v in props.get(schema.edge["source"], [])]
        dst_refs = [value(v) for v in props.get(schema.edge["target"], [])]
        role = value(props["role"][0]).lower() if props.get("role") else None
        date = value(props["startDate"][0]) if props.get("startDate") else occurred_at
        for a, b in itertools.product(src_refs, dst_refs):
            if a not in by_id or b not in by_id:
                continue
            na, nb = _node_id(a, canonical), _node_id(b, canonical)
            kind = _kind(schema.name, by_id[b], model)
            graph.add_edge(na, nb, kind=kind, role=role, date=date, record_id=record_id, source_name=source)
            if schema.name in ("Involvement", "ObjectInvolvement"):
                event_parties.setdefault(nb, []).append((na, role))
    for event, parties in event_parties.items():
        date = graph.nodes[event].get("date") or occurred_at
        for (a, role_a), (b, role_b) in itertools.combinations(parties, 2):
            if a == b:
                continue
            graph.add_edge(
                a,
                b,
                kind="same-incident",
                role=f"{role_a}/{role_b}",
                date=date,
                record_id=record_id,
                source_name=source,
                via=event,
            )
            if role_a == role_b == "arrestee":
                graph.add_edge(
                    a,
                    b,
                    kind="co-arrest",
                    role="arrestee",
                    date=date,
                    record_id=record_id,
                    source_name=source,
                    via=event,
                )


def _kind(relationship: str, target: dict[str, Any], model: Any) -> str:
    if relationship == "Involvement":
        return "involved"
    if relationship == "ObjectInvolvement":
        return "object"
    if relationship == "Association":
        return "associate"
    if relationship == "Employment":
        return "employment"
    if relationship == "Identification":
        return "identification"
    return _DIRECT.get(relationship, relationship.lower())


def _derive_shared(graph: nx.MultiGraph) -> None:
    """Parties tied to the same address, phone or vehicle get a direct edge."""
    for hub in list(graph.nodes):
        by_kind: dict[str, dict[str, dict[str, Any]]] = {}
        for _, other, data in graph.edges(hub, data=True):
            shared = _SHARED.get(str(data.get("kind")))
            if shared:
                by_kind.setdefault(shared, {}).setdefault(other, data)
        for kind, parties in by_kind.items():
            if len(parties) < 2 or len(parties) > SHARED_LIMIT:
                continue
            for (a, da), (b, db) in itertools.combinations(sorted(parties.items()), 2):
                graph.add_edge(
                    a,
                    b,
                    kind=kind,
                    role=None,
                    date=max(str(da.get("date") or ""), str(db.get("date") or "")) or None,
                    record_id=da["record_id"],
                    source_name=da["source_name"],
                    via=hub,
                )


def edges_json(graph: nx.MultiGraph, edges: Iterable[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    return [{"source": a, "target": b, **{k: v for k, v in data.items() if v is not None}} for a, b, data in edges]
