"""Analysts' decisions: confirm a merge, mark two entities "not the same", split one out.

Decisions are rows of ``resolve_decision`` that are never deleted; a later decision on
the same pair supersedes an earlier one (``superseded_by``). Every resolution run,
full or incremental, reads the standing decisions and applies them over the model:
a confirmed pair is joined whatever the model says; a "not the same" pair (and a split
entity against every entity it was separated from) can never share a cluster.

Each decision is also written to the audit trail through ``audit_event`` (the one
place that talks to the policy layer's audit log).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select, update

from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.decision import record_filter
from fusionhub.store import Store, utcnow
from fusionhub.store import resolve_tables as rt
from fusionhub.store import tables as t

log = logging.getLogger(__name__)
KINDS = ("confirm", "not-same", "split")
#: Roles that may change how entities are resolved.
DECIDERS = ("analyst", "supervisor")


class DecisionError(ValueError):
    """The decision cannot be taken (unknown entity, missing reason, no right to decide)."""


class DecisionForbidden(DecisionError):
    """The actor holds no role that may change how entities are resolved."""


class UnknownReference(DecisionError):
    """No resolved entity with this reference in a record the actor may read."""


@dataclass
class Constraints:
    must_link: list[tuple[str, str, int]]  # (ref, ref, decision id)
    cannot_link: list[tuple[str, str]]


def audit_event(conn: Connection, actor: Actor, action: str, subject: str, details: dict[str, Any]) -> None:
    """Write the decision to the hash-chained audit trail, in the decision's transaction."""
    record_event(conn, actor, action, subject, details)


def _ref_readable(conn: Connection, actor: Actor, ref: str) -> bool:
    """The reference is resolved and its record is one ``actor`` may read: an analyst
    judges only what they can see, and a refusal does not tell a hidden record exists."""
    e, r, s = rt.resolve_entity.c, t.record.c, t.source.c
    query = (
        select(e.ref)
        .select_from(rt.resolve_entity.join(t.record, r.id == e.record_id).join(t.source, s.id == r.source_id))
        .where(e.ref == ref, record_filter(actor))
    )
    return conn.execute(query).first() is not None


def decide(store: Store, actor: Actor, kind: str, left: str, right: str | None, reason: str) -> int:
    """Record an analyst's decision; it takes effect on the next resolution run."""
    if kind not in KINDS:
        raise DecisionError(f"unknown decision {kind!r}; one of {', '.join(KINDS)}")
    if not actor.has(*DECIDERS):
        raise DecisionForbidden("only analysts and supervisors may change how entities are resolved")
    if not reason or not reason.strip():
        raise DecisionError("a decision needs a reason (it is audited)")
    if kind != "split" and not right:
        raise DecisionError(f"{kind} needs two entity references")
    d = rt.resolve_decision.c
    with store.begin() as conn:
        for ref in [left] + ([right] if right else []):
            if not _ref_readable(conn, actor, ref):
                raise UnknownReference(
                    f"no resolved entity {ref} in a record you may read (new records resolve on the next run)"
                )
        if kind != "split" and left == right:
            raise DecisionError("the two references are the same entity")
        details: dict[str, Any] = {}
        if kind == "split":
            canonical = conn.execute(
                select(rt.resolve_entity.c.canonical_id).where(rt.resolve_entity.c.ref == left)
            ).scalar_one()
            details["canonical_id"] = canonical
            details["separated_from"] = sorted(
                r
                for (r,) in conn.execute(
                    select(rt.resolve_entity.c.ref).where(rt.resolve_entity.c.canonical_id == canonical)
                )
                if r != left
            )
        new_id = conn.execute(
            rt.resolve_decision.insert().values(
                kind=kind,
                left_ref=left,
                right_ref=right,
                details=details,
                user_name=actor.username,
                reason=reason.strip(),
                created_at=utcnow(),
            )
        ).inserted_primary_key
        assert new_id is not None
        decision_id = int(new_id[0])
        if right:
            # A newer decision about the same pair supersedes the older ones.
            same_pair = or_(
                (d.left_ref == left) & (d.right_ref == right), (d.left_ref == right) & (d.right_ref == left)
            )
            conn.execute(
                update(rt.resolve_decision)
                .where(same_pair, d.id != decision_id, d.superseded_by.is_(None), d.kind != "split")
                .values(superseded_by=decision_id)
            )
        audit_event(
            conn,
            actor,
            f"resolve:{kind}",
            f"entity:{left}" + (f"+{right}" if right else ""),
            {"decision": decision_id, "reason": reason.strip(), **details},
        )
    return decision_id


def standing(conn: Connection) -> Constraints:
    """The decisions in force, as clustering constraints."""
    d = rt.resolve_decision.c
    must: list[tuple[str, str, int]] = []
    cannot: list[tuple[str, str]] = []
    for row in conn.execute(select(rt.resolve_decision).where(d.superseded_by.is_(None)).order_by(d.id)):
        if row.kind == "confirm" and row.right_ref:
            must.append((row.left_ref, row.right_ref, int(row.id)))
        elif row.kind == "not-same" and row.right_ref:
            cannot.append((row.left_ref, row.right_ref))
        elif row.kind == "split":
            cannot.extend((row.left_ref, other) for other in (row.details or {}).get("separated_from", []))
    return Constraints(must, cannot)


def history(store: Store, ref: str | None = None) -> list[dict[str, Any]]:
    d = rt.resolve_decision.c
    query = select(rt.resolve_decision).order_by(d.id)
    if ref:
        query = query.where(or_(d.left_ref == ref, d.right_ref == ref))
    with store.connect() as conn:
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "left": row.left_ref,
                "right": row.right_ref,
                "user": row.user_name,
                "reason": row.reason,
                "at": row.created_at.isoformat(),
                "superseded_by": row.superseded_by,
                "details": row.details,
            }
            for row in conn.execute(query)
        ]
