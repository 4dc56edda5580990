"""Search latency at scale: the product path against the raw tantivy query.

    .venv/bin/python bench/search.py --records 1000000      # the issue's figure
    .venv/bin/python bench/search.py --records 20000 --queries 50   # a quick run
    .venv/bin/python bench/search.py --records 1000000 --workdir /tmp/sb1m   # keep it

With ``--workdir`` the store, its index and the sample the queries are made from stay
in that folder, and a later run with the same folder, ``--records`` and ``--seed``
reuses them instead of writing the store again; the index is rebuilt (and that build
timed) only when it is missing or behind, e.g. after a schema change dropped it.

Builds a store of generated person and incident records (half each) across four
agencies, indexes it (timed: the index build), then for each kind of query runs at
least ``--queries`` varied queries twice: through the product path
(``fusionhub.search.service.search``: parse, policy filter compiled into the index
query, index, hydrate the page of hits from the store through the policy filter with
provenance and match explanations, write the audit event) and as the raw tantivy query
for the same intent (the compiled query: total, top 20 and their record ids, facet
counts where the product counts them; no policy, no hydration, no audit).
``--raw-addresses-only`` times the raw query without reading its hits' record ids
(documents as tantivy addresses only: a stricter baseline for the fastest kinds). Prints
p50/p95 of each and the ratio; targets at 1M records: product p95 <= 25 ms and <= 10x raw.

Before timing, the store and index files are read once into the page cache (see
``warm_page_cache``; ``--cold`` skips it): the figures are the search's, not the disk's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.search_data import (
    NameTables,
    RecordSpec,
    incident_record,
    person_record,
    warm_page_cache,
    write_records,
)

KINDS = [
    "exact name",
    "misspelt name",
    "nickname",
    "phonetic",
    "swapped names",
    "plate fragment",
    "phone",
    "free text",
    "place + time",
    "faceted",
]
PHONETIC_RULES = [("PH", "F"), ("CK", "K"), ("Y", "I"), ("I", "Y"), ("C", "K"), ("EE", "EA"), ("S", "SS"), ("TH", "T")]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def misspell(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word))
    edit = rng.choice(["swap", "drop", "replace"])
    if edit == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if edit == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice("AEIOURSTLN") + word[i + 1 :]


def phonetic_variant(word: str) -> str | None:
    from fusionhub.search.names import phonetic_keys

    keys = set(phonetic_keys(word.lower()))
    for old, new in PHONETIC_RULES:
        if old in word[1:]:
            variant = word[0] + word[1:].replace(old, new, 1)
            if variant != word and keys & set(phonetic_keys(variant.lower())):
                return variant
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per kind (at least 200 for the figures)")
    parser.add_argument("--store", help="store URL (default: a SQLite file in the work folder)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", help="keep the store, index and query sample here; reuse them on a later run")
    parser.add_argument(
        "--cold", action="store_true", help="do not read the store and index files into the page cache first"
    )
    parser.add_argument(
        "--raw-addresses-only",
        action="store_true",
        help="time the raw query without reading its hits' record ids (the stricter baseline)",
    )
    parser.add_argument("--kinds", help="comma-separated kinds of query to run (default: all)")
    args = parser.parse_args()

    if args.workdir:
        workdir = Path(args.workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="fusionhub-search-bench-"))
    os.environ["FUSIONHUB_DATA"] = str(workdir)
    url = args.store or f"sqlite:///{workdir / 'bench.db'}"

    from fusionhub.policy.identity import actor_for
    from fusionhub.search.follower import engine_for, rebuild
    from fusionhub.store import Store

    store = Store(url)
    # Written only once the store is complete: its presence means "reuse the store".
    sample_file = workdir / f"bench-sample-{args.records}-{args.seed}.json"
    if sample_file.exists():
        sample = json.loads(sample_file.read_text())
        print(f"store: reusing {args.records:,} records in {url} (written in {sample['store_seconds']:.1f} s)")
        actor = actor_for(store, "bench")
    else:
        sample, actor = build_store(store, args.records, args.seed)
        sample_file.write_text(json.dumps(sample))
    people: list[dict[str, str | None]] = sample["people"]
    incidents = [(float(lat), float(lon), str(when)) for lat, lon, when in sample["incidents"]]

    # An index of an older layout is dropped when opened; then (or when new) it is built.
    engine = engine_for(store)
    if engine.cursor() < store.last_seq():
        started = time.perf_counter()
        indexed = rebuild(store)
        build_seconds = time.perf_counter() - started
        stats = engine.stats()
        size = int(stats["bytes"])  # type: ignore[call-overload]
        print(
            f"index build: {indexed:,} records -> {stats['documents']:,} documents in {build_seconds:.1f} s "
            f"({indexed / build_seconds:,.0f} records/s); index size {size / 1e6:.1f} MB "
            f"({size / max(indexed, 1):.0f} B/record)",
            flush=True,
        )
    else:
        stats = engine.stats()
        size = int(stats["bytes"])  # type: ignore[call-overload]
        print(f"index: reused, {stats['documents']:,} documents, {size / 1e6:.1f} MB (build not timed)", flush=True)
    if args.cold:
        print("page cache: not warmed (--cold)")
    else:
        warmed = warm_page_cache([workdir / "bench.db", Path(str(stats["path"]))] if not args.store else [])
        print(f"page cache: read {warmed / 1e6:,.0f} MB of store and index files before timing")
    kinds = [k.strip() for k in args.kinds.split(",")] if args.kinds else KINDS
    failures = run_queries(
        store, engine, actor, people, incidents, kinds, args.queries, args.seed, args.raw_addresses_only
    )
    print(f"\nstore {url}  index {stats['path']}")
    print("all targets met" if not failures else f"targets not met for: {', '.join(failures)}")


def build_store(store: Any, count: int, seed: int) -> tuple[dict[str, Any], Any]:
    """Write ``count`` generated records; return the sample queries are made from, and the analyst."""
    from fusionhub.ingest.sources import add_agency, add_source
    from fusionhub.policy.identity import add_user

    store.init()
    for code in ("PDA", "PDB", "PDC", "SO"):
        add_agency(store, code, f"{code} agency", "law-enforcement")
    sources = [
        add_source(store, "a-rms", "PDA", "rms"),
        add_source(store, "b-jail", "PDB", "jail"),
        add_source(store, "c-rms", "PDC", "rms", caveat="TLP:GREEN"),
        add_source(store, "so-rms", "SO", "rms", sharing_terms={"agency_only": True}),
    ]
    actor = add_user(store, "bench", "PDA", ["analyst"])
    rng = random.Random(seed)
    names = NameTables.load()
    people: list[dict[str, str | None]] = []
    incidents: list[tuple[float, float, str]] = []

    def records(share: int) -> Iterator[RecordSpec]:
        for number in range(share, count, len(sources)):
            if (number // len(sources)) % 2:
                record = person_record(rng, names, number)
                if len(people) < 20000 and rng.random() < 0.05:
                    props = record.entities[0]["properties"]
                    people.append(
                        {
                            "first": props["firstName"][0],
                            "middle": (props.get("middleName") or [None])[0],
                            "last": props["lastName"][0],
                            "dob": props["birthDate"][0],
                            "phone": props["phone"][0],
                            "plate": record.entities[1]["properties"]["plate"][0] if len(record.entities) > 1 else None,
                        }
                    )
            else:
                record = incident_record(rng, number)
                if len(incidents) < 20000 and rng.random() < 0.05:
                    lat, lon = map(float, record.entities[1]["properties"]["geo"][0].split(","))
                    incidents.append((lat, lon, record.occurred_at or ""))
            yield record

    started = time.perf_counter()
    for share, source in enumerate(sources):
        write_records(store, source, records(share))
    store_seconds = time.perf_counter() - started
    print(f"store: {count:,} records written in {store_seconds:.1f} s ({store.dialect})", flush=True)
    return {"people": people, "incidents": incidents, "store_seconds": store_seconds}, actor


def run_queries(
    store: Any,
    engine: Any,
    actor: Any,
    people: list[dict[str, str | None]],
    incidents: list[tuple[float, float, str]],
    kinds: list[str],
    queries: int,
    seed: int,
    addresses_only: bool = False,
) -> list[str]:
    """Time each kind through the product path and as the raw tantivy query; the kinds that miss."""
    from fusionhub.search.query import parse
    from fusionhub.search.service import search

    # Queries come from their own generator: a reused store gives the same queries.
    rng = random.Random(seed + 1)
    names = NameTables.load()
    with_nick = [p for p in people if names.nicknames.get(str(p["first"]))]
    phonetic = [(p, v) for p in people if (v := phonetic_variant(str(p["last"])))]
    words = sorted(
        {
            w
            for offense in (
                "BURGLARY",
                "THEFT",
                "VEHICLE",
                "ROBBERY",
                "FRAUD",
                "ASSAULT",
                "VANDALISM",
                "ARSON",
                "TRESPASS",
                "NARCOTICS",
            )
            for w in [offense]
        }
    )

    def make(kind: str) -> tuple[str, bool]:
        p = rng.choice(people)
        if kind == "exact name":
            return f'name:"{p["first"]} {p["last"]}"', False
        if kind == "misspelt name":
            return f'name:"{p["first"]} {misspell(rng, str(p["last"]))}"', False
        if kind == "nickname":
            q = rng.choice(with_nick)
            return f'name:"{rng.choice(names.nicknames[str(q["first"])])} {q["last"]}"', False
        if kind == "phonetic":
            q, variant = rng.choice(phonetic)
            return f"last:{variant} first:{q['first']}", False
        if kind == "swapped names":
            return f'name:"{p["last"]} {p["first"]}"', False
        if kind == "plate fragment":
            plated = [x for x in people if x["plate"]]
            return f"plate:{str(rng.choice(plated)['plate'])[: rng.choice([3, 4])]}*", False
        if kind == "phone":
            digits = str(p["phone"])[2:]
            form = rng.choice(
                [
                    f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                    f"+1 {digits}",
                    f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                ]
            )
            return f'phone:"{form}"', False
        if kind == "free text":
            a, b = rng.sample(words, 2)
            return rng.choice(
                [
                    f"{a.lower()} {rng.choice(['berkeley', 'oakland', 'hayward'])}",
                    f"{a.lower()} OR {b.lower()}",
                    '"theft from vehicle"',
                ]
            ), False
        if kind == "place + time":
            lat, lon, when = rng.choice(incidents)
            return f"near:{lat:.4f},{lon:.4f},{rng.choice(['500m', '1km', '2km'])} when:{when[:7]}", False
        return f"{rng.choice(words).lower()} type:incident", True

    print(f"\n{queries} queries per kind; product path = parse + policy filter + index + hydrate + audit", flush=True)
    raw = "addresses only" if addresses_only else "with the hits' record ids"
    print(f"raw query = the compiled tantivy query, total + top 20 {raw} (+ facets where counted)")
    # Wall-clock figures decide the targets; the CPU time of the searching thread
    # (thread_time) is printed beside them because on a shared machine the wall clock
    # also counts the time other processes held the cores.
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = (
        f"{'kind':<16}{'product p50':>12}{'product p95':>12}{'raw p50':>10}{'raw p95':>10}{'p95 ratio':>10}"
        f"{'cpu p95 product/raw':>21}{'hits':>9}  target"
    )
    print(header)
    print("-" * len(header))
    # The raw query is the one the product runs: fuzzy name tokens spelled out from the
    # index's terms (the raw run of each query comes first and pays for expanding them).
    snapshot: Callable[[], tuple[Any, Any]] = engine.snapshot
    failures = []
    for kind in kinds:
        product: list[float] = []
        raw: list[float] = []
        product_cpu: list[float] = []
        raw_cpu: list[float] = []
        totals: list[int] = []
        for _ in range(queries):
            query, facets = make(kind)
            # Raw: build the tantivy query for the same intent and run it: the total,
            # the top 20 and their record ids (what any caller needs of a search), and
            # the facet counts when the product path counts them; no parsing, no
            # policy, no store, no audit.
            node = parse(query)
            searcher, vocabulary = snapshot()
            t0, c0 = time.perf_counter(), time.thread_time()
            compiled = engine.compile(node, vocabulary)
            found = searcher.search(compiled, 20, count=True)  # type: ignore[attr-defined]
            addresses = [address for _, address in found.hits]
            if addresses and not addresses_only:
                searcher.fast_field_values("record_id", addresses)  # type: ignore[attr-defined]
            if facets:
                engine.facets(searcher, compiled)  # type: ignore[arg-type]
            raw.append((time.perf_counter() - t0) * 1000)
            raw_cpu.append((time.thread_time() - c0) * 1000)
            t0, c0 = time.perf_counter(), time.thread_time()
            result = search(store, actor, query, purpose="data quality review", limit=20, facets=facets)
            product.append((time.perf_counter() - t0) * 1000)
            product_cpu.append((time.thread_time() - c0) * 1000)
            totals.append(result.total)
            del found
        p95, r95 = percentile(product, 0.95), percentile(raw, 0.95)
        ok = p95 <= 25 and p95 <= 10 * r95
        if not ok:
            failures.append(kind)
        print(
            f"{kind:<16}{statistics.median(product):>10.2f}ms{p95:>10.2f}ms{statistics.median(raw):>8.2f}ms{r95:>8.2f}ms"
            f"{p95 / r95 if r95 else float('inf'):>9.1f}x"
            f"{percentile(product_cpu, 0.95):>11.2f}/{percentile(raw_cpu, 0.95):.2f}ms"
            f"{statistics.median(totals):>9.0f}  {'met' if ok else 'NOT met'}",
            flush=True,
        )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return failures


if __name__ == "__main__":
    main()
