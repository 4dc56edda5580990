"""The fused profile of a canonical entity, as one user may see it.

Everything here is read through the policy: the records behind the entity are
selected with ``record_filter(actor)``, so a value, a source, an incident or a link
reason comes only from records the viewer may read. An entity none of whose records
the viewer may read does not exist for them (the same "not found" as a wrong id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from fusionhub.model import load_model
from fusionhub.policy.actor import Actor
from fusionhub.policy.audit import record_event
from fusionhub.policy.decision import record_filter
from fusionhub.policy.reader import NotFound, check_purpose
from fusionhub.resolve.features import original, value
from fusionhub.store import Store
from fusionhub.store import resolve_tables as rt
from fusionhub.store import tables as t


@dataclass
class VisibleRecord:
    id: int
    source: str
    agency: str
    record_class: str
    reliability: str
    validity: str
    received_at: str
    occurred_at: str | None
    caveat: str
    payload: dict[str, Any]

    def provenance(self) -> dict[str, Any]:
        return {
            "record_id": self.id,
            "source": self.source,
            "agency": self.agency,
            "reliability": self.reliability,
            "validity": self.validity,
            "received_at": self.received_at,
            "caveat": self.caveat,
        }


def visible_records(store: Store, actor: Actor, record_ids: list[int]) -> dict[int, VisibleRecord]:
    """The records among ``record_ids`` that ``actor`` may read (policy filter in SQL)."""
    r, s, a = t.record.c, t.source.c, t.agency.c
    found: dict[int, VisibleRecord] = {}
    with store.connect() as conn:
        for start in range(0, len(record_ids), 500):
            part = record_ids[start : start + 500]
            query = (
                select(
                    r.id,
                    r.record_class,
                    r.reliability,
                    r.validity,
                    r.received_at,
                    r.occurred_at,
                    r.tlp,
                    r.handling,
                    r.payload,
                    s.name.label("source_name"),
                    a.code.label("agency_code"),
                )
                .select_from(t.record.join(t.source, s.id == r.source_id).join(t.agency, a.id == r.agency_id))
                .where(r.id.in_(part), record_filter(actor))
            )
            for row in conn.execute(query):
                caveat = " ".join([f"TLP:{row.tlp}", *[h for h in row.handling.split(",") if h]])
                found[int(row.id)] = VisibleRecord(
                    int(row.id),
                    row.source_name,
                    row.agency_code,
                    row.record_class,
                    row.reliability,
                    row.validity,
                    row.received_at.isoformat(),
                    row.occurred_at,
                    caveat,
                    row.payload or {},
                )
    return found


def members(store: Store, canonical: str) -> list[tuple[str, int, str]]:
    e = rt.resolve_entity.c
    with store.connect() as conn:
        return [
            (str(ref), int(rid), str(schema))
            for ref, rid, schema in conn.execute(
                select(e.ref, e.record_id, e.schema).where(e.canonical_id == canonical).order_by(e.ref)
            )
        ]


def canonical_of(store: Store, refs: list[str]) -> dict[str, str]:
    e = rt.resolve_entity.c
    out: dict[str, str] = {}
    with store.connect() as conn:
        for start in range(0, len(refs), 500):
            for ref, canon in conn.execute(select(e.ref, e.canonical_id).where(e.ref.in_(refs[start : start + 500]))):
                out[str(ref)] = str(canon)
    return out


def _caption(entity: dict[str, Any]) -> str:
    props = entity.get("properties") or {}
    parts = [value(props[p][0]) for p in ("firstName", "lastName") if props.get(p)]
    if parts:
        return " ".join(parts)
    model = load_model()
    name = str(entity.get("schema"))
    if name not in model.schemata:
        return name
    schema = model.get(name)
    for prop in schema.caption:
        if props.get(prop):
            return value(props[prop][0])
    return schema.label


def entity_profile(store: Store, actor: Actor, canonical: str, purpose: str | None = None) -> dict[str, Any]:
    """One entity's fused profile: attributes with sources, conflicts, records, events, timeline.

    Like a record view it needs a stated purpose, and the look is audited (with the ids
    of the records it showed) before the profile is handed back.
    """
    purpose = check_purpose(purpose)
    everyone = members(store, canonical)
    records = visible_records(store, actor, sorted({rid for _, rid, _ in everyone}))
    mine = [(ref, rid, schema) for ref, rid, schema in everyone if rid in records]
    if not mine:
        raise NotFound(f"no entity {canonical} that you may see")
    model = load_model()
    refs = {ref for ref, _, _ in mine}
    attributes: dict[str, dict[str, dict[str, Any]]] = {}
    appearances: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    related: list[dict[str, Any]] = []
    related_refs: list[str] = []
    for ref, rid, _ in mine:
        record = records[rid]
        entities = list(record.payload.get("entities") or [])
        by_id = {str(x.get("id")): x for x in entities}
        entity = by_id.get(ref)
        if entity is None:
            continue
        schema = model.get(str(entity.get("schema")))
        for prop, entries in (entity.get("properties") or {}).items():
            if prop in schema.properties and schema.properties[prop].type.name == "entity":
                continue
            for entry in entries:
                slot = attributes.setdefault(prop, {}).setdefault(
                    value(entry), {"value": value(entry), "originals": [], "sources": []}
                )
                if original(entry) != value(entry) and original(entry) not in slot["originals"]:
                    slot["originals"].append(original(entry))
                slot["sources"].append(record.provenance() | {"date": record.occurred_at or record.received_at})
        appearances.append({"ref": ref, "caption": _caption(entity), **record.provenance()})
        # Relationships that name this entity: roles in events, addresses, phones, vehicles, associates.
        for rel in entities:
            rel_schema_name = str(rel.get("schema"))
            if rel_schema_name not in model.schemata:
                continue  # a schema this model version no longer has: nothing to show for it
            rel_schema = model.get(rel_schema_name)
            if not rel_schema.is_relationship or not rel_schema.edge:
                continue
            props = rel.get("properties") or {}
            src, dst = rel_schema.edge["source"], rel_schema.edge["target"]
            ends = {end: [value(v) for v in props.get(end, [])] for end in (src, dst)}
            if ref in ends[src]:
                others = ends[dst]
            elif ref in ends[dst]:
                others = ends[src]
            else:
                continue
            role = value(props["role"][0]) if props.get("role") else rel_schema.label
            for other in others:
                target = by_id.get(other)
                if target is None:
                    continue
                target_schema = model.get(str(target.get("schema")))
                entry = {
                    "relationship": rel_schema.name,
                    "role": role,
                    "ref": other,
                    "schema": target_schema.name,
                    "caption": _caption(target),
                    "record_id": rid,
                }
                if target_schema.is_a("Event"):
                    tprops = target.get("properties") or {}
                    when = value(tprops["occurredAt"][0]) if tprops.get("occurredAt") else record.occurred_at
                    events.append(entry | {"occurred_at": when, "source": record.source})
                else:
                    related.append(entry)
                    related_refs.append(other)
    canon = canonical_of(store, related_refs)
    # One line per related entity and tie, with every record that states it.
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in related:
        entry["canonical_id"] = canon.get(entry["ref"])
        key = (entry["relationship"], entry["role"], entry["canonical_id"] or entry["ref"])
        slot = merged.setdefault(key, {**entry, "record_ids": []})
        slot["record_ids"].append(entry["record_id"])
    related = [{k: v for k, v in e.items() if k != "record_id"} for e in merged.values()]
    attribute_list = {
        prop: sorted(values.values(), key=lambda v: (-len(v["sources"]), v["value"]))
        for prop, values in sorted(attributes.items())
    }
    conflicts = {prop: [v["value"] for v in vals] for prop, vals in attribute_list.items() if len(vals) > 1}
    timeline = sorted(
        [{"date": e["occurred_at"], "what": f"{e['role']} in {e['schema']} {e['caption']}", **e} for e in events]
        + [
            {"date": a["received_at"], "what": f"record {a['record_id']} received from {a['source']}", **a}
            for a in appearances
        ],
        key=lambda x: str(x.get("date") or ""),
    )
    with store.begin() as conn:
        record_event(conn, actor, "entity.view", f"entity:{canonical}", {"record_ids": sorted(records)}, purpose)
    return {
        "id": canonical,
        "schema": mine[0][2],
        "caption": appearances[0]["caption"] if appearances else canonical,
        "attributes": attribute_list,
        "conflicts": conflicts,
        "records": appearances,
        "events": events,
        "related": related,
        "links": _links(store, refs),
        "timeline": timeline,
    }


def _links(store: Store, refs: set[str]) -> list[dict[str, Any]]:
    """Why the visible members were joined: only pairs whose both ends the viewer sees."""
    p = rt.resolve_pair.c
    ordered = sorted(refs)
    out = []
    with store.connect() as conn:
        for start in range(0, len(ordered), 500):
            part = ordered[start : start + 500]
            for row in conn.execute(select(rt.resolve_pair).where(p.left_ref.in_(part))):
                if row.right_ref in refs:
                    out.append(
                        {
                            "left": row.left_ref,
                            "right": row.right_ref,
                            "kind": row.kind,
                            "probability": round(float(row.probability), 6),
                            "evidence": row.evidence,
                            "model_version": row.model_version,
                        }
                    )
        d = rt.resolve_decision.c
        for row in conn.execute(select(rt.resolve_decision).where(d.left_ref.in_(ordered), d.superseded_by.is_(None))):
            if row.right_ref is None or row.right_ref in refs:
                out.append(
                    {
                        "left": row.left_ref,
                        "right": row.right_ref,
                        "kind": f"decision:{row.kind}",
                        "evidence": {"user": row.user_name, "reason": row.reason, "at": row.created_at.isoformat()},
                    }
                )
    return out


def _readable_refs(store: Store, actor: Actor, refs: list[str]) -> set[str]:
    """The references among ``refs`` whose record ``actor`` may read."""
    e = rt.resolve_entity.c
    record_of: dict[str, int] = {}
    with store.connect() as conn:
        for start in range(0, len(refs), 500):
            for ref, rid in conn.execute(select(e.ref, e.record_id).where(e.ref.in_(refs[start : start + 500]))):
                record_of[str(ref)] = int(rid)
    readable = visible_records(store, actor, sorted(set(record_of.values())))
    return {ref for ref, rid in record_of.items() if rid in readable}


def visible_members(store: Store, actor: Actor, canonical: str) -> list[tuple[str, int, str]]:
    """The members (ref, record id, schema) of an entity whose records ``actor`` may read."""
    everyone = members(store, canonical)
    readable = visible_records(store, actor, sorted({rid for _, rid, _ in everyone}))
    return [(ref, rid, schema) for ref, rid, schema in everyone if rid in readable]


def entity_decisions(store: Store, actor: Actor, canonical: str) -> list[dict[str, Any]]:
    """Analysts' decisions about an entity's members, as ``actor`` may see them.

    A decision is shown when every reference it names is in a record the viewer may
    read (its reason may speak of what those records say); a split lists only the
    readable references it separated. Like the profile, an entity with no readable
    member is "not found".
    """
    from fusionhub.resolve.decisions import history

    mine = {ref for ref, _, _ in visible_members(store, actor, canonical)}
    if not mine:
        raise NotFound(f"no entity {canonical} that you may see")
    rows = [h for ref in sorted(mine) for h in history(store, ref)]
    named = sorted({r for h in rows for r in (h["left"], h["right"]) if r} - mine)
    readable = mine | _readable_refs(store, actor, named)
    shown: dict[int, dict[str, Any]] = {}
    for h in rows:
        if h["left"] not in readable or (h["right"] and h["right"] not in readable):
            continue
        details = dict(h["details"] or {})
        if "separated_from" in details:
            details["separated_from"] = [r for r in details["separated_from"] if r in readable]
        shown[int(h["id"])] = h | {"details": details}
    return [shown[k] for k in sorted(shown)]


def decision_ref(store: Store, actor: Actor, entity_or_ref: str) -> str:
    """The reference a decision names for an entity id or a reference the viewer gave:
    a reference in a readable record is itself; a canonical id stands for its first
    member the viewer may read."""
    if _readable_refs(store, actor, [entity_or_ref]):
        return entity_or_ref
    mine = visible_members(store, actor, entity_or_ref)
    if not mine:
        raise NotFound(f"no entity {entity_or_ref} that you may see")
    return mine[0][0]


def entities_in_records(store: Store, actor: Actor, record_ids: list[int]) -> dict[str, str]:
    """ref -> canonical id for the resolved entities of the readable records among ``record_ids``
    (the record page and search hits link to the entity a record's person belongs to)."""
    readable = visible_records(store, actor, sorted(set(record_ids)))
    e = rt.resolve_entity.c
    out: dict[str, str] = {}
    ids = sorted(readable)
    with store.connect() as conn:
        for start in range(0, len(ids), 500):
            query = select(e.ref, e.canonical_id).where(e.record_id.in_(ids[start : start + 500]))
            out.update({str(ref): str(canon) for ref, canon in conn.execute(query)})
    return out
