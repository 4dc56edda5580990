"""The read policy compiled into a tantivy query.

The same rules as :func:`fusionhub.policy.decision.decide_read` and its SQL twin
``record_filter``, over the policy fields every search document carries (agency_id,
record_class, tlp, handling, terms, status). The search query is ANDed with these
clauses inside the index, so totals and facet counts never include a record the actor
may not read. ``tests/search/test_policy_filter.py`` proves they agree with
``decide_read`` for random records and actors; when the policy changes, this module
changes with it.

Each rule is written as a required term set or an exclusion ("agency-only records of
another agency": ``agency_only AND NOT own``), never as a union with a negation
(``own OR NOT agency_only``): a negation inside a union has to walk every document of
the index, an exclusion only the documents it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tantivy

from fusionhub.policy.actor import RECORD_READERS, Actor
from fusionhub.policy.decision import FIELD_USER_CLASSES, INTELLIGENCE_ROLES, PARTNER_TLP

Occur = tantivy.Occur
Query = tantivy.Query


@dataclass
class ReadFilter:
    """Clauses to AND into a search: ``must`` match all, ``must_not`` match none."""

    must: list[tantivy.Query] = field(default_factory=list)
    must_not: list[tantivy.Query] = field(default_factory=list)
    nothing: bool = False  # the actor may read no record at all

    def clauses(self) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        if self.nothing:
            return [(Occur.Must, Query.empty_query())]
        must = [(Occur.Must, Query.const_score_query(q, 0.0)) for q in self.must]
        return must + [(Occur.MustNot, q) for q in self.must_not]

    def query(self) -> tantivy.Query:
        """The filter on its own: every document the actor may read."""
        return Query.boolean_query([(Occur.Must, Query.all_query()), *self.clauses()])


def _term(schema: tantivy.Schema, field_name: str, value: str) -> tantivy.Query:
    return Query.term_query(schema, field_name, value, index_option="basic")


def _any(schema: tantivy.Schema, field_name: str, values: list[str]) -> tantivy.Query:
    # Term queries skip through their postings; a term set would collect every match first.
    return Query.boolean_query([(Occur.Should, _term(schema, field_name, v)) for v in values])


def compile_read_filter(schema: tantivy.Schema, actor: Actor) -> ReadFilter:
    """The clauses matching exactly the documents whose record ``actor`` may read."""
    if not actor.has(*RECORD_READERS):
        return ReadFilter(nothing=True)
    own = Query.term_query(schema, "agency_id", actor.agency_id)
    result = ReadFilter(must_not=[_term(schema, "status", "purged")])

    def others(query: tantivy.Query) -> tantivy.Query:
        """``query``, for records of agencies other than the actor's."""
        return Query.boolean_query([(Occur.Must, query), (Occur.MustNot, own)])

    def term(flag: str) -> tantivy.Query:
        return _term(schema, "terms", flag)

    result.must_not.append(others(term("agency_only")))
    result.must_not.append(others(_term(schema, "tlp", "RED")))
    if actor.is_private_sector:
        result.must_not += [
            term("law_enforcement_only"),
            term("no_private_sector"),
            _term(schema, "handling", "LES"),
            _term(schema, "handling", "NO-PRIVATE-SECTOR"),
            _any(schema, "record_class", ["criminal-intelligence", "sar"]),
        ]
        result.must.append(_any(schema, "tlp", list(PARTNER_TLP)))
    elif not actor.is_law_enforcement:
        result.must_not.append(term("law_enforcement_only"))
    if not actor.has(*INTELLIGENCE_ROLES):
        result.must_not.append(_term(schema, "record_class", "criminal-intelligence"))
    if actor.roles <= {"field-user", "auditor", "administrator"}:
        result.must.append(_any(schema, "record_class", list(FIELD_USER_CLASSES)))
    result.must_not.append(others(term("originator_approval")))
    return result
