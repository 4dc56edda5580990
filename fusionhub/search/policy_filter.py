"""The read policy compiled into a tantivy query.

The policy layer states what an actor may read as one clause tree
(:func:`fusionhub.policy.decision.index_filter`), the same tree it compiles to SQL for
``record_filter`` and evaluates for ``decide_read``. This module translates that tree
over the policy fields every search document carries (agency_id, record_class, tlp,
handling, terms, status). The search query is ANDed with it inside the index, so totals
and facet counts never include a record the actor may not read.
``tests/search/test_policy_filter.py`` proves they agree with ``decide_read`` for random
records and actors.

A ``not`` under an ``and`` becomes an exclusion (``MustNot``) rather than "everything
minus X": a negation inside a union has to walk every document of the index, an
exclusion only the documents it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tantivy

from fusionhub.policy.actor import Actor
from fusionhub.policy.decision import index_filter
from fusionhub.policy.rules import Clause

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


def _any(schema: tantivy.Schema, field_name: str, values: list[Any]) -> tantivy.Query:
    # Term queries skip through their postings; a term set would collect every match first.
    return Query.boolean_query([(Occur.Should, _value(schema, field_name, v)) for v in values])


def _value(schema: tantivy.Schema, field_name: str, value: Any) -> tantivy.Query:
    if field_name == "agency_id":
        return Query.term_query(schema, field_name, int(value))
    return _term(schema, field_name, str(value))


def _compile(schema: tantivy.Schema, clause: Clause) -> tantivy.Query:
    if clause.op == "true":
        return Query.all_query()
    if clause.op == "false":
        return Query.empty_query()
    if clause.op in ("in", "has"):
        return _any(schema, str(clause.field), list(clause.values))
    if clause.op == "or":
        return Query.boolean_query([(Occur.Should, _compile(schema, c)) for c in clause.children])
    if clause.op == "not":
        inner = _compile(schema, clause.children[0])
        return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, inner)])
    if clause.op == "and":
        return _conjunction(schema, clause).query()
    raise ValueError(f"cannot compile clause {clause.to_json()}")


def _conjunction(schema: tantivy.Schema, clause: Clause) -> ReadFilter:
    result = ReadFilter()
    for child in clause.children if clause.op == "and" else (clause,):
        if child.op == "true":
            continue
        if child.op == "false":
            return ReadFilter(nothing=True)
        if child.op == "not":
            result.must_not.append(_compile(schema, child.children[0]))
        elif child.op == "and":
            inner = _conjunction(schema, child)
            if inner.nothing:
                return inner
            result.must += inner.must
            result.must_not += inner.must_not
        else:
            result.must.append(_compile(schema, child))
    return result


def compile_read_filter(schema: tantivy.Schema, actor: Actor) -> ReadFilter:
    """The clauses matching exactly the documents whose record ``actor`` may read."""
    return _conjunction(schema, index_filter(actor))
