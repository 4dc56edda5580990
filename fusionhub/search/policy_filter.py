"""The read policy compiled into a tantivy query.

The same rules as :func:`fusionhub.policy.decision.decide_read` and its SQL twin
``record_filter``, over the policy fields every search document carries (agency_id,
record_class, tlp, handling, terms, status). The search query is ANDed with this
clause inside the index, so totals and facet counts never include a record the actor
may not read. ``tests/search/test_policy_filter.py`` proves the three agree for random
records and actors; when the policy changes, this module changes with it.
"""

from __future__ import annotations

import tantivy

from fusionhub.policy.actor import RECORD_READERS, Actor
from fusionhub.policy.decision import FIELD_USER_CLASSES, INTELLIGENCE_ROLES, PARTNER_TLP

Occur = tantivy.Occur
Query = tantivy.Query


def _term(schema: tantivy.Schema, field: str, value: str | int) -> tantivy.Query:
    return Query.term_query(schema, field, value, index_option="basic" if isinstance(value, str) else "position")


def _not(query: tantivy.Query) -> tantivy.Query:
    return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, query)])


def _either(a: tantivy.Query, b: tantivy.Query) -> tantivy.Query:
    return Query.boolean_query([(Occur.Should, a), (Occur.Should, b)])


def compile_read_filter(schema: tantivy.Schema, actor: Actor) -> tantivy.Query:
    """A query matching exactly the documents whose record ``actor`` may read."""
    if not actor.has(*RECORD_READERS):
        return Query.empty_query()
    own = Query.term_query(schema, "agency_id", actor.agency_id)
    must: list[tantivy.Query] = []
    must_not: list[tantivy.Query] = [_term(schema, "status", "purged")]

    def term(flag: str) -> tantivy.Query:
        return _term(schema, "terms", flag)

    def marked(mark: str) -> tantivy.Query:
        return _term(schema, "handling", mark)

    must.append(_either(own, _not(term("agency_only"))))
    must.append(_either(own, _not(_term(schema, "tlp", "RED"))))
    if actor.is_private_sector:
        must_not += [
            term("law_enforcement_only"),
            term("no_private_sector"),
            marked("LES"),
            marked("NO-PRIVATE-SECTOR"),
        ]
        must.append(Query.term_set_query(schema, "tlp", list(PARTNER_TLP)))
        must_not.append(Query.term_set_query(schema, "record_class", ["criminal-intelligence", "sar"]))
    elif not actor.is_law_enforcement:
        must_not.append(term("law_enforcement_only"))
    if not actor.has(*INTELLIGENCE_ROLES):
        must_not.append(_term(schema, "record_class", "criminal-intelligence"))
    if actor.roles <= {"field-user", "auditor", "administrator"}:
        must.append(Query.term_set_query(schema, "record_class", list(FIELD_USER_CLASSES)))
    must.append(_either(own, _not(term("originator_approval"))))
    clauses = [(Occur.Must, q) for q in must] + [(Occur.MustNot, q) for q in must_not]
    return Query.boolean_query(clauses)
