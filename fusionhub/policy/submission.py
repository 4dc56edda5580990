"""Submitting SARs, tips and criminal intelligence: the criminal predicate and the First
Amendment guard.

The guard is a rule over a *structured* basis the submitter must state, not a keyword
list alone:

* criminal intelligence needs a criminal predicate (28 CFR 23.20(a)): a suspected
  criminal activity from the policy's list and the facts that give reasonable suspicion;
* SARs, tips and intelligence need a stated basis; when the submitter declares that the
  information involves protected activity (speech, religion, assembly, petition, press)
  or a protected attribute (race, ethnicity, religion, national origin), they must state
  the criminal or threat nexus, or the submission is refused (28 CFR 23.20(b));
* a wording screen looks for protected-activity words in the basis and narrative; when
  found without a stated nexus (or with a nexus that names no criminal or threat
  element) the submission is stored but flagged for the privacy officer.

Refusals are recorded (submitter, class, categories; never the refused content).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from fusionhub.ingest.sources import get_source
from fusionhub.model.types import InvalidValue
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.reader import AccessDenied
from fusionhub.policy.rules import load_policy
from fusionhub.store import Store, utcnow
from fusionhub.store import policy_tables as pt
from fusionhub.store import tables as t

PROTECTED = ("speech", "religion", "assembly", "petition", "press", "race", "ethnicity", "national-origin")
#: Wording that suggests protected activity or attributes (screen only; never a block by itself).
PROTECTED_WORDING = {
    "speech": r"\b(speech|spoke|speaking|opinion|views?|political|blog(ged|ging)?|posted|flyers?|leaflets?|"
    r"banner|slogans?)\b",
    "religion": r"\b(mosque|church|synagogue|temple|prayer|praying|worship|religious|imam|pastor|rabbi|muslim|"
    r"jewish|christian|sikh|hindu)\b",
    "assembly": r"\b(protest(s|ers?|ing)?|rally|rallies|march(es|ing)?|demonstrat(ion|ors?|ing)|vigil|gathering|"
    r"picket(ing)?)\b",
    "petition": r"\b(petition(s|ing)?|signatures?|lobby(ing)?|city council|town hall)\b",
    "press": r"\b(journalists?|reporters?|press|newspaper|photograph(er|ing) (police|officers))\b",
    "race": r"\b(african[- ]american|asian[- ]american|race|racial)\b",
    "ethnicity": r"\b(hispanic|latino|latina|arab|ethnic(ity)?|middle[- ]eastern)\b",
    "national-origin": r"\b(immigrants?|foreign(er|ers)?|refugees?|national origin|accent)\b",
}
#: Wording of a criminal or threat element, for checking a stated nexus.
NEXUS_WORDING = re.compile(
    r"\b(threat(en|ened|ening|s)?|weapons?|guns?|firearms?|explosives?|bomb(s|ing)?|ied|attack(s|ed)?|kill(ed|ing)?|"
    r"assault(ed)?|arson|fire|vandal(ism|ized)?|damage|trafficking|smuggl(e|ing)|theft|steal(ing)?|stole|robbery|"
    r"burglary|fraud|extort(ion)?|conspir(acy|ing|ed)|plot(ting)?|violence|violent|shoot(ing)?|stab(bing)?|"
    r"narcotics|drugs?|launder(ing)?|surveil(lance|ling) of (a )?target|trespass(ing)?|sabotage|breach)\b",
    re.IGNORECASE,
)
SUBMITTERS = {
    "criminal-intelligence": ("analyst", "supervisor"),
    "sar": ("analyst", "supervisor", "field-user"),
    "tip": ("analyst", "supervisor", "field-user", "partner"),
}
EVENT_SCHEMA = {"sar": "SuspiciousActivityReport", "tip": "Tip", "criminal-intelligence": "Event"}


class SubmissionRefused(AccessDenied):
    """The submission cannot be stored as it is; the message says what is missing."""


class PredicateMissing(SubmissionRefused):
    pass


class FirstAmendmentRefused(SubmissionRefused):
    pass


@dataclass
class SubmissionBasis:
    """What the submitter states; required structured fields, not free text alone."""

    #: The facts giving reasonable suspicion (CI) or making the activity reasonably
    #: indicative of criminal or terrorist activity (SAR), or the tip's basis.
    basis: str
    #: The suspected criminal activity (28 CFR 23.30 list in policy.yaml); CI requires it.
    criminal_activity: str | None = None
    #: Protected activities or attributes the information involves, if any.
    protected_activity: list[str] = field(default_factory=list)
    #: The criminal or threat nexus; required whenever ``protected_activity`` is not empty.
    nexus: str | None = None


@dataclass
class GuardResult:
    flags: list[str] = field(default_factory=list)
    wording: list[str] = field(default_factory=list)


def screen_wording(*texts: str | None) -> list[str]:
    """Protected categories whose wording appears in the texts."""
    body = " ".join(t for t in texts if t)
    return [name for name, pattern in PROTECTED_WORDING.items() if re.search(pattern, body, re.IGNORECASE)]


def check_submission(record_class: str, basis: SubmissionBasis, narrative: str | None = None) -> GuardResult:
    """Refuse (raise) or pass with flags. Pure: no store, so it is tested on its own."""
    retention = load_policy().retention
    result = GuardResult()
    text = " ".join((basis.basis or "").split())
    nexus = " ".join((basis.nexus or "").split())
    for item in basis.protected_activity:
        if item not in PROTECTED:
            raise InvalidValue(f"unknown protected category {item!r}; one of {', '.join(PROTECTED)}")
    if record_class in (retention.get("basis_required") or []) and len(text) < 20:
        raise SubmissionRefused(
            f"a {record_class} submission states its basis: the facts that make it reasonably indicative of "
            "criminal activity (at least a full sentence)"
        )
    if record_class in (retention.get("predicate_required") or []):
        activities = [str(a) for a in retention.get("criminal_activities") or []]
        if basis.criminal_activity not in activities:
            raise PredicateMissing(
                "criminal intelligence needs a criminal predicate (28 CFR 23.20(a)): the suspected criminal activity, "
                f"one of {', '.join(activities)}, and the basis for reasonable suspicion"
            )
    if basis.protected_activity and len(nexus) < 20:
        raise FirstAmendmentRefused(
            "refused: the information involves "
            + ", ".join(basis.protected_activity)
            + ", which is protected; state the criminal or threat nexus (what crime or threat, by whom) - "
            "protected activity or a person's race, ethnicity, religion or national origin is never a basis on its own"
        )
    result.wording = screen_wording(text, narrative)
    if result.wording and not nexus:
        result.flags.append(
            "protected-activity wording (" + ", ".join(result.wording) + ") without a stated criminal or threat nexus"
        )
    if nexus and not NEXUS_WORDING.search(nexus):
        result.flags.append("the stated nexus names no criminal or threat element")
    if result.wording and set(result.wording) - set(basis.protected_activity) and not basis.protected_activity:
        result.flags.append("protected-activity wording, but the submitter declared no protected activity")
    return result


def submit_record(
    store: Store,
    actor: Actor,
    source_name: str,
    record_class: str,
    basis: SubmissionBasis,
    *,
    persons: list[str] | None = None,
    narrative: str | None = None,
    tlp: str | None = None,
    handling: list[str] | None = None,
    reliability: str | None = None,
    validity: str | None = None,
    source_record_id: str | None = None,
    now: datetime | None = None,
) -> int:
    """Store a SAR, tip or intelligence record with its stated basis; returns the record id."""
    vocab = load_vocabulary()
    record_class = vocab.record_class(record_class)
    allowed = SUBMITTERS.get(record_class, ("analyst", "supervisor"))
    if not actor.has(*allowed):
        raise AccessDenied(f"your roles do not include submitting {record_class} records")
    source = get_source(store, source_name)
    if source.agency_id != actor.agency_id:
        raise AccessDenied(f"you submit through your own agency's sources, not {source.name}")
    now = now or utcnow()
    try:
        guard = check_submission(record_class, basis, narrative)
    except SubmissionRefused as refusal:
        kind = "first-amendment-refusal" if isinstance(refusal, FirstAmendmentRefused) else "submission-refused"
        with store.begin() as conn:
            conn.execute(
                insert(pt.privacy_flag).values(
                    record_id=None,
                    kind=kind,
                    username=actor.username,
                    created_at=now,
                    message=f"{record_class} submission refused: {type(refusal).__name__}; "
                    f"declared {', '.join(basis.protected_activity) or 'no protected activity'}",
                    status="open" if kind == "first-amendment-refusal" else "closed",
                )
            )
            record_event(
                conn,
                actor,
                "submission.refused",
                f"source:{source.name}",
                {
                    "record_class": record_class,
                    "refusal": type(refusal).__name__,
                    "protected_activity": basis.protected_activity,
                },
                now=now,
            )
        raise
    entities: list[dict[str, Any]] = []
    key = source_record_id or f"sub-{actor.username}-{now.strftime('%Y%m%d%H%M%S%f')}"
    for n, name in enumerate(persons or []):
        entities.append(
            {
                "id": _eid(source.name, key, f"person{n}"),
                "schema": "Person",
                "key": f"person{n}",
                "properties": {"name": [name]},
            }
        )
    event_props: dict[str, list[Any]] = {}
    if narrative:
        event_props["narrative"] = [narrative]
    entities.append(
        {
            "id": _eid(source.name, key, "event"),
            "schema": EVENT_SCHEMA.get(record_class, "Incident"),
            "key": "event",
            "properties": event_props,
        }
    )
    payload = {"entities": entities}
    years = int(load_policy().retention.get("review_years", 5))
    retention_days = int(vocab.record_classes[record_class]["retention_days"])
    review_due = (
        now.replace(year=now.year + years)
        if record_class in (load_policy().retention.get("validate_or_purge") or [])
        else now + timedelta(days=retention_days)
    )
    values: dict[str, Any] = {
        "source_id": source.id,
        "source_record_id": key,
        "agency_id": source.agency_id,
        "batch_id": None,
        "record_class": record_class,
        "tlp": vocab.tlp_level(tlp or source.default_tlp),
        "handling": ",".join(vocab.handling_markings(handling if handling is not None else source.default_handling)),
        "reliability": vocab.reliability_code(reliability or source.default_reliability),
        "validity": vocab.validity_code(validity or source.default_validity),
        "received_at": now,
        "occurred_at": None,
        "review_due": review_due,
        "status": "active",
        "version": 1,
        "payload": payload,
        "updated_at": now,
    }
    values["content_hash"] = hashlib.sha1(
        json.dumps([payload, values["tlp"], values["handling"], record_class], sort_keys=True).encode()
    ).hexdigest()
    with store.begin() as conn:
        if conn.execute(
            select(t.record.c.id).where(t.record.c.source_id == source.id, t.record.c.source_record_id == key)
        ).first():
            raise InvalidValue(f"source {source.name} already has a record {key}")
        values["seq"] = store.allocate_seq(conn)
        new = conn.execute(insert(t.record).values(**values)).inserted_primary_key
        assert new is not None
        record_id = int(new[0])
        conn.execute(
            insert(pt.criminal_predicate).values(
                record_id=record_id,
                criminal_activity=basis.criminal_activity,
                basis=" ".join(basis.basis.split()),
                protected_activity=list(basis.protected_activity),
                nexus=basis.nexus,
                submitted_by=actor.username,
                submitted_at=now,
            )
        )
        if guard.flags:
            conn.execute(
                insert(pt.privacy_flag).values(
                    record_id=record_id,
                    kind="protected-wording",
                    username=actor.username,
                    created_at=now,
                    message="; ".join(guard.flags),
                    status="open",
                )
            )
        record_event(
            conn,
            actor,
            "record.submit",
            f"record:{record_id}",
            {
                "record_class": record_class,
                "source": source.name,
                "flags": guard.flags,
                "protected_activity": basis.protected_activity,
            },
            now=now,
        )
    from fusionhub.store.followers import notify_followers

    notify_followers(store)
    return record_id


def _eid(source: str, record_id: str, key: str) -> str:
    return "e" + hashlib.sha1(f"{source}\x1f{record_id}\x1f{key}".encode()).hexdigest()[:23]


def privacy_flags(store: Store, actor: Actor, status: str | None = "open") -> list[dict[str, Any]]:
    """The privacy officer's queue of refusals and flagged submissions."""
    if not actor.has("privacy-officer", "auditor"):
        raise AccessDenied("only privacy officers and auditors read privacy flags")
    f = pt.privacy_flag.c
    stmt = select(pt.privacy_flag).order_by(f.id)
    if status:
        stmt = stmt.where(f.status == status)
    with store.connect() as conn:
        return [
            {
                "id": r.id,
                "record_id": r.record_id,
                "kind": r.kind,
                "username": r.username,
                "created_at": str(r.created_at),
                "message": r.message,
                "status": r.status,
            }
            for r in conn.execute(stmt)
        ]
