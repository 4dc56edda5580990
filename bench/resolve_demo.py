"""The ``demo`` row of bench/resolve.py: the demo generator's four agencies, end to end.

The product path, step by step: ``fusionhub.demo.loader.load_demo`` generates the
exports with their ground truth and imports each through its shipped profile
(``ingest_file``) into a fresh SQLite store; ``fusionhub.resolve.resolver.run`` resolves
them as ``fusionhub resolve run`` does (first run: trains the model unsupervised, no
labels); the person clusters are read back from ``resolve_entity`` and the model and
identifier edges from ``resolve_pair``. Only then is the ground truth read, to score.

Scoring counts record pairs. A pair is labelled with every kind of variation either of
its two records carries (``none`` when neither carries one), so a missed pair between a
clean record and one with a nickname counts under ``nickname``. For each kind: the true
pairs carrying it, the missed ones among them, and the false pairs carrying it.
"""

from __future__ import annotations

import csv
import itertools
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Any

#: (source name, source record id): the key the ground truth and the store share.
Key = tuple[str, str]
NONE = "none"


@dataclass(frozen=True)
class Truth:
    person: str
    kinds: frozenset[str]


def read_truth(path: Path) -> dict[Key, Truth]:
    """The person behind each source record that names one (LPR reads name none)."""
    truth: dict[Key, Truth] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["person_id"]:
                continue
            kinds = frozenset(k for k in row["variations"].split(";") if k)
            truth[(row["source"], row["source_record_id"])] = Truth(row["person_id"], kinds)
    return truth


def _prf(hits: int, predicted: int, true: int) -> dict[str, float]:
    precision = hits / predicted if predicted else 0.0
    recall = hits / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5)}


def _labels(a: Truth, b: Truth) -> frozenset[str]:
    return (a.kinds | b.kinds) or frozenset({NONE})


def score_clusters(clusters: Mapping[Key, str], truth: Mapping[Key, Truth]) -> dict[str, Any]:
    """Pairwise precision/recall/F1 of the pairs the clusters imply, and the error split.

    Every record of the ground truth that names a person is scored; one the store has no
    cluster for (not stored, or no person entity) counts as a cluster of its own.
    """
    label = {key: clusters.get(key, f"unclustered:{key[0]}:{key[1]}") for key in truth}
    by_person: dict[str, list[Key]] = defaultdict(list)
    by_cluster: dict[str, list[Key]] = defaultdict(list)
    for key, fact in truth.items():
        by_person[fact.person].append(key)
        by_cluster[label[key]].append(key)
    cells = Counter((label[key], fact.person) for key, fact in truth.items())
    hits = sum(comb(n, 2) for n in cells.values())
    true_pairs = sum(comb(len(keys), 2) for keys in by_person.values())
    predicted = sum(comb(len(keys), 2) for keys in by_cluster.values())
    split: dict[str, dict[str, int]] = {}

    def add(kind: str, field: str, n: int) -> None:
        if n:
            split.setdefault(kind, {"true_pairs": 0, "missed": 0, "false": 0})[field] += n

    # True pairs per kind without listing them: those of a person's n records with at
    # least one of its n_k records carrying the kind are C(n,2) - C(n - n_k, 2).
    for keys in by_person.values():
        n = len(keys)
        carrying = Counter(kind for key in keys for kind in truth[key].kinds)
        for kind, n_k in carrying.items():
            add(kind, "true_pairs", comb(n, 2) - comb(n - n_k, 2))
        add(NONE, "true_pairs", comb(sum(1 for key in keys if not truth[key].kinds), 2))
    missed = false = 0
    for keys in by_person.values():
        for a, b in _across(keys, label):
            missed += 1
            for kind in _labels(truth[a], truth[b]):
                add(kind, "missed", 1)
    for keys in by_cluster.values():
        for a, b in _across(keys, {key: truth[key].person for key in keys}):
            false += 1
            for kind in _labels(truth[a], truth[b]):
                add(kind, "false", 1)
    assert missed == true_pairs - hits and false == predicted - hits
    return {
        "records": len(truth),
        "persons": len(by_person),
        "true_pairs": true_pairs,
        "predicted_pairs": predicted,
        "pairs": _prf(hits, predicted, true_pairs),
        "missed": missed,
        "false": false,
        "errors_by_variation": dict(sorted(split.items())),
    }


