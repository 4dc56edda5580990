"""The one policy decision point for reading records, and its compiled filters.

The rules live in ``policy.yaml`` (see :mod:`fusionhub.policy.rules`). For an actor they
compile to one clause tree, which is evaluated here three ways:

* :func:`decide_read` judges one record (first refusing rule gives the reason);
* :func:`record_filter` is the same tree as a SQL condition over ``record`` joined with
  ``source``, so lists, counts, facets, pages and exports never include what
  ``decide_read`` would refuse;
* :func:`index_filter` is the same tree as a plain structure for the search index.

A property test keeps the three in agreement for every combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from fusionhub.policy import active as _active  # noqa: F401  (registers the follower of the active version)
from fusionhub.policy.actor import Actor
from fusionhub.policy.rules import Clause, Policy, load_policy
from fusionhub.store import tables as t


@dataclass(frozen=True)
class RecordFacts:
    """What the policy needs to know about a record; no content."""

    agency_id: int
    record_class: str
    tlp: str
    handling: str  # comma-joined markings
    status: str
    terms: dict[str, Any]

    def document(self) -> dict[str, Any]:
        """The flat form the clauses read (also the search index's policy fields)."""
        return {
            "agency_id": self.agency_id,
            "record_class": self.record_class,
            "tlp": self.tlp,
            "status": self.status,
            "handling": [h for h in self.handling.split(",") if h],
            "terms": sorted(k for k, v in (self.terms or {}).items() if v),
        }


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    #: False when the terms forbid even confirming that the record exists.
    may_know_exists: bool = True
    rule: str | None = None


def decide_read(actor: Actor, facts: RecordFacts, policy: Policy | None = None) -> Verdict:
    policy = policy or load_policy()
    doc = facts.document()
    for rule, clause in policy.refusals(actor):
        if clause.matches(doc):
            return Verdict(False, rule.reason, not rule.hide, rule.id)
    return Verdict(True, "allowed")


def index_filter(actor: Actor, policy: Policy | None = None) -> Clause:
    """The records ``actor`` may read, as a clause tree for the search index.

    ``Clause.to_json()`` gives ``{"and": [...]}``, ``{"or": [...]}``, ``{"not": {...}}``,
    ``{"in": {"field": F, "values": [...]}}`` (F one of record_class, tlp, status,
    agency_id), ``{"has": {"field": F, "values": [...]}}`` (F one of handling, terms:
    multi-valued) and ``{"true": true}`` / ``{"false": true}``. See docs/policy.md.
    """
    return (policy or load_policy()).allowed_clause(actor)


def record_filter(actor: Actor, policy: Policy | None = None) -> ColumnElement[bool]:
    """SQL condition over ``record`` and ``source`` equal to ``decide_read(...).allowed``."""
    return clause_sql(index_filter(actor, policy))


def clause_sql(clause: Clause) -> ColumnElement[bool]:
    r, s = t.record.c, t.source.c
    if clause.op == "true":
        return true()
    if clause.op == "false":
        return false()
    if clause.op == "and":
        return and_(*(clause_sql(c) for c in clause.children))
    if clause.op == "or":
        return or_(*(clause_sql(c) for c in clause.children))
    if clause.op == "not":
        return not_(clause_sql(clause.children[0]))
    if clause.op == "in":
        column = {"record_class": r.record_class, "tlp": r.tlp, "status": r.status, "agency_id": r.agency_id}[
            str(clause.field)
        ]
        return column.in_(list(clause.values))
    if clause.field == "handling":
        return or_(*(_marked(r.handling, mark) for mark in clause.values))
    if clause.field == "terms":
        return or_(*(_term_set(s.sharing_terms, name) for name in clause.values))
    raise ValueError(f"cannot compile clause {clause}")


def _marked(column: Any, mark: str) -> ColumnElement[bool]:
    return or_(
        column == mark,
        column.startswith(mark + ","),
        column.endswith("," + mark),
        column.contains("," + mark + ","),
    )


def _term_set(terms: Any, name: str) -> ColumnElement[bool]:
    value = terms[name].as_boolean()
    return and_(value.is_not(None), value == true())
