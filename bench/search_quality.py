"""Search quality on multi-agency person records with ground truth.

    .venv/bin/python bench/search_quality.py                       # generate, load, evaluate
    .venv/bin/python bench/search_quality.py --truth truth.csv --store URL --as USER

Ground truth is a CSV with columns ``source, source_record_id, person_id, variations``
(variations: ``;``-joined kinds among typo, nickname, swap, missing-middle, dob-swap;
empty for a record as the person gave it). Without ``--truth`` the script generates a
multi-agency set itself (people seen by two to four agencies, each sighting with at
most one variation, plus people seen once as distractors), writes it to a store and
its ground truth to a CSV beside it.

For every record of a person seen more than once, the query is made from that
source's version (``name:"FIRST MIDDLE LAST" dob:YYYY-MM-DD``) and run through the
product search as an analyst. Relevant: the person's records from the other sources.
Per kind of variation (of the query's record or the target's), prints recall@10 (the
share of relevant records in the top 10), precision@10 (the share of the top-10 hits,
the query's own record left out, that are the person) and MRR (mean reciprocal rank of
the first record of the person, 0 beyond 10). Target: recall@10 >= 0.95.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search_data import NameTables, RecordSpec, person_entity, random_dob, write_records

KINDS = ["typo", "nickname", "swap", "missing-middle", "dob-swap"]


def weighted(path: Path, top: int) -> tuple[list[str], list[float]]:
    names, weights = [], []
    for line in path.read_text().splitlines()[:top]:
        parts = line.split()
        names.append(parts[0])
        weights.append(float(parts[1]))
    return names, weights


def typo(rng: random.Random, word: str) -> str:
    edits = 2 if len(word) >= 8 and rng.random() < 0.3 else 1
    for _ in range(edits):
        i = rng.randrange(1, len(word))
        kind = rng.choice(["swap", "drop", "replace", "insert"])
        if kind == "swap" and i < len(word) - 1:
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif kind == "drop" and len(word) > 4:
            word = word[:i] + word[i + 1 :]
        elif kind == "insert":
            word = word[:i] + rng.choice("AEIOUNRST") + word[i:]
        else:
            word = word[:i] + rng.choice([c for c in "AEIOUNRSTL" if c != word[i]]) + word[i + 1 :]
    return word


def generate(rng: random.Random, people: int, loners: int) -> tuple[dict[str, list[RecordSpec]], list[dict[str, str]]]:
    base = Path(__file__).resolve().parents[2] / "shared" / "data" / "names"
    male = weighted(base / "census1990_dist.male.first.txt", 400)
    female = weighted(base / "census1990_dist.female.first.txt", 400)
    last = weighted(base / "census1990_dist.all.last.txt", 3000)
    tables = NameTables.load()
    sources = ["a-rms", "b-jail", "c-cad", "d-rms"]
    by_source: dict[str, list[RecordSpec]] = defaultdict(list)
    truth: list[dict[str, str]] = []
    counter = 0
    for person in range(people + loners):
        names = male if rng.random() < 0.5 else female
        first = rng.choices(names[0], names[1])[0]
        surname = rng.choices(last[0], last[1])[0]
        middle = rng.choices(names[0], names[1])[0] if rng.random() < 0.7 else None
        dob = random_dob(rng)
        sightings = rng.sample(sources, rng.randint(2, 4) if person < people else 1)
        for n, source in enumerate(sightings):
            f, m, s, d = first, middle, surname, dob
            kinds: list[str] = []
            if n > 0 and rng.random() < 0.85:
                kind = rng.choice(KINDS)
                y, mo, da = dob.split("-")
                if kind == "nickname" and not tables.nicknames.get(first):
                    kind = "typo"
                if kind == "missing-middle" and not middle:
                    kind = "typo"
                if kind == "dob-swap" and (int(da) > 12 or mo == da):
                    kind = "swap"
                if kind == "typo":
                    if rng.random() < 0.7:
                        s = typo(rng, surname)
                    else:
                        f = typo(rng, first)
                elif kind == "nickname":
                    f = rng.choice(tables.nicknames[first])
                elif kind == "swap":
                    f, s = surname, first
                elif kind == "missing-middle":
                    m = middle[0] if middle and rng.random() < 0.5 else None
                elif kind == "dob-swap":
                    d = f"{y}-{da}-{mo}"
                kinds.append(kind)
            counter += 1
            rid = f"R{counter}"
            by_source[source].append(RecordSpec(rid, [person_entity("person", f, m, s, d)]))
            truth.append(
                {"source": source, "source_record_id": rid, "person_id": f"P{person}", "variations": ";".join(kinds)}
            )
    return by_source, truth


def evaluate(store: Any, actor: Any, truth: list[dict[str, str]]) -> None:
    from sqlalchemy import select

    from fusionhub.policy.reader import RecordReader
    from fusionhub.search.service import search
    from fusionhub.store import tables as t

    # Record ids by (source, source_record_id): no content read here.
    with store.connect() as conn:
        ids = {
            (row.name, row.source_record_id): row.id
            for row in conn.execute(
                select(t.record.c.id, t.record.c.source_record_id, t.source.c.name).join(
                    t.source, t.source.c.id == t.record.c.source_id
                )
            )
        }
    reader = RecordReader(store, actor, purpose="data quality review")
    person_of: dict[int, str] = {}
    kinds_of: dict[int, set[str]] = {}
    members: dict[str, list[int]] = defaultdict(list)
    for row in truth:
        rid = ids[(row["source"], row["source_record_id"])]
        person_of[rid] = row["person_id"]
        kinds_of[rid] = {k for k in row["variations"].split(";") if k}
        members[row["person_id"]].append(rid)
    pairs: dict[str, list[bool]] = defaultdict(list)
    reciprocal: dict[str, list[float]] = defaultdict(list)
    precision: dict[str, list[float]] = defaultdict(list)
    queries = 0
    for person, records in members.items():
        if len(records) < 2:
            continue
        for query_record in records:
            props = next(e for e in reader.get(query_record).payload["entities"] if e["schema"] == "Person")[
                "properties"
            ]

            def value(name: str, props: dict[str, Any] = props) -> str:
                values = props.get(name) or []
                return str(values[0] if not isinstance(values[0], list) else values[0][0]) if values else ""

            name = " ".join(v for v in (value("firstName"), value("middleName"), value("lastName")) if v) or value(
                "name"
            )
            query = f'name:"{name}"' + (f" dob:{value('birthDate')}" if value("birthDate") else "")
            result = search(store, actor, query, purpose="data quality review", limit=11, facets=False)
            ranked = [h.record_id for h in result.hits if h.record_id != query_record][:10]
            queries += 1
            relevant = [r for r in records if r != query_record]
            groups = (set(kinds_of[query_record]) | {k for r in relevant for k in kinds_of[r]}) or {"none"}
            found = sum(1 for r in ranked if person_of.get(r) == person)
            first = next((n for n, r in enumerate(ranked, start=1) if person_of.get(r) == person), None)
            for group in groups | {"all"}:
                precision[group].append(found / len(ranked) if ranked else 0.0)
                reciprocal[group].append(1 / first if first else 0.0)
            for target in relevant:
                hit = target in ranked
                for group in (kinds_of[query_record] | kinds_of[target]) or {"none"}:
                    pairs[group].append(hit)
                pairs["all"].append(hit)
    print(f"{queries} queries, {sum(1 for _ in truth)} records, {len(members)} people")
    print(f"{'variation':<16}{'pairs':>8}{'recall@10':>11}{'precision@10':>14}{'MRR':>8}")
    for group in ["none", *KINDS, "all"]:
        got = pairs.get(group, [])
        if not got:
            continue
        recall = sum(got) / len(got)
        mrr = sum(reciprocal[group]) / max(len(reciprocal[group]), 1)
        prec = sum(precision[group]) / max(len(precision[group]), 1)
        print(f"{group:<16}{len(got):>8}{recall:>11.3f}{prec:>14.3f}{mrr:>8.3f}")
    overall = sum(pairs["all"]) / max(len(pairs["all"]), 1)
    print(f"\nrecall@10 overall {overall:.3f}: target >= 0.95 {'met' if overall >= 0.95 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000, help="people seen by two to four agencies")
    parser.add_argument("--loners", type=int, default=8000, help="distractors seen once")
    parser.add_argument("--truth", help="ground-truth CSV of an existing store (with --store and --as)")
    parser.add_argument("--store")
    parser.add_argument("--as", dest="user")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    from fusionhub.ingest.sources import add_agency, add_source, get_source
    from fusionhub.policy.identity import actor_for, add_user
    from fusionhub.search.follower import rebuild
    from fusionhub.store import Store

    if args.truth:
        store = Store(args.store)
        with open(args.truth, newline="") as handle:
            truth = list(csv.DictReader(handle))
        evaluate(store, actor_for(store, args.user), truth)
        return
    workdir = Path(tempfile.mkdtemp(prefix="fusionhub-search-quality-"))
    os.environ["FUSIONHUB_DATA"] = str(workdir)
    store = Store(f"sqlite:///{workdir / 'quality.db'}")
    store.init()
    by_source, truth = generate(random.Random(args.seed), args.people, args.loners)
    for code in ("PDA", "PDB", "PDC", "PDD"):
        add_agency(store, code, f"{code} agency", "law-enforcement")
    for source, code, kind in (
        ("a-rms", "PDA", "rms"),
        ("b-jail", "PDB", "jail"),
        ("c-cad", "PDC", "cad"),
        ("d-rms", "PDD", "rms"),
    ):
        add_source(store, source, code, kind)
        write_records(store, get_source(store, source), iter(by_source[source]))
    truth_path = workdir / "truth.csv"
    with truth_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["source", "source_record_id", "person_id", "variations"])
        writer.writeheader()
        writer.writerows(truth)
    rebuild(store)
    actor = add_user(store, "eval", "PDA", ["analyst"])
    print(f"generated set: {workdir / 'quality.db'}, ground truth {truth_path}")
    evaluate(store, actor, truth)


if __name__ == "__main__":
    main()
