"""The embedded tantivy index beside the store (``<data_dir>/search-index``).

Derived data: it can be deleted and rebuilt from the store at any time. Besides the
documents it holds one cursor document (``kind:cursor``) with the change-sequence
number the index is complete up to. The cursor is replaced in the same tantivy commit
as the documents it covers, so after a crash the index and its cursor always agree and
catch-up starts from the right place.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import tantivy

from fusionhub.policy.actor import Actor
from fusionhub.policy.rules import load_policy
from fusionhub.search.documents import FACET_SEP, KEY_FACETS, SearchDocument
from fusionhub.search.engine import FACET_SIZE, FACETS, EngineHit, EngineResult, IndexBusy, top_buckets
from fusionhub.search.names import NicknameTable, nickname_table
from fusionhub.search.policy_filter import ReadFilter, compile_read_filter
from fusionhub.search.query import Node
from fusionhub.search.tantivy_query import Compiler
from fusionhub.search.vocabulary import NameVocabulary, VocabularyView

#: Bumped whenever the fields change: an index of another version is dropped and rebuilt.
SCHEMA_VERSION = "4"
Occur = tantivy.Occur
Query = tantivy.Query

#: Exact-value fields (raw tokenizer). The facet and policy ones are also fast fields.
KEYWORDS = {
    "kind": False,
    "entity_type": True,
    "agency": True,
    "source": True,
    "record_class": True,
    "tlp": True,
    "handling": True,
    "terms": True,
    "status": True,
    "caveat": True,
    "facet_key": True,
    "n_all": False,
    "n_first": False,
    "n_last": False,
    "n_middle": False,
    "n_minit": False,
    "p_all": False,
    "p_first": False,
    "p_last": False,
    "dob": False,
    "dob_key": False,
    "plate": False,
    "plate_key": False,
    "plate_prefix": False,
    "plate_key_prefix": False,
    "ident": False,
    "geo_cell": False,
    "vin": False,
    "phone": False,
    "email": False,
}
INTEGERS = ("record_id", "entity_index", "seq", "agency_id", "occurred", "received", "year", "dob_year", "dob_day")
FLOATS = ("lat", "lon")
TEXTS = ("all", "address")
ANALYZER = "folded"
WRITER_HEAP = 256_000_000
#: Distinct facet keys counted in one pass before counting facet by facet instead.
MAX_FACET_KEYS = 10_000


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for name, fast in KEYWORDS.items():
        builder.add_text_field(name, fast=fast, tokenizer_name="raw", index_option="basic")
    for name in INTEGERS:
        builder.add_integer_field(name, stored=name in ("record_id", "seq"), indexed=True, fast=True)
    for name in FLOATS:
        builder.add_float_field(name, indexed=True, fast=True)
    builder.add_text_field("all", tokenizer_name=ANALYZER, index_option="position")
    builder.add_text_field("address", tokenizer_name=ANALYZER, index_option="position")
    return builder.build()


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(64))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _document(doc: SearchDocument) -> tantivy.Document:
    out = tantivy.Document()
    for name, values in doc.fields.items():
        if name in KEYWORDS or name in TEXTS:
            for value in values:
                out.add_text(name, str(value))
        elif name in INTEGERS:
            for value in values:
                out.add_integer(name, int(value))
        elif name in FLOATS:
            for value in values:
                out.add_float(name, float(value))
    return out


def _count(found: tantivy.SearchResult) -> int:
    # ``count`` exists when the search asked for it (count=True); the stubs do not say so.
    return int(getattr(found, "count", 0) or 0)


class TantivyWriter:
    def __init__(self, engine: TantivyEngine, heap: int) -> None:
        self.engine = engine
        try:
            self.writer = engine.index.writer(heap, 1)
        except ValueError as exc:  # tantivy reports a held lock as a ValueError
            if "lock" in str(exc).lower():
                raise IndexBusy(f"the search index at {engine.path} is being written by another process") from exc
            raise
        self.pending = 0

    def __enter__(self) -> TantivyWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            self.writer.rollback()
        self.writer.wait_merging_threads()
        self.engine.reload()

    def remove_records(self, record_ids: Iterable[int]) -> None:
        ids = list(record_ids)
        for start in range(0, len(ids), 1000):
            self.writer.delete_documents_by_query(
                Query.term_set_query(self.engine.schema, "record_id", ids[start : start + 1000])
            )

    def add(self, documents: Iterable[SearchDocument]) -> None:
        for doc in documents:
            self.writer.add_document(_document(doc))
            self.pending += 1

    def commit(self, cursor: int) -> None:
        schema = self.engine.schema
        self.writer.delete_documents_by_query(Query.term_query(schema, "kind", "cursor", index_option="basic"))
        marker = tantivy.Document()
        marker.add_text("kind", "cursor")
        marker.add_integer("seq", cursor)
        self.writer.add_document(marker)
        self.writer.commit()
        self.engine.known_cursor = cursor
        self.pending = 0


class TantivyEngine:
    """A :class:`fusionhub.search.engine.SearchEngine` over an embedded tantivy index."""

    def __init__(self, path: Path, nicknames: NicknameTable | None = None) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        version_file = self.path / "fusionhub-schema"
        if version_file.exists() and version_file.read_text().strip() != SCHEMA_VERSION:
            # An index of an older layout is derived data: drop it; catch-up rebuilds it.
            shutil.rmtree(self.path)
            self.path.mkdir(parents=True)
        self.schema = build_schema()
        self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        self.index.register_tokenizer(ANALYZER, _analyzer())
        # The engine reloads its reader itself, when the index's meta.json (rewritten by
        # every commit, of any process) changed: a reader generation is then one known
        # state of the index, whose name terms the vocabulary lists once.
        self.index.config_reader("Manual")
        self._meta = self.path / "meta.json"
        self._meta_seen: tuple[int, int, int] | None = None
        #: Bumped by every reload: the name vocabulary is listed once per generation.
        self.generation = 0
        self.vocabulary = NameVocabulary()
        self._reloading = threading.Lock()
        # Written whole or not at all: another process may be reading it.
        staged = version_file.with_name(f"{version_file.name}.{os.getpid()}.tmp")
        staged.write_text(SCHEMA_VERSION)
        os.replace(staged, version_file)
        self.nicknames = nicknames or nickname_table()
        self.compiler = Compiler(self.schema, self.nicknames)
        # Every document but the cursor marker: excluding one document is cheaper than
        # requiring a term that every document has.
        self._marker = Query.term_query(self.schema, "kind", "cursor", index_option="basic")
        self._entity = Query.term_query(self.schema, "kind", "entity", index_option="basic")
        #: The cursor as last read or committed by this process (a cheap staleness check).
        self.known_cursor = -1
        #: When a search last compared the cursor with the store (time.monotonic()).
        self.checked_at = float("-inf")
        self._policies: dict[tuple[str, Actor], ReadFilter] = {}

    def reload(self) -> None:
        """Let searches see the index as last committed (by any process)."""
        with self._reloading:
            # Noted first: a commit landing during the reload is reloaded again next time.
            self._meta_seen = self._meta_state()
            self.index.reload()
            self.generation += 1

    def _meta_state(self) -> tuple[int, int, int] | None:
        try:
            found = os.stat(self._meta)
        except FileNotFoundError:
            return None
        return found.st_ino, found.st_mtime_ns, found.st_size

    def snapshot(self) -> tuple[tantivy.Searcher, VocabularyView]:
        """A searcher of the index as last committed, and the name vocabulary as of the
        same generation."""
        if self._meta_state() != self._meta_seen:
            self.reload()
        with self._reloading:
            generation = self.generation
            searcher = self.index.searcher()
        return searcher, self.vocabulary.at(searcher, generation)

    def cursor(self) -> int:
        self.reload()
        searcher = self.index.searcher()
        found = searcher.search(Query.term_query(self.schema, "kind", "cursor", index_option="basic"), 1)
        values = searcher.fast_field_values("seq", [found.hits[0][1]]) if found.hits else [0]
        self.known_cursor = int(values[0] or 0)
        return self.known_cursor

    def writer(self, heap: int = WRITER_HEAP) -> TantivyWriter:
        return TantivyWriter(self, heap)

    def clear(self) -> None:
        with self.writer() as session:
            session.writer.delete_all_documents()
            session.commit(0)

    def compile(self, node: Node, vocabulary: VocabularyView | None = None) -> tantivy.Query:
        """The query for ``node`` without the policy filter (benchmarks compare against it)."""
        return Query.boolean_query(
            [(Occur.Must, self.compiler.compile(node, vocabulary)), (Occur.MustNot, self._marker)]
        )

    def policy(self, actor: Actor) -> ReadFilter:
        """The compiled read filter for ``actor`` under the policy in force.

        Cached: it is a function of the actor's attributes (an :class:`Actor` is a frozen
        value, so a changed role, agency or training date is another key) and of the
        policy (its hash is part of the key, so a policy switched under a running
        process is never answered with the old filter).
        """
        key = (load_policy().sha256, actor)
        found = self._policies.get(key)
        if found is None:
            if len(self._policies) > 1024:
                self._policies.clear()
            found = self._policies[key] = compile_read_filter(self.schema, actor)
        return found

    def filtered(self, node: Node, actor: Actor, vocabulary: VocabularyView | None = None) -> tantivy.Query:
        return Query.boolean_query(
            [
                (Occur.Must, self.compiler.compile(node, vocabulary)),
                (Occur.MustNot, self._marker),
                *self.policy(actor).clauses(),
            ]
        )

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
        searcher, vocabulary = self.snapshot()
        query = self.filtered(node, actor, vocabulary)
        kwargs: dict[str, Any] = {}
        if sort != "relevance":
            kwargs["order_by_field"] = sort.lstrip("-")
            kwargs["order"] = tantivy.Order.Desc if sort.startswith("-") else tantivy.Order.Asc
        # tantivy refuses a page of 0: ask for one and show none (a count-only search).
        found = searcher.search(query, max(limit, 1), count=True, offset=offset, **kwargs)
        addresses = [address for _, address in found.hits[:limit]]
        record_ids = searcher.fast_field_values("record_id", addresses) if addresses else []
        entity_indexes = searcher.fast_field_values("entity_index", addresses) if addresses else []
        hits = [
            EngineHit(int(rid or 0), int(eix or 0), float(score) if sort == "relevance" else 0.0)
            for (score, _), rid, eix in zip(found.hits[:limit], record_ids, entity_indexes, strict=True)
        ]
        total = _count(found)
        counts: dict[str, list[tuple[str, int]]] = {}
        # A page holding every match has its facets counted by the caller over the
        # page's records: asking the query again (a fuzzy name query expands its terms
        # anew) or aggregating over the page's documents cost ~0.3-0.5 ms per search.
        whole = offset == 0 and 0 < total <= len(hits)
        if facets and total == 0:
            counts = {name: [] for name in FACETS}
        elif facets and not whole:
            counts = self.facets(searcher, query)
        return EngineResult(total=total, hits=hits, facets=counts, whole=facets and whole)

    def facets(self, searcher: tantivy.Searcher, query: tantivy.Query) -> dict[str, list[tuple[str, int]]]:
        """Counts of every facet, from one counting pass over the matching documents.

        Each document holds its single-valued facets (agency, source, type, year, record
        class, TLP) as one ``facet_key``; counting those keys (a few hundred distinct
        combinations) and adding them up here costs about what counting one facet
        costs, where a terms aggregation per facet cost one pass over the hits each.
        The caveat facet is the TLP (``TLP:<tlp>``) and the handling marks, which few
        documents have. Should the keys ever be too many to count at once, each facet
        is counted on its own, as exactly.
        """
        spec = {
            "key": {"terms": {"field": "facet_key", "size": MAX_FACET_KEYS}},
            "handling": {"terms": {"field": "handling", "size": FACET_SIZE}},
        }
        result = searcher.aggregate(query, spec)
        keys = result.get("key", {})
        if int(keys.get("sum_other_doc_count", 0) or 0) > 0:
            return self._facets_one_by_one(searcher, query)
        counts: dict[str, Counter[str]] = {name: Counter() for name in KEY_FACETS}
        for bucket in keys.get("buckets", []):
            values = str(bucket["key"]).split(FACET_SEP)
            if len(values) != len(KEY_FACETS):
                continue
            for name, value in zip(KEY_FACETS, values, strict=True):
                counts[name][value] += int(bucket["doc_count"])
        caveats = Counter({f"TLP:{tlp}": n for tlp, n in counts["tlp"].items()})
        for bucket in result.get("handling", {}).get("buckets", []):
            caveats[str(bucket["key"])] += int(bucket["doc_count"])
        found = {name: counts[name] for name in FACETS if name != "caveat"}
        found["caveat"] = caveats
        return {name: top_buckets(found[name]) for name in FACETS}

    def _facets_one_by_one(self, searcher: tantivy.Searcher, query: tantivy.Query) -> dict[str, list[tuple[str, int]]]:
        spec = {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in FACETS}
        result = searcher.aggregate(query, spec)
        return {
            name: [(str(bucket["key"]), int(bucket["doc_count"])) for bucket in result.get(name, {}).get("buckets", [])]
            for name in FACETS
        }

    def stats(self) -> dict[str, object]:
        self.reload()
        searcher = self.index.searcher()
        size = sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())
        return {
            "path": str(self.path),
            "documents": _count(searcher.search(self._entity, 1, count=True)),
            "segments": int(searcher.num_segments),
            "bytes": size,
            "cursor": self.cursor(),
            "nicknames": self.nicknames.warning or f"{len(self.nicknames.variants)} names from {self.nicknames.path}",
        }
