"""Benchmark: verify an audit chain of N events (default 1,000,000) against the 30 s target.

Lays down a realistic chain (logins, searches with returned ids, record views with
purposes, imports) with the same hashing as ``record_event``, checkpoints it, then times
``fusionhub.policy.audit.verify``. The baseline, in the same run, is a bare HMAC-SHA256
pass over the same serialized events held in memory (no database, no checks); the ratio
says what reading and checking cost on top of hashing.

    .venv/bin/python -m bench.audit_verify [--events 1000000] [--store URL]
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from fusionhub.policy.audit import GENESIS, bind, bulk_chain, event_message, verify, write_checkpoint
from fusionhub.store import Store
from fusionhub.store import policy_tables as pt

TARGET_SECONDS = 30.0
USERS = [f"user{n:03d}" for n in range(200)]
PURPOSES = ["case 24-001", "threat assessment", "officer safety", "case 25-1187", "SAR vetting"]


def events(n: int, seed: int = 7) -> Iterator[tuple[str, str, str, str | None, str | None, str]]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        ts = (start + timedelta(milliseconds=250 * i)).isoformat(timespec="microseconds")
        user = rng.choice(USERS)
        kind = rng.random()
        if kind < 0.45:
            ids = sorted(rng.sample(range(1, 2_000_000), rng.randint(0, 20)))
            details = {
                "query": f"name:{rng.choice(['Roe', 'Doe', 'Smith', 'Nguyen'])}",
                "person": True,
                "record_ids": ids,
            }
            yield ts, user, "search", "search", rng.choice(PURPOSES), json.dumps(details, sort_keys=True)
        elif kind < 0.85:
            rid = rng.randint(1, 2_000_000)
            yield ts, user, "record.view", f"record:{rid}", rng.choice(PURPOSES), json.dumps({"record_id": rid})
        elif kind < 0.97:
            yield ts, user, "login.success", f"user:{user}", None, "{}"
        else:
            yield ts, user, "import", f"batch:{i}", None, json.dumps({"rows": 5000, "stored": 4990, "source": "rms"})


def lay_chain(store: Store, n: int) -> float:
    config = bind(store)
    started = time.perf_counter()
    last_hash = GENESIS
    batch: list[dict[str, object]] = []
    with store.begin() as conn:
        for row in bulk_chain(config.key, GENESIS, 1, events(n)):
            batch.append(row)
            if len(batch) == 20000:
                conn.execute(insert(pt.audit_event), batch)
                batch = []
            last_hash = str(row["hash"])
        if batch:
            conn.execute(insert(pt.audit_event), batch)
        conn.execute(update(pt.audit_head).values(seq=n, hash=last_hash))
    write_checkpoint(config, n, last_hash)
    return time.perf_counter() - started


def bare_hmac(key: bytes, n: int) -> float:
    """The named baseline: HMAC-SHA256 chained over the same serialized events, in memory."""
    messages = [event_message(seq, ts, u, a, s, p, None, d) for seq, (ts, u, a, s, p, d) in enumerate(events(n), 1)]
    started = time.perf_counter()
    previous = GENESIS
    digest = hmac.digest
    for message in messages:
        previous = digest(key, previous.encode() + message, "sha256").hex()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--store", help="Store URL (default: a fresh SQLite file in a temporary folder)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fusionhub-audit-bench-"))
    os.environ.setdefault("FUSIONHUB_DATA", str(folder))
    store = Store(args.store or f"sqlite:///{folder / 'bench.db'}")
    store.init()
    laid = lay_chain(store, args.events)
    result = verify(store)
    if not result.ok:
        raise SystemExit(f"verification failed on an untouched chain: {result.problem}")
    baseline = bare_hmac(bind(store).key, args.events)
    rate = args.events / result.seconds if result.seconds else float("inf")
    print(f"engine                 {store.dialect}")
    print(f"events                 {args.events:,}")
    print(f"laying the chain       {laid:.1f} s (setup, not measured against the target)")
    print(f"audit verify           {result.seconds:.2f} s  ({rate:,.0f} events/s)")
    print(
        f"target                 {TARGET_SECONDS:.0f} s for 1,000,000 events -> "
        f"{'MET' if result.seconds * 1_000_000 / args.events < TARGET_SECONDS else 'MISSED'}"
    )
    print(f"baseline: bare HMAC    {baseline:.2f} s over the same serialized events in memory")
    print(f"ratio verify/baseline  {result.seconds / baseline:.2f}x")
    store.dispose()


if __name__ == "__main__":
    main()