def _across(keys: list[Key], group: Mapping[Key, str]) -> Iterable[tuple[Key, Key]]:
    """The pairs of ``keys`` that ``group`` puts apart."""
    parts: dict[str, list[Key]] = defaultdict(list)
    for key in keys:
        parts[group[key]].append(key)
    for left, right in itertools.combinations(parts.values(), 2):
        yield from itertools.product(left, right)


def score_edges(edges: Iterable[tuple[Key, Key]], truth: Mapping[Key, Truth]) -> dict[str, float]:
    """Precision/recall/F1 of the pairs the resolver linked directly (model or identifier)."""
    pairs = {(a, b) if a <= b else (b, a) for a, b in edges if a in truth and b in truth and a != b}
    hits = sum(1 for a, b in pairs if truth[a].person == truth[b].person)
    by_person = Counter(fact.person for fact in truth.values())
    return _prf(hits, len(pairs), sum(comb(n, 2) for n in by_person.values()))


def read_resolution(store: Any) -> tuple[dict[Key, str], list[tuple[Key, Key]]]:
    """The person clusters and the resolver's pairs, keyed by (source, source record id).

    A system read like the resolver's own: the benchmark scores every link the resolver
    made, and shows no record's content to anyone.
    """
    from sqlalchemy import select

    from fusionhub.store import resolve_tables as rt
    from fusionhub.store import tables as t

    e, r, s, p = rt.resolve_entity.c, t.record.c, t.source.c, rt.resolve_pair.c
    clusters: dict[Key, str] = {}
    key_of: dict[str, Key] = {}
    with store.connect() as conn:
        query = (
            select(e.ref, e.canonical_id, s.name, r.source_record_id)
            .join(t.record, r.id == e.record_id)
            .join(t.source, s.id == r.source_id)
            .where(e.schema == "Person")
        )
        for ref, canonical, source, record in conn.execute(query):
            key = (str(source), str(record))
            if key in clusters:
                raise ValueError(f"{key} holds more than one person; the demo sources write one per record")
            clusters[key] = str(canonical)
            key_of[str(ref)] = key
        edges = [
            (key_of[left], key_of[right])
            for left, right in conn.execute(select(p.left_ref, p.right_ref))
            if left in key_of and right in key_of
        ]
    return clusters, edges


def run_demo(size: int, seed: int = 7) -> dict[str, Any]:
    """Generate and load the demo, resolve it, score it against the ground truth."""
    import os
    import tempfile

    from fusionhub.demo.generator import GROUND_TRUTH
    from fusionhub.demo.loader import load_demo
    from fusionhub.resolve import resolver
    from fusionhub.store import Store

    with tempfile.TemporaryDirectory(prefix="fusionhub-bench-demo-") as tmp:
        os.environ["FUSIONHUB_DATA"] = tmp
        store = Store(f"sqlite:///{Path(tmp) / 'fusionhub.db'}")
        try:
            store.init()
            mark = time.perf_counter()
            loaded = load_demo(store, size=size, seed=seed, out=Path(tmp) / "demo", real=False)
            load_seconds = time.perf_counter() - mark
            if loaded.rejected:
                raise RuntimeError(f"the demo import quarantined {loaded.rejected} rows")
            mark = time.perf_counter()
            report = resolver.run(store)  # what `fusionhub resolve run` runs, with its defaults
            wall = time.perf_counter() - mark
            clusters, edges = read_resolution(store)
            model = resolver.status(store)["model"]
            truth = read_truth(Path(tmp) / "demo" / GROUND_TRUTH)
        finally:
            store.dispose()
    scored = score_clusters(clusters, truth)
    return {
        "dataset": "demo",
        "records": size,
        "person_records": report.persons,
        "persons": scored["persons"],
        "threshold": model["threshold"] if model else None,
        "clusters": scored["pairs"],
        "pairs": score_edges(edges, truth),
        "true_pairs": scored["true_pairs"],
        "predicted_pairs": scored["predicted_pairs"],
        "missed": scored["missed"],
        "false": scored["false"],
        "errors_by_variation": scored["errors_by_variation"],
        "load_seconds": round(load_seconds, 2),
        "seconds": round(wall, 2),
        "stages": report.seconds,
        "model_pairs": report.model_pairs,
        "identifier_pairs": report.identifier_pairs,
        "records_per_s": round(report.persons / wall) if wall else 0,
    }
