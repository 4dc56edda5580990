"""The one policy decision point for reading records, and its compiled SQL filter.

``decide`` judges one record for one actor; ``record_filter`` compiles the same rules
into a SQL condition over ``record`` joined with ``source`` so lists, counts and facets
never include what ``decide`` would refuse. The two are kept in step by a property test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from fusionhub.policy.actor import RECORD_READERS, Actor
from fusionhub.store import tables as t

#: Record classes a field user may read (no criminal intelligence, no unvetted SARs).
FIELD_USER_CLASSES = ("incident", "call-for-service", "arrest", "lpr-read", "alert", "person-record")
PARTNER_TLP = ("CLEAR", "GREEN")
INTELLIGENCE_ROLES = ("analyst", "supervisor", "privacy-officer")


@dataclass(frozen=True)
class RecordFacts:
    """What the policy needs to know about a record; no content."""

    agency_id: int
    record_class: str
    tlp: str
    handling: str  # comma-joined markings
    status: str
    terms: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    #: False when the terms forbid even confirming that the record exists.
    may_know_exists: bool = True


def decide_read(actor: Actor, facts: RecordFacts) -> Verdict:
    if not actor.has(*RECORD_READERS):
        return Verdict(False, "your roles do not include reading records", False)
    if facts.status == "purged":
        return Verdict(False, "the record was purged under the retention policy", False)
    own = facts.agency_id == actor.agency_id
    handling = set(filter(None, facts.handling.split(",")))
    if facts.terms.get("agency_only") and not own:
        return Verdict(False, "the source shares this record within its own agency only", False)
    if facts.tlp == "RED" and not own:
        return Verdict(False, "TLP:RED records are for the originating agency's named recipients only", False)
    if actor.is_private_sector:
        if facts.terms.get("law_enforcement_only") or facts.terms.get("no_private_sector"):
            return Verdict(False, "the source's sharing terms exclude private-sector partners", False)
        if "LES" in handling or "NO-PRIVATE-SECTOR" in handling:
            return Verdict(
                False, "Law Enforcement Sensitive records are not releasable to private-sector partners", False
            )
        if facts.tlp not in PARTNER_TLP:
            return Verdict(False, f"TLP:{facts.tlp} is not releasable to private-sector partners", False)
        if facts.record_class in ("criminal-intelligence", "sar"):
            return Verdict(False, "intelligence and SAR records are not releasable to private-sector partners", False)
    elif facts.terms.get("law_enforcement_only") and not actor.is_law_enforcement:
        return Verdict(False, "the source shares this record with law enforcement only", False)
    if facts.record_class == "criminal-intelligence" and not actor.has(*INTELLIGENCE_ROLES):
        return Verdict(False, "criminal intelligence is for analysts with a right and need to know", False)
    if actor.roles <= {"field-user", "auditor", "administrator"} and facts.record_class not in FIELD_USER_CLASSES:
        return Verdict(False, f"field users do not read {facts.record_class} records", False)
    if facts.terms.get("originator_approval") and not own:
        return Verdict(False, "the originating agency must approve access to this record", True)
    return Verdict(True, "allowed")


def record_filter(actor: Actor) -> ColumnElement[bool]:
    """SQL condition over ``record`` and ``source`` equal to ``decide_read(...).allowed``."""
    r, s = t.record.c, t.source.c
    if not actor.has(*RECORD_READERS):
        return false()
    own = r.agency_id == actor.agency_id
    terms = s.sharing_terms
    conditions: list[ColumnElement[bool]] = [r.status != "purged"]

    def term(name: str) -> ColumnElement[bool]:
        value: ColumnElement[bool] = terms[name].as_boolean()
        return value

    def term_set(name: str) -> ColumnElement[bool]:
        return and_(terms[name].as_boolean().is_not(None), term(name) == true())

    def marked(mark: str) -> ColumnElement[bool]:
        return or_(
            r.handling == mark,
            r.handling.startswith(mark + ","),
            r.handling.endswith("," + mark),
            r.handling.contains("," + mark + ","),
        )

    conditions.append(or_(own, not_(term_set("agency_only"))))
    conditions.append(or_(own, r.tlp != "RED"))
    if actor.is_private_sector:
        conditions += [
            not_(term_set("law_enforcement_only")),
            not_(term_set("no_private_sector")),
            not_(marked("LES")),
            not_(marked("NO-PRIVATE-SECTOR")),
            r.tlp.in_(PARTNER_TLP),
            r.record_class.not_in(("criminal-intelligence", "sar")),
        ]
    elif not actor.is_law_enforcement:
        conditions.append(not_(term_set("law_enforcement_only")))
    if not actor.has(*INTELLIGENCE_ROLES):
        conditions.append(r.record_class != "criminal-intelligence")
    if actor.roles <= {"field-user", "auditor", "administrator"}:
        conditions.append(r.record_class.in_(FIELD_USER_CLASSES))
    conditions.append(or_(own, not_(term_set("originator_approval"))))
    return and_(*conditions)
