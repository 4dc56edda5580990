"""Resolution runs over the store: full (everything again) and incremental (one batch).

**A system process.** The resolver reads every active record without an actor's
policy filter: a model of who is who must see all the records it links, and nothing
it computes is shown to anyone as such. What users see of its results (fused
profiles, the link graph) is read back through the policy filter for that user
(``profile.py``, ``fusionhub.graph``), so a link never reveals a record's values to a
user who may not read that record.

**Incremental.** The resolver follows the store's change sequence (``index_cursor``
row ``resolve``). A run reads the records changed above its cursor, drops their old
entities, features, keys and pairs, scores the new person rows against the stored
ones (Splink ``predict_between``) and among themselves (``predict_within``), and
re-clusters only the clusters the changes touch. A full run clears the derived tables
(never the analysts' decisions nor the saved models) and resolves from sequence 0.

**Accountable.** Every pair kept says why: the model's weight breakdown, the strong
identifier shared, or the analyst decision that joined it. Standing decisions are
applied on every run (``decisions.standing``).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from fusionhub.resolve import decisions
from fusionhub.resolve import model as m
from fusionhub.resolve.clusters import cluster
from fusionhub.resolve.deterministic import RESOLVED_SCHEMAS, entity_keys
from fusionhub.resolve.engine import DuckDBEngine, Engine, ScoredPair
from fusionhub.resolve.features import COLUMNS, PersonRow, person_rows, rows_to_tsv
from fusionhub.store import Store, utcnow
from fusionhub.store import resolve_tables as rt
from fusionhub.store import tables as t
from fusionhub.store.followers import get_cursor, set_cursor

log = logging.getLogger(__name__)
CURSOR = "resolve"
CHUNK = 5_000
#: Strength of edges that are not model scores, so clustering joins them first.
DECISION_STRENGTH = 3.0
IDENTIFIER_STRENGTH = 2.0


@dataclass
class RunReport:
    mode: str
    from_seq: int
    to_seq: int
    records: int = 0
    entities: int = 0
    persons: int = 0
    model_version: int | None = None
    trained: bool = False
    model_pairs: int = 0
    identifier_pairs: int = 0
    clusters_reformed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class _Batch:
    """What the changed records contribute."""

    record_ids: list[int] = field(default_factory=list)
    entities: list[tuple[str, int, str]] = field(default_factory=list)  # ref, record id, schema
    persons: list[PersonRow] = field(default_factory=list)
    person_record: dict[str, int] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)  # key, ref


def canonical_id(members: Iterable[str]) -> str:
    return "E" + hashlib.sha1(min(members).encode()).hexdigest()[:15]


def latest_model(conn: Connection) -> tuple[int, dict[str, Any], float] | None:
    row = conn.execute(select(rt.resolve_model).order_by(rt.resolve_model.c.version.desc()).limit(1)).first()
    return (int(row.version), row.settings, float(row.threshold)) if row else None


def _read_changes(store: Store, after: int) -> tuple[_Batch, int]:
    """Read the records changed above ``after`` (system read; see the module docstring)."""
    batch = _Batch()
    r = t.record.c
    top = after
    with store.connect() as conn:
        query = (
            select(r.id, r.seq, r.status, r.payload, r.occurred_at, r.received_at)
            .where(r.seq > after)
            .order_by(r.seq)
            .execution_options(yield_per=CHUNK)
        )
        for row in conn.execute(query):
            top = max(top, int(row.seq))
            batch.record_ids.append(int(row.id))
            if row.status != "active":
                continue
            payload = row.payload or {}
            entities = list(payload.get("entities") or [])
            meta = {"occurred_at": row.occurred_at, "received_at": row.received_at.isoformat()}
            for entity in entities:
                schema = str(entity.get("schema"))
                if schema not in RESOLVED_SCHEMAS:
                    continue
                ref = str(entity.get("id"))
                batch.entities.append((ref, int(row.id), schema))
                batch.keys.extend((key, ref) for key in entity_keys(entity, entities, meta))
            for person in person_rows(row.id, payload):
                ref = str(person.values["unique_id"]).rsplit(":", 1)[1]
                person.values["unique_id"] = ref
                batch.persons.append(person)
                batch.person_record[ref] = int(row.id)
    return batch, top


def _chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for part in _chunks(rows):
        conn.execute(insert(table), part)


def _existing_features(store: Store, path: Path, exclude: set[int]) -> int:
    """Write the stored person rows (except those of ``exclude`` records) as TSV."""
    f = rt.resolve_feature.c
    count = 0
    with store.connect() as conn, path.open("w", encoding="utf-8") as handle:
        handle.write("\t".join(COLUMNS) + "\n")
        query = select(f.ref, f.record_id, *[f[c] for c in COLUMNS[1:]]).execution_options(yield_per=20_000)
        for row in conn.execute(query):
            if row[1] in exclude:
                continue
            handle.write("\t".join([row[0], *("" if v is None else v for v in row[2:])]) + "\n")
            count += 1
    return count


def run(
    store: Store,
    *,
    full: bool = False,
    retrain: bool = False,
    engine: Engine | None = None,
    threshold: float | None = None,
    user: str | None = None,
) -> RunReport:
    """Resolve the changes since the last run (or everything, with ``full``)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    with store.begin() as conn:
        after = 0 if full else get_cursor(conn, CURSOR)
        if full:
            for table in (rt.resolve_entity, rt.resolve_pair, rt.resolve_feature, rt.resolve_key):
                conn.execute(delete(table))
    batch, top = _read_changes(store, after)
    report = RunReport("full" if full else "incremental", after, top, records=len(batch.record_ids))
    report.entities, report.persons = len(batch.entities), len(batch.persons)
    timings["read"] = time.perf_counter() - started
    if not batch.record_ids and not retrain:
        report.seconds = {"total": round(time.perf_counter() - started, 3)}
        return report
    changed = set(batch.record_ids)
    owned = engine is None
    engine = engine or DuckDBEngine()
    try:
        with tempfile.TemporaryDirectory(prefix="fusionhub-resolve-") as tmp:
            mark = time.perf_counter()
            new_tsv, old_tsv = Path(tmp) / "new.tsv", Path(tmp) / "old.tsv"
            rows_to_tsv(batch.persons, new_tsv)
            existing = 0 if full else _existing_features(store, old_tsv, changed)
            engine.load(new_tsv, "persons_new")
            if existing:
                engine.load(old_tsv, "persons_old")
            timings["features"] = time.perf_counter() - mark
            mark = time.perf_counter()
            with store.connect() as conn:
                saved = latest_model(conn)
            if saved is None or retrain:
                if retrain and existing:
                    engine.load(_all_features(new_tsv, old_tsv, Path(tmp) / "all.tsv"), "persons_all")
                    tables = ["persons_all"]
                else:
                    tables = ["persons_new"]
                trained = engine.train(tables)
                version = _save_model(store, trained, threshold or m.DEFAULT_THRESHOLD, len(batch.persons), user)
                saved = (version, trained, threshold or m.DEFAULT_THRESHOLD)
                report.trained = True
            timings["training"] = time.perf_counter() - mark
            version, model, model_threshold = saved
            report.model_version = version
            cut = threshold if threshold is not None else model_threshold
            mark = time.perf_counter()
            scored: list[ScoredPair] = []
            if batch.persons:
                if existing:
                    scored = list(engine.predict_between("persons_old", "persons_new", model, cut))
                else:
                    scored = list(engine.predict(["persons_new"], model, cut))
            timings["prediction"] = time.perf_counter() - mark
    finally:
        if owned:
            engine.close()
    mark = time.perf_counter()
    report.model_pairs = len(scored)
    touched = _apply(store, batch, scored, model, version, full)
    report.clusters_reformed = touched
    with store.begin() as conn:
        report.identifier_pairs = int(
            conn.execute(select(func.count()).where(rt.resolve_pair.c.kind == "identifier")).scalar_one()
        )
        set_cursor(conn, CURSOR, top)
    timings["clustering"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    report.seconds = {k: round(v, 3) for k, v in timings.items()}
    return report


def _all_features(new: Path, old: Path, into: Path) -> Path:
    with into.open("w", encoding="utf-8") as out:
        for index, part in enumerate((old, new)):
            with part.open(encoding="utf-8") as handle:
                header = handle.readline()
                if index == 0:
                    out.write(header)
                for line in handle:
                    out.write(line)
    return into


def _save_model(store: Store, trained: dict[str, Any], threshold: float, rows: int, user: str | None) -> int:
    with store.begin() as conn:
        current = conn.execute(select(func.max(rt.resolve_model.c.version))).scalar()
        version = int(current or 0) + 1
        conn.execute(
            insert(rt.resolve_model).values(
                version=version,
                trained_at=utcnow(),
                rows=rows,
                seconds=float(trained.get("fusionhub", {}).get("training_seconds", 0.0)),
                threshold=threshold,
                settings=trained,
                user_name=user,
            )
        )
    return version


def _apply(
    store: Store, batch: _Batch, scored: list[ScoredPair], model: dict[str, Any], version: int, full: bool
) -> int:
    """Store the batch's entities and pairs and re-cluster what they touch."""
    now = utcnow()
    levels, prior = m.level_table(model), m.prior_weight(model)
    e, p, k = rt.resolve_entity.c, rt.resolve_pair.c, rt.resolve_key.c
    changed = batch.record_ids
    with store.begin() as conn:
        # Clusters the changed records belonged to must be re-formed without them.
        touched: set[str] = set()
        old_refs: set[str] = set()
        for part in _id_chunks(changed):
            for ref, canon in conn.execute(select(e.ref, e.canonical_id).where(e.record_id.in_(part))):
                old_refs.add(ref)
                touched.add(canon)
        if old_refs and not full:
            for refs in _id_chunks(sorted(old_refs)):
                conn.execute(delete(rt.resolve_pair).where(p.left_ref.in_(refs) | p.right_ref.in_(refs)))
                conn.execute(delete(rt.resolve_key).where(k.ref.in_(refs)))
            for part in _id_chunks(changed):
                conn.execute(delete(rt.resolve_entity).where(e.record_id.in_(part)))
                conn.execute(delete(rt.resolve_feature).where(rt.resolve_feature.c.record_id.in_(part)))
        # Features and keys of the new batch.
        _insert(
            conn,
            rt.resolve_feature,
            [
                {"ref": row.values["unique_id"], "record_id": batch.person_record[str(row.values["unique_id"])]}
                | {c: row.values.get(c) for c in COLUMNS[1:]}
                for row in batch.persons
            ],
        )
        # Identifier edges: the new keys against every holder of the same key.
        new_keys = {key for key, _ in batch.keys}
        holders: dict[str, list[str]] = {}
        for keys in _id_chunks(sorted(new_keys)):
            for key, ref in conn.execute(select(k.key, k.ref).where(k.key.in_(keys))):
                holders.setdefault(key, []).append(ref)
        _insert(conn, rt.resolve_key, [{"key": key, "ref": ref} for key, ref in batch.keys])
        pair_rows: list[dict[str, Any]] = []
        for key, ref in batch.keys:
            group = holders.setdefault(key, [])
            if group and ref not in group:
                pair_rows.append(_identifier_pair(group[0], ref, key, now))
            if ref not in group:
                group.append(ref)
        for pair in scored:
            evidence = m.breakdown(pair.weights, levels, prior)
            pair_rows.append(
                {
                    "left_ref": pair.left,
                    "right_ref": pair.right,
                    "kind": "model",
                    "probability": pair.probability,
                    "match_weight": pair.weight,
                    "evidence": evidence,
                    "model_version": version,
                    "created_at": now,
                }
            )
        _insert(conn, rt.resolve_pair, pair_rows)
        # Which clusters the new edges reach.
        new_refs = {ref for ref, _, _ in batch.entities}
        linked = {r for row in pair_rows for r in (row["left_ref"], row["right_ref"])} - new_refs
        for refs in _id_chunks(sorted(linked)):
            touched.update(c for (c,) in conn.execute(select(e.canonical_id).where(e.ref.in_(refs))))
        members: dict[str, tuple[int, str]] = {ref: (rid, schema) for ref, rid, schema in batch.entities}
        for canons in _id_chunks(sorted(touched)):
            for ref, rid, schema in conn.execute(
                select(e.ref, e.record_id, e.schema).where(e.canonical_id.in_(canons))
            ):
                members.setdefault(ref, (int(rid), schema))
        constraints = decisions.standing(conn)
        refs_in_play = set(members)
        # Decisions can reach into clusters no new edge touched: pull those in too.
        for a, b, _ in constraints.must_link:
            if (a in refs_in_play) != (b in refs_in_play):
                other = b if a in refs_in_play else a
                for ref, rid, schema, canon in conn.execute(
                    select(e.ref, e.record_id, e.schema, e.canonical_id).where(e.ref == other)
                ):
                    for mref, mrid, mschema in conn.execute(
                        select(e.ref, e.record_id, e.schema).where(e.canonical_id == canon)
                    ):
                        members.setdefault(mref, (int(mrid), mschema))
                    members.setdefault(ref, (int(rid), schema))
        refs_in_play = set(members)
        edges: list[tuple[str, str, float]] = []
        for refs in _id_chunks(sorted(refs_in_play)):
            for left, right, kind, prob in conn.execute(
                select(p.left_ref, p.right_ref, p.kind, p.probability).where(p.left_ref.in_(refs))
            ):
                if right in refs_in_play:
                    edges.append((left, right, IDENTIFIER_STRENGTH if kind == "identifier" else float(prob)))
        edges += [(a, b, DECISION_STRENGTH) for a, b, _ in constraints.must_link if a in members and b in members]
        cannot = [(a, b) for a, b in constraints.cannot_link if a in members and b in members]
        labels = cluster(members, edges, cannot)
        groups: dict[str, list[str]] = {}
        for ref, label in labels.items():
            groups.setdefault(label, []).append(ref)
        canonical = {ref: canonical_id(group) for group in groups.values() for ref in group}
        for refs in _id_chunks(sorted(refs_in_play - new_refs)):
            conn.execute(delete(rt.resolve_entity).where(e.ref.in_(refs)))
        _insert(
            conn,
            rt.resolve_entity,
            [
                {
                    "ref": ref,
                    "record_id": rid,
                    "schema": schema,
                    "canonical_id": canonical[ref],
                    "updated_at": now,
                }
                for ref, (rid, schema) in members.items()
            ],
        )
    return len(groups)


def _identifier_pair(left: str, right: str, key: str, now: Any) -> dict[str, Any]:
    scheme, issuer, value = key.split("|", 2)
    return {
        "left_ref": left,
        "right_ref": right,
        "kind": "identifier",
        "probability": 1.0,
        "match_weight": None,
        "evidence": {"identifier": scheme, "issuer": issuer, "value": value},
        "model_version": None,
        "created_at": now,
    }


def _id_chunks(values: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def status(store: Store) -> dict[str, Any]:
    e = rt.resolve_entity.c
    with store.connect() as conn:
        saved = conn.execute(select(rt.resolve_model).order_by(rt.resolve_model.c.version.desc()).limit(1)).first()
        return {
            "cursor": get_cursor(conn, CURSOR),
            "store_seq": int(conn.execute(select(func.coalesce(func.max(t.record.c.seq), 0))).scalar_one()),
            "entities": int(conn.execute(select(func.count()).select_from(rt.resolve_entity)).scalar_one()),
            "canonical_entities": int(conn.execute(select(func.count(func.distinct(e.canonical_id)))).scalar_one()),
            "pairs": int(conn.execute(select(func.count()).select_from(rt.resolve_pair)).scalar_one()),
            "decisions": int(conn.execute(select(func.count()).select_from(rt.resolve_decision)).scalar_one()),
            "model": None
            if saved is None
            else {
                "version": saved.version,
                "trained_at": saved.trained_at.isoformat(),
                "rows": saved.rows,
                "seconds": saved.seconds,
                "threshold": saved.threshold,
            },
        }
