"""The query tree compiled into tantivy queries.

Name clauses score each way a token can match with a fixed weight, so the kind of
match, not the rarity of a misspelling, decides the order: exact 4, nickname 3,
initial 2.5, fuzzy 2, phonetic 1.5. A full name asks every given and family name (in
any position, so swapped names match), treats middle names as optional (missing or
initial-only middles still match) and ranks names in their recorded order first.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta

import tantivy

from fusionhub.model import load_model
from fusionhub.model.types.identifiers import PLATE_CONFUSIONS
from fusionhub.model.types.name import name_tokens, parse_name
from fusionhub.search.documents import CELL_SIZES, EPOCH
from fusionhub.search.names import NicknameTable, fuzzy_distance, phonetic_keys
from fusionhub.search.query import (
    Address,
    And,
    BirthDate,
    Box,
    Facet,
    Key,
    MatchAll,
    Name,
    Node,
    Not,
    Or,
    Plate,
    Radius,
    Text,
    TimeRange,
    distance_km,
)
from fusionhub.search.vocabulary import VocabularyView

Occur = tantivy.Occur
Query = tantivy.Query

EXACT, NICKNAME, INITIAL, FUZZY, PHONETIC = 4.0, 3.0, 2.5, 2.0, 1.5
KEY_FIELD = {"vin": "vin", "phone": "phone", "email": "email", "id": "ident"}


class Compiler:
    def __init__(self, schema: tantivy.Schema, nicknames: NicknameTable) -> None:
        self.schema = schema
        self.nicknames = nicknames

    # -- helpers ----------------------------------------------------------------------
    def term(self, field: str, value: str | int) -> tantivy.Query:
        if isinstance(value, str):
            return Query.term_query(self.schema, field, value, index_option="basic")
        return Query.term_query(self.schema, field, value)

    def terms(self, field: str, values: list[str]) -> tantivy.Query:
        """Any of many ``values`` (hundreds of grid cells): one set lookup."""
        return Query.term_set_query(self.schema, field, list(dict.fromkeys(values)))

    def one_of(self, field: str, values: list[str], weight: float = 1.0) -> tantivy.Query:
        """Any of a few ``values`` (phonetic codes, nicknames, a phone's forms), scored ``weight``.

        Term queries joined by OR rather than a term set: a term set marks every
        matching document in a bitmap the size of the index before the search starts,
        which at a million documents cost ~0.5 ms per clause even for a rare value."""
        return Query.const_score_query(self.union([self.term(field, value) for value in dict.fromkeys(values)]), weight)

    def any_term(self, field: str, values: list[str]) -> tantivy.Query:
        """A filter on one of ``values`` (entity types, record classes): scores nothing."""
        return self.one_of(field, values, 0.0)

    @staticmethod
    def score(query: tantivy.Query, weight: float) -> tantivy.Query:
        return Query.const_score_query(query, weight)

    @staticmethod
    def any_of(queries: list[tantivy.Query]) -> tantivy.Query:
        if len(queries) == 1:
            return queries[0]
        return Query.disjunction_max_query(queries)

    @staticmethod
    def all_of(queries: list[tantivy.Query]) -> tantivy.Query:
        if len(queries) == 1:
            return queries[0]
        return Query.boolean_query([(Occur.Must, q) for q in queries])

    def int_range(self, field: str, low: int | None, high: int | None) -> tantivy.Query:
        return Query.range_query(self.schema, field, tantivy.FieldType.Integer, low, high)

    def float_range(self, field: str, low: float, high: float) -> tantivy.Query:
        return Query.range_query(self.schema, field, tantivy.FieldType.Float, low, high)

    # -- the tree ---------------------------------------------------------------------
    def compile(self, node: Node, vocabulary: VocabularyView | None = None) -> tantivy.Query:
        """The query for ``node``; ``vocabulary`` (the name terms of the index it will
        search) spells fuzzy name tokens out, see :mod:`fusionhub.search.vocabulary`."""
        if isinstance(node, MatchAll):
            return Query.all_query()
        if isinstance(node, And):
            clauses = []
            for child in node.children:
                if isinstance(child, Not):
                    clauses.append((Occur.MustNot, self.compile(child.child, vocabulary)))
                else:
                    clauses.append((Occur.Must, self.compile(child, vocabulary)))
            if all(occur == Occur.MustNot for occur, _ in clauses):
                clauses.append((Occur.Must, Query.all_query()))
            return Query.boolean_query(clauses)
        if isinstance(node, Or):
            return Query.boolean_query([(Occur.Should, self.compile(child, vocabulary)) for child in node.children])
        if isinstance(node, Not):
            return Query.boolean_query(
                [(Occur.Must, Query.all_query()), (Occur.MustNot, self.compile(node.child, vocabulary))]
            )
        if isinstance(node, Text):
            if node.phrase:
                return Query.phrase_query(self.schema, "all", list(node.words))
            return self.all_of([Query.term_query(self.schema, "all", w) for w in node.words])
        if isinstance(node, Name):
            return self.name(node, vocabulary)
        if isinstance(node, BirthDate):
            return self.birth_date(node)
        if isinstance(node, Plate):
            return self.plate(node)
        if isinstance(node, Key):
            return self.one_of(KEY_FIELD[node.field], list(node.values))
        if isinstance(node, Address):
            if len(node.words) == 1:
                return Query.term_query(self.schema, "address", node.words[0])
            return Query.phrase_query(self.schema, "address", list(node.words))
        if isinstance(node, Facet):
            return self.facet(node)
        if isinstance(node, Box):
            return self.box(node)
        if isinstance(node, Radius):
            return self.radius(node)
        if isinstance(node, TimeRange):
            low = _epoch(node.low) if node.low else None
            high = _epoch(node.high) - 1 if node.high else None
            return self.int_range(node.field, low, high)
        raise TypeError(f"cannot compile {node!r}")

    # -- names ------------------------------------------------------------------------
    def name_ways(
        self, token: str, part: str, nicknames: bool = True, vocabulary: VocabularyView | None = None
    ) -> tuple[list[tuple[float, tantivy.Query]], bool]:
        """Every way one name token may match one part (all, first, last, middle), each
        with the weight of its kind of match, and whether one of them is tantivy's fuzzy
        query: a fuzzy allowance is spelled out as terms when ``vocabulary`` lists the field."""
        field, phon = f"n_{part}", f"p_{'all' if part == 'middle' else part}"
        if len(token) == 1:
            if part == "middle":
                return [(INITIAL, self.term("n_minit", token))], False
            return [(INITIAL, Query.regex_query(self.schema, field, re.escape(token) + ".*"))], False
        ways = [(EXACT, self.term(field, token))]
        if nicknames and part in ("all", "first"):
            ways += [(NICKNAME, self.term(field, variant)) for variant in sorted(self.nicknames.expand(token))]
        distance = fuzzy_distance(token)
        automaton = False
        if distance:
            spelled = vocabulary.fuzzy_terms(field, token, distance) if vocabulary is not None else None
            if spelled is None:
                automaton = True
                ways.append((FUZZY, Query.fuzzy_term_query(self.schema, field, token, distance)))
            else:
                ways += [(FUZZY, self.term(field, term)) for term in spelled]
        ways += [(PHONETIC, self.term(phon, key)) for key in phonetic_keys(token)]
        if part == "middle":
            ways.append((INITIAL - 1, self.term("n_minit", token[0])))
        return ways, automaton

    def name_token(
        self, token: str, part: str, nicknames: bool = True, vocabulary: VocabularyView | None = None
    ) -> tantivy.Query:
        """One name token against one part, scored by its best way of matching."""
        ways, automaton = self.name_ways(token, part, nicknames, vocabulary)
        if automaton:
            # tantivy's fuzzy query marks its documents in a bitmap when the search
            # starts; levels that exclude it would build that bitmap once more each.
            return self.any_of([self.score(query, weight) for weight, query in ways])
        return self.best_of(ways)

    def best_of(self, ways: list[tuple[float, tantivy.Query]]) -> tantivy.Query:
        """A document scores the weight of the best way it matches, like a disjunction
        max of the weighted ways, built as a union of disjoint levels instead: each
        weight's terms, less the documents a higher weight already takes. A union skips
        through its postings lists where a disjunction max visits every document of
        every way (a common given name's phonetic code holds tens of thousands), which
        at a million records made a two-name search ~0.3 ms dearer."""
        levels: dict[float, list[tantivy.Query]] = {}
        for weight, query in ways:
            levels.setdefault(weight, []).append(query)
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        higher: list[tantivy.Query] = []
        for weight in sorted(levels, reverse=True):
            level = self.union(levels[weight])
            if higher:
                level = Query.boolean_query([(Occur.Must, level), (Occur.MustNot, self.union(higher))])
            clauses.append((Occur.Should, self.score(level, weight)))
            higher += levels[weight]
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)

    @staticmethod
    def union(queries: list[tantivy.Query]) -> tantivy.Query:
        if len(queries) == 1:
            return queries[0]
        return Query.boolean_query([(Occur.Should, query) for query in queries])

    def name(self, node: Name, vocabulary: VocabularyView | None = None) -> tantivy.Query:
        if node.part != "name":
            tokens = name_tokens(node.text)
            return self.all_of([self.name_token(t, node.part, vocabulary=vocabulary) for t in tokens])
        parts = parse_name(node.text)
        first, middle, last = (name_tokens(p or "") for p in (parts.first, parts.middle, parts.last))
        required = first + last
        if not required:
            required, middle = middle, []
        clauses = [(Occur.Must, self.name_token(t, "all", vocabulary=vocabulary)) for t in required]
        # Middle names are optional: records leave them out or keep only the initial.
        clauses += [(Occur.Should, self.name_token(t, "middle", vocabulary=vocabulary)) for t in middle]
        if first and last:
            in_order = self.all_of(
                [self.score(self.term("n_first", first[0]), 1.0), self.score(self.term("n_last", last[-1]), 1.0)]
            )
            clauses.append((Occur.Should, in_order))
        return Query.boolean_query(clauses)

    # -- other kinds of value ---------------------------------------------------------
    def birth_date(self, node: BirthDate) -> tantivy.Query:
        last_day = node.high - timedelta(days=1)
        ways = [self.score(self.int_range("dob_day", _days(node.low), _days(last_day)), EXACT)]
        if node.exact:
            # Stored dates are keyed under their day/month swap too (DateType.match_keys).
            ways.append(self.score(self.term("dob_key", node.exact), FUZZY))
        if node.low.month == node.low.day == node.high.month == node.high.day == 1:
            # Sources that only know the year of birth store just the year.
            ways.append(self.score(self.int_range("dob_year", node.low.year, last_day.year), PHONETIC))
        return self.any_of(ways)

    def plate(self, node: Plate) -> tantivy.Query:
        pattern = node.pattern
        stem = pattern[:-1]
        if pattern.endswith("*") and stem and "*" not in stem and "?" not in stem:
            return self.any_of(
                [
                    self.score(self.term("plate_prefix", stem), EXACT),
                    self.score(self.term("plate_key_prefix", stem.translate(PLATE_CONFUSIONS)), FUZZY),
                ]
            )
        if "*" in pattern or "?" in pattern:
            regex = "".join(".*" if c == "*" else "." if c == "?" else c for c in pattern.translate(PLATE_CONFUSIONS))
            exact_regex = "".join(".*" if c == "*" else "." if c == "?" else c for c in pattern)
            return self.any_of(
                [
                    self.score(Query.regex_query(self.schema, "plate", exact_regex), EXACT),
                    self.score(Query.regex_query(self.schema, "plate_key", regex), FUZZY),
                ]
            )
        return self.any_of(
            [
                self.score(self.term("plate", pattern), EXACT),
                self.score(self.term("plate_key", pattern.translate(PLATE_CONFUSIONS)), FUZZY),
            ]
        )

    def facet(self, node: Facet) -> tantivy.Query:
        value = node.value
        if node.field == "type":
            model = load_model()
            wanted = [s for s in model.schemata if s.lower() == value.lower()]
            if not wanted:
                return Query.empty_query()
            return self.any_term("entity_type", model.descendants(wanted[0]) or wanted)
        field = {"class": "record_class"}.get(node.field, node.field)
        values = [value, value.upper(), value.lower()]
        if node.field == "caveat":
            values.append("TLP:" + value.upper().removeprefix("TLP:"))
        return self.any_term(field, values)

    def box(self, box: Box) -> tantivy.Query:
        ranges = [self.float_range("lat", box.min_lat, box.max_lat), self.float_range("lon", box.min_lon, box.max_lon)]
        covering = covering_cells(box)
        if covering is None:  # a box too large for the grid: the coordinate ranges alone
            return self.all_of(ranges)
        # The cells lead (a few postings lists); the exact ranges then only check their documents.
        return self.all_of([self.terms("geo_cell", covering), *ranges])

    def radius(self, circle: Radius) -> tantivy.Query:
        """The cells that reach into the circle, within the circle's bounding box."""
        box = circle.bounds()
        ranges = [self.float_range("lat", box.min_lat, box.max_lat), self.float_range("lon", box.min_lon, box.max_lon)]
        covering = covering_cells(box, circle)
        if covering is None:
            return self.all_of(ranges)
        return self.all_of([self.terms("geo_cell", covering), *ranges])


MAX_CELLS = 900


def covering_cells(box: Box, circle: Radius | None = None) -> list[str] | None:
    """Cells of the finest level with at most MAX_CELLS covering ``box`` (and reaching
    into ``circle``), or None when even the coarsest level needs more."""
    for level, size in enumerate(CELL_SIZES):
        rows = range(math.floor(box.min_lat / size), math.floor(box.max_lat / size) + 1)
        cols = range(math.floor(box.min_lon / size), math.floor(box.max_lon / size) + 1)
        if len(rows) * len(cols) > MAX_CELLS:
            continue
        cells = []
        for row in rows:
            for col in cols:
                if circle is None or _cell_meets_circle(row * size, col * size, size, circle):
                    cells.append(f"{level}:{row}:{col}")
        return cells
    return None


def _cell_meets_circle(lat0: float, lon0: float, size: float, circle: Radius) -> bool:
    # The point of the cell nearest the centre decides.
    lat = min(max(circle.lat, lat0), lat0 + size)
    lon = min(max(circle.lon, lon0), lon0 + size)
    return distance_km(circle.lat, circle.lon, lat, lon) <= circle.km


def _days(day: date) -> int:
    return (day - EPOCH).days


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
