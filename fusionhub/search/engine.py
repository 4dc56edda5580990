"""The search engine contract: what the service needs from an index, nothing more.

The embedded tantivy index (``tantivy_engine``) fulfils it; a server search engine can
stand in for it when a center outgrows one machine, by implementing these methods with
the same meaning: documents in, a cursor committed atomically with them, and queries
whose policy filter runs inside the engine so totals and facets never count what the
actor may not see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from fusionhub.policy.actor import Actor
from fusionhub.search.documents import SearchDocument
from fusionhub.search.query import Node

#: Facets every search can count, by the document field that holds them.
FACETS = ("agency", "source", "entity_type", "year", "caveat", "record_class")
SORTS = ("relevance", "occurred", "-occurred", "received", "-received")
#: Values shown per facet.
FACET_SIZE = 50


def top_buckets(counts: Counter[str]) -> list[tuple[str, int]]:
    """The FACET_SIZE most frequent values, most frequent first (ties by value)."""
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:FACET_SIZE]


class IndexBusy(Exception):
    """Another process holds the index writer; it is indexing and this one need not."""


@dataclass(frozen=True)
class EngineHit:
    record_id: int
    entity_index: int
    score: float


@dataclass
class EngineResult:
    total: int
    hits: list[EngineHit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    #: The page holds every match (first page, total <= hits): with ``facets`` asked,
    #: the engine leaves their counting to the caller, who reads the page's records.
    whole: bool = False


class IndexWriterSession(Protocol):
    def remove_records(self, record_ids: Iterable[int]) -> None:
        """Remove every document of these records (before re-adding their new version)."""

    def add(self, documents: Iterable[SearchDocument]) -> None: ...

    def commit(self, cursor: int) -> None:
        """Publish what was added and removed together with the change-sequence cursor."""


class SearchEngine(Protocol):
    def cursor(self) -> int:
        """The change sequence number up to which the index holds the store."""

    def writer(self) -> IndexWriterSession:
        """A writing session (a context manager); raises :class:`IndexBusy` when taken."""

    def clear(self) -> None:
        """Drop every document and reset the cursor to 0 (for a rebuild)."""

    def search(
        self,
        node: Node,
        actor: Actor,
        *,
        limit: int,
        offset: int = 0,
        sort: str = "relevance",
        facets: bool = False,
    ) -> EngineResult:
        """Hits, total and facet counts of ``node`` among the documents ``actor`` may read.

        When the page holds every match, ``whole`` is set and the facets are left
        empty: the caller counts them over the page's records (no second pass)."""

    def stats(self) -> dict[str, object]: ...
