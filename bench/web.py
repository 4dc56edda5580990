"""Web benchmark: concurrent users doing search and record views over HTTP on loopback,
and in the same run the same operations called in-process, with the ratio.

    .venv/bin/python bench/web.py --records 1000000 --users 10 50 --seconds 60
    .venv/bin/python bench/web.py --records 20000 --users 10 50 --seconds 10   # small

Builds (or reuses, with --store) a store of synthetic person/incident records through
the real import pipeline, starts `fusionhub serve` in its own process, logs the users
in through the policy (password + TOTP), and drives the API with httpx. Search runs
only when the search domain is part of the build. Target: p95 <= 100 ms at 50 users,
zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp

REPO = Path(__file__).resolve().parents[1]
PROFILE = """
name: bench_people
format: csv
record:
  id: "{id}"
  occurred: incident.occurredAt
entities:
  person:
    schema: Person
    properties:
      name: {column: name, parse: last_first}
      birthDate: {column: dob, format: "%Y-%m-%d"}
  incident:
    schema: Incident
    properties:
      caseNumber: {column: id, required: true}
      occurredAt: {column: when, format: "%Y-%m-%d %H:%M"}
      offenseDescription: offense
"""
LAST = ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ", "MARTINEZ"]
FIRST = ["JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID", "ELIZABETH"]
OFFENSES = ["BURGLARY", "THEFT", "ASSAULT", "VANDALISM", "ROBBERY", "FRAUD"]
PURPOSE = "case 24-001"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def build_store(url: str, data_dir: Path, records: int) -> None:
    from fusionhub.ingest.pipeline import ingest_file
    from fusionhub.ingest.sources import add_agency, add_source
    from fusionhub.store import Store

    store = Store(url)
    store.init()
    profile = data_dir / "bench_people.yaml"
    profile.write_text(PROFILE)
    add_agency(store, "PD1", "Bench PD")
    add_source(store, "rms1", "PD1", "rms", profile=str(profile), reliability="B", validity="2")
    rng = random.Random(7)
    csv = data_dir / "people.csv"
    with csv.open("w") as out:
        out.write("id,name,dob,when,offense\n")
        for i in range(records):
            out.write(
                f'{i},"{rng.choice(LAST)}, {rng.choice(FIRST)}",19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)},'
                f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 1{rng.randint(0, 9)}:00,{rng.choice(OFFENSES)}\n"
            )
    started = time.perf_counter()
    report = ingest_file(store, csv, "rms1", user="bench")
    print(f"store built: {report.stored} records in {time.perf_counter() - started:.1f} s")
    store.dispose()


def sessions(url: str, count: int) -> tuple[list[str], int]:
    """``count`` sessions of one analyst (logged in through the policy), and the highest record id."""
    from sqlalchemy import func, select

    from fusionhub.policy import auth
    from fusionhub.policy.identity import add_user, list_users
    from fusionhub.store import Store, utcnow
    from fusionhub.store import tables as t

    store = Store(url)
    if not any(u.username == "bench" for u in list_users(store)):
        add_user(store, "bench", "PD1", ["analyst"], password="bench password 123")
        secret, _ = auth.enroll_totp(store, "bench")
        past = utcnow() - timedelta(days=1)
        auth.confirm_totp(store, "bench", pyotp.TOTP(secret).at(past), now=past)
        actor = auth.login(store, "bench", "bench password 123", pyotp.TOTP(secret).now())
    else:
        from fusionhub.policy.identity import actor_for

        actor = actor_for(store, "bench")
    tokens = [auth.create_session(store, actor) for _ in range(count)]
    with store.connect() as conn:
        top = int(conn.execute(select(func.max(t.record.c.id))).scalar_one())
    store.dispose()
    return tokens, top


def search_available() -> bool:
    try:
        import fusionhub.search.service  # noqa: F401
    except ImportError:
        return False
    return True


def queries(rng: random.Random) -> str:
    return f'name:"{rng.choice(FIRST)} {rng.choice(LAST)}"'


async def http_load(base: str, tokens: list[str], top: int, seconds: float, search: bool) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"record": [], "search": []}
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    async def user(token: str, seed: int) -> None:
        rng = random.Random(seed)
        cookies = {"fh_session": token}
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
            while time.perf_counter() < deadline:
                if search and rng.random() < 0.5:
                    kind, url, params = "search", "/api/v1/search", {"q": queries(rng), "purpose": PURPOSE}
                else:
                    kind, url, params = "record", f"/api/v1/records/{rng.randint(1, top)}", {"purpose": PURPOSE}
                started = time.perf_counter()
                try:
                    response = await client.get(url, params=params)
                    if response.status_code != 200:
                        errors.append(f"{kind} {response.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{kind} {type(exc).__name__}")
                latencies[kind].append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(user(token, i) for i, token in enumerate(tokens)))
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


def in_process(url: str, top: int, seconds: float, search: bool) -> dict[str, list[float]]:
    from fusionhub.policy.identity import actor_for
    from fusionhub.policy.reader import RecordReader
    from fusionhub.store import Store

    store = Store(url)
    actor = actor_for(store, "bench")
    rng = random.Random(1)
    latencies: dict[str, list[float]] = {"record": [], "search": []}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if search and rng.random() < 0.5:
            from fusionhub.search.service import search as run_search

            started = time.perf_counter()
            run_search(store, actor, queries(rng), PURPOSE)
            latencies["search"].append(time.perf_counter() - started)
        else:
            started = time.perf_counter()
            RecordReader(store, actor, PURPOSE).get(rng.randint(1, top)).to_json()
            latencies["record"].append(time.perf_counter() - started)
    store.dispose()
    return latencies


def line(label: str, values: list[float], elapsed: float | None = None) -> str:
    ms = [v * 1000 for v in values]
    rate = f"{len(values) / elapsed:8.1f} req/s" if elapsed else " " * 14
    return (
        f"{label:<28} {rate}  n={len(values):<7} p50={percentile(ms, 50):7.2f} ms  "
        f"p95={percentile(ms, 95):7.2f} ms  p99={percentile(ms, 99):7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the store to build")
    parser.add_argument("--users", type=int, nargs="+", default=[10, 50], help="concurrent users per run")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each load run")
    parser.add_argument("--store", help="reuse this store URL (with FUSIONHUB_DATA set) instead of building one")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="fusionhub-bench-web-"))
    os.environ.setdefault("FUSIONHUB_DATA", str(workdir))
    url = args.store or f"sqlite:///{workdir / 'bench.db'}"
    if not args.store:
        build_store(url, workdir, args.records)
    search = search_available()
    print(f"search in this build: {'yes' if search else 'no (record views only)'}")
    tokens, top = sessions(url, max(args.users))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # The server's log goes to a file: an undrained pipe fills up and stalls the server.
    server_log = Path(tempfile.mkstemp(prefix="fusionhub-bench-web-", suffix=".log")[1])
    server = subprocess.Popen(
        [str(REPO / ".venv/bin/fusionhub"), "--store", url, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=server_log.open("w"),
        env=os.environ.copy(),
    )
    print(f"server log: {server_log}")
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        ok = True
        for users in args.users:
            result = asyncio.run(http_load(base, tokens[:users], top, args.seconds, search))
            lat, errors, elapsed = result["latencies"], result["errors"], result["elapsed"]
            every = lat["record"] + lat["search"]
            print(f"\nHTTP, {users} users, {elapsed:.0f} s, {top} records:")
            print(line("all requests", every, elapsed))
            for kind in ("record", "search"):
                if lat[kind]:
                    print(line(f"  {kind} view" if kind == "record" else "  search", lat[kind], elapsed))
            print(f"errors: {len(errors)}" + (f" (first: {errors[:3]})" if errors else ""))
            if users == 50:
                ok = percentile(every, 95) <= 0.100 and not errors
                print(f"target p95 <= 100 ms at 50 users, zero errors: {'met' if ok else 'NOT met'}")
        baseline = in_process(url, top, min(args.seconds, 20), search)
        print("\nIn-process (same operations, one thread, no HTTP):")
        for kind in ("record", "search"):
            if baseline[kind]:
                print(line(f"  {kind} view" if kind == "record" else "  search", baseline[kind]))
                http_p50 = percentile(lat[kind], 50)
                print(
                    f"  ratio HTTP/in-process p50 ({kind}, {args.users[-1]} users): {http_p50 / percentile(baseline[kind], 50):.1f}x"
                )
    finally:
        server.terminate()
        server.wait(timeout=30)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
