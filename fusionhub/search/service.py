"""Search for a user: parse, filter by policy inside the index, hydrate, explain, audit.

``search`` is the one entry point for the CLI, the API and the web page. The policy
runs twice and never after the fact: compiled into the index query (so totals and
facets only count readable records) and again in the store query that hydrates the
page of hits (so a stale index can never show a record the policy now refuses).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Boolean, ColumnElement, Connection, Dialect, bindparam, literal_column, select
from sqlalchemy.exc import CompileError

from fusionhub.model import load_model
from fusionhub.policy.actor import Actor
from fusionhub.policy.decision import record_filter
from fusionhub.policy.reader import check_purpose
from fusionhub.policy.rules import load_policy
from fusionhub.search.audit import record_search
from fusionhub.search.documents import SearchDocument, add_entity, caveat_values, facet_year
from fusionhub.search.engine import FACETS, SORTS, EngineHit, EngineResult, top_buckets
from fusionhub.search.explain import explain
from fusionhub.search.follower import catch_up, engine_for
from fusionhub.search.query import BirthDate, Box, Key, Name, Plate, QuerySyntaxError, Radius, leaves, parse
from fusionhub.store import Store
from fusionhub.store import tables as t
from fusionhub.store.driver import DriverQuery

MAX_LIMIT = 500
CATCH_UP_CHECK_SECONDS = 1.0
VALUE_CLAUSES = (Name, BirthDate, Plate, Key, Box, Radius)
#: The property types whose values explain a match of each kind of clause (see explain.py).
EXPLAINED_TYPES: dict[type, tuple[str, ...]] = {
    Name: ("name",),
    BirthDate: ("date",),
    Plate: ("plate",),
    Key: ("identifier", "phone", "email"),
    Box: ("geopoint",),
    Radius: ("geopoint",),
}


def _only(entity: dict[str, Any], kinds: frozenset[str]) -> dict[str, Any]:
    """``entity`` with just the properties of the types in ``kinds``."""
    schema = load_model().schemata.get(str(entity.get("schema")))
    if schema is None:
        return entity  # a schema since removed: every property is text, as when indexed
    kept = {}
    for name, values in (entity.get("properties") or {}).items():
        known = schema.properties.get(name)
        if known is not None and known.type.name in kinds:
            kept[name] = values
    return {**entity, "properties": kept}


@dataclass
class SearchHit:
    record_id: int
    entity_type: str
    entity_id: str | None
    score: float
    caption: str
    matched: list[dict[str, Any]]
    provenance: dict[str, Any]


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    limit: int = 20
    offset: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict, which deep-copies every value of every
        # hit (a third of a search's CPU time in the web server); the values are fresh
        # per search and already JSON-ready.
        return {
            "query": self.query,
            "total": self.total,
            "hits": [
                {
                    "record_id": hit.record_id,
                    "entity_type": hit.entity_type,
                    "entity_id": hit.entity_id,
                    "score": hit.score,
                    "caption": hit.caption,
                    "matched": hit.matched,
                    "provenance": hit.provenance,
                }
                for hit in self.hits
            ],
            "facets": self.facets,
            "limit": self.limit,
            "offset": self.offset,
            "warnings": list(self.warnings),
        }


def _caption(entity: dict[str, Any]) -> str:
    props = entity.get("properties") or {}
    for name in ("name", "caseNumber", "plate", "full", "number", "address", "arrestNumber", "sarNumber", "tipNumber"):
        values = props.get(name)
        if values:
            first = values[0]
            return str(first[0] if isinstance(first, list) else first)
    first_name, last_name = props.get("firstName"), props.get("lastName")
    if first_name or last_name:
        parts = [(v[0][0] if isinstance(v[0], list) else v[0]) for v in (first_name, last_name) if v]
        return " ".join(str(p) for p in parts)
    return str(entity.get("schema", ""))


_CATCH_UP_LOCK = threading.Lock()


def search(
    store: Store,
    actor: Actor,
    query: str,
    purpose: str | None = None,
    limit: int = 20,
    offset: int = 0,
    sort: str = "relevance",
    facets: bool = True,
) -> SearchResult:
    """Run ``query`` for ``actor``. Raises :class:`QuerySyntaxError` for an unreadable query."""
    if sort not in SORTS:
        raise QuerySyntaxError(f"sort must be one of {', '.join(SORTS)}")
    limit = max(0, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    # Any search can return people: every search states why (28 CFR 23.20(e), need to know).
    purpose = check_purpose(purpose)
    node = parse(query)
    engine = engine_for(store)
    # A crash between a store commit and an index commit is made good here at the
    # latest: checked at most once a second, as imports in this process and in others
    # index what they commit themselves.
    # Searches arriving while one catches up wait for it rather than read a stale index.
    with _CATCH_UP_LOCK:
        now = time.monotonic()
        if now - engine.checked_at >= CATCH_UP_CHECK_SECONDS:
            engine.checked_at = now
            if engine.known_cursor < store.last_seq():
                catch_up(store, engine)
    found: EngineResult = engine.search(node, actor, limit=limit, offset=offset, sort=sort, facets=facets)
    # The page is read and its audit event written in one transaction: no look unrecorded.
    # The hits are composed after the commit, from the rows read: the transaction holds
    # the store's write lock, and explaining a page of matches is most of the work.
    with store.begin() as conn:
        statement, page = _read_page(conn, actor, found)
        readable = {values[0] for values in page}
        shown = [hit.record_id for hit in found.hits if hit.record_id in readable]
        record_search(conn, actor, purpose, query, found.total, shown)
    # Decoded after the commit (payload JSON, times), out of the store's write lock.
    rows: dict[int, PageRow] = {row.id: row for row in map(statement.decode, page)}
    if found.whole:
        found.facets = _page_facets(found, rows)
    hits = _compose_hits(engine, node, found, rows)
    result = SearchResult(
        query=query,
        total=found.total,
        hits=hits,
        facets={name: [{"value": v, "count": c} for v, c in buckets] for name, buckets in found.facets.items()},
        limit=limit,
        offset=offset,
    )
    if engine.nicknames.warning:
        result.warnings.append(engine.nicknames.warning)
    return result


def _page_slots(count: int) -> int:
    """Bind slots for a page of ``count`` ids: a power of two, so a few statements serve every page size."""
    slots = 8
    while slots < count:
        slots *= 2
    return slots


def _page_statement(dialect: Dialect, actor: Actor, slots: int) -> DriverQuery:
    """The page query for ``actor``: up to ``slots`` records by id, through the policy filter.

    Built once per actor, policy and page size (the filter depends on nothing else; the
    policy's hash is part of the key), so a search pays for running it, not for
    composing it; run on the driver's cursor, as reading a page of 20 rows through
    SQLAlchemy's result layer (JSON and date-time processing, row objects) cost ~0.4 ms
    against ~0.07 ms for the database.
    """
    return _page_query(dialect, load_policy().sha256, actor, slots)


@lru_cache(maxsize=256)
def _page_query(dialect: Dialect, policy_sha256: str, actor: Actor, slots: int) -> DriverQuery:
    r, s, a = t.record.c, t.source.c, t.agency.c
    condition: ColumnElement[bool] = record_filter(actor)
    try:
        # The filter's values (statuses, TLP levels, agency ids, sharing-term names) are
        # the policy's and the actor's, fixed for this statement: written into it once
        # rather than bound as lists that are expanded again at every execution.
        rendered = condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        condition = literal_column(f"({rendered})", Boolean)
    except CompileError:  # a value the dialect cannot write as a literal: bind it
        pass
    return DriverQuery(
        select(
            r.id,
            r.payload,
            r.source_record_id,
            r.batch_id,
            r.received_at,
            r.reliability,
            r.validity,
            r.record_class,
            r.tlp,
            r.handling,
            r.status,
            r.occurred_at,
            s.name.label("source_name"),
            s.system,
            a.code.label("agency_code"),
        )
        .select_from(t.record.join(t.source, s.id == r.source_id).join(t.agency, a.id == r.agency_id))
        .where(r.id.in_([bindparam(f"id{n}") for n in range(slots)]), condition),
        row_type=PageRow,
    )


class PageRow(NamedTuple):
    id: int
    payload: dict[str, Any]
    source_record_id: str
    batch_id: int | None
    received_at: datetime
    reliability: str
    validity: str
    record_class: str
    tlp: str
    handling: str
    status: str
    occurred_at: str | None
    source_name: str
    system: str
    agency_code: str

    @property
    def handling_marks(self) -> list[str]:
        """The handling caveats beside the TLP (stored comma-joined)."""
        return [mark for mark in self.handling.split(",") if mark]


def _read_page(conn: Connection, actor: Actor, found: EngineResult) -> tuple[DriverQuery, list[tuple[Any, ...]]]:
    """The page's statement and the rows of the page's records that ``actor`` may read,
    as the driver returns them (one query; ``statement.decode`` makes each a PageRow)."""
    ids = sorted({hit.record_id for hit in found.hits})
    slots = _page_slots(len(ids))
    statement = _page_statement(conn.dialect, actor, slots)
    if not ids:
        return statement, []
    padded = ids + [ids[-1]] * (slots - len(ids))  # the spare slots repeat an id
    return statement, statement.execute(conn, {f"id{n}": value for n, value in enumerate(padded)})


def _hit_rows(
    found: EngineResult, rows: dict[int, PageRow]
) -> Iterator[tuple[EngineHit, PageRow, list[dict[str, Any]], dict[str, Any]]]:
    """Each hit with its record's row, the record's entities and the hit's entity; a hit
    whose record changed since it was indexed and is no longer readable is left out."""
    for hit in found.hits:
        row = rows.get(hit.record_id)
        if row is None:
            continue
        entities = (row.payload or {}).get("entities", [])
        yield hit, row, entities, entities[hit.entity_index] if hit.entity_index < len(entities) else {}


def _page_facets(found: EngineResult, rows: dict[int, PageRow]) -> dict[str, list[tuple[str, int]]]:
    """Facet counts of a page that holds every match, from its records' rows.

    The same values the index keeps per document (``documents._provenance``), so the
    counts equal a count over the query (``test_policy_counts``)."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for _, row, _, entity in _hit_rows(found, rows):
        counts["agency"][row.agency_code] += 1
        counts["source"][row.source_name] += 1
        counts["entity_type"][str(entity.get("schema", "Thing"))] += 1
        counts["year"][str(facet_year(row.occurred_at, row.received_at))] += 1
        counts["record_class"][row.record_class] += 1
        counts["caveat"].update(caveat_values(row.tlp, row.handling_marks))
    return {name: top_buckets(counts[name]) for name in FACETS}


def _compose_hits(engine: Any, node: Any, found: EngineResult, rows: dict[int, PageRow]) -> list[SearchHit]:
    """The hits of the page from its rows: provenance, caption and what matched."""
    # Free text, facets and time ranges are explained from the query alone.
    clauses = leaves(node)
    needs_values = any(isinstance(leaf, VALUE_CLAUSES) for leaf, _ in clauses)
    # Only the kinds of value the query's clauses compare are derived again (a name
    # query does not need phone, plate or date keys of every hit).
    kinds = frozenset(kind for leaf, _ in clauses for kind in EXPLAINED_TYPES.get(type(leaf), ()))
    # Only an area clause explains with the coordinates of the record's other places.
    needs_places = any(isinstance(leaf, (Box, Radius)) for leaf, _ in clauses)
    schemata = load_model().schemata
    hits = []
    for hit, row, entities, entity in _hit_rows(found, rows):
        doc = SearchDocument(row.id, hit.entity_index, str(entity.get("schema", "")))
        if needs_values:
            add_entity(doc, _only(entity, kinds), lookup_only=True)
            for other in entities if needs_places else ():
                schema = schemata.get(str(other.get("schema")))
                if other is not entity and schema is not None and schema.is_a("Location"):
                    add_entity(doc, _only(other, kinds), as_place=True, lookup_only=True)
        hits.append(
            SearchHit(
                record_id=row.id,
                entity_type=str(entity.get("schema", "")),
                entity_id=entity.get("id"),
                score=round(hit.score, 4),
                caption=_caption(entity),
                matched=explain(node, doc, engine.nicknames, clauses),
                provenance={
                    "agency": row.agency_code,
                    "source": row.source_name,
                    "system": row.system,
                    "source_record_id": row.source_record_id,
                    "batch_id": row.batch_id,
                    "received_at": row.received_at.isoformat(),
                    "occurred_at": row.occurred_at,
                    "reliability": row.reliability,
                    "validity": row.validity,
                    "record_class": row.record_class,
                    "caveat": " ".join(caveat_values(row.tlp, row.handling_marks)),
                    "status": row.status,
                },
            )
        )
    return hits
