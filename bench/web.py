"""Web benchmark: concurrent users doing search and record views over HTTP on loopback,
and in the same run the same operations called in-process, with the ratio.

    .venv/bin/python bench/web.py --records 1000000 --keep /tmp/web1m --build-only   # build once
    .venv/bin/python bench/web.py --data /tmp/web1m --users 10 50 --seconds 60       # the issue's figure
    .venv/bin/python bench/web.py --records 20000 --users 10 50 --seconds 10         # small
    .venv/bin/python bench/web.py --records 20000 --postgres --seconds 10            # on PostgreSQL

The store is the search benchmark's (``bench/search_data.py``: generated person and
incident records, half each, across four agencies, one source with agency-only terms),
written in committed chunks as an import writes them and indexed by the search
follower. ``--data DIR`` reuses a store built with ``--keep DIR`` (the folder holds the
SQLite file or the PostgreSQL cluster, the search index and the audit key).

The server is ``fusionhub serve`` in its own process(es) (``--processes``); the load
generator is this process: ``users`` closed-loop users, each with its own session
(logged in through the policy: password + TOTP) and its own keep-alive connection,
each sending its next request as soon as the last one answered (no think time).
Half the requests are searches (``name:"FIRST LAST"`` with census names), half views
of a random record the analyst may read; every one states a purpose and writes its
audit event. Any answer but 200 with a complete JSON body counts as an error.

The client is a minimal HTTP/1.1 keep-alive client on asyncio streams rather than
httpx: it shares the machine's cores with the server, and httpx spent ~2-5 ms of CPU
per request (as much as the server's work); the CPU share of both is printed.

Closed loop means mean latency = users / throughput: at 50 users the p95 <= 100 ms
target needs roughly 50 / 0.07 s ~ 700 requests/s. The figures include the server
CPU per request, so what a machine can reach is plain to see. Target: p95 <= 100 ms
at 50 users, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
import pyotp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.search_data import (  # noqa: E402
    NameTables,
    incident_record,
    person_record,
    warm_page_cache,
    write_records,
)

PURPOSE = "case 24-001"
PASSWORD = "bench password 123"
AGENCIES = ("PDA", "PDB", "PDC", "SO")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- the store ---------------------------------------------------------------------
class DurablePg:
    """A PostgreSQL 15 cluster in ``root`` with production durability (fsync on, unlike
    the test cluster), kept between runs so a built store can be reused."""

    def __init__(self, root: Path) -> None:
        from tests.pgcluster import find_bindir

        self.bindir = find_bindir()
        self.root = root
        self.datadir = root / "data"
        self.as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root
        root.mkdir(parents=True, exist_ok=True)
        port_file = root / "port"
        if not port_file.exists():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port_file.write_text(str(s.getsockname()[1]))
        self.port = int(port_file.read_text())
        if self.as_postgres:
            import pwd

            entry = pwd.getpwnam("postgres")
            os.chown(root, entry.pw_uid, entry.pw_gid)
            os.chmod(root, 0o700)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=600)

    def start(self) -> str:
        if not (self.datadir / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")


def build_store(url: str, records: int, seed: int = 7) -> None:
    """The search benchmark's store: four agencies, four sources, generated records, indexed."""
    from fusionhub.ingest.sources import add_agency, add_source
    from fusionhub.search.follower import rebuild
    from fusionhub.store import Store

    store = Store(url)
    store.init()
    for code in AGENCIES:
        add_agency(store, code, f"{code} agency", "law-enforcement")
    sources = [
        add_source(store, "a-rms", "PDA", "rms"),
        add_source(store, "b-jail", "PDB", "jail"),
        add_source(store, "c-rms", "PDC", "rms", caveat="TLP:GREEN"),
        add_source(store, "so-rms", "SO", "rms", sharing_terms={"agency_only": True}),
    ]
    rng = random.Random(seed)
    names = NameTables.load()

    def generated(share: int) -> Any:
        for number in range(share, records, len(sources)):
            if (number // len(sources)) % 2:
                yield person_record(rng, names, number)
            else:
                yield incident_record(rng, number)

    started = time.perf_counter()
    for share, source in enumerate(sources):
        write_records(store, source, generated(share))
    print(f"store: {records:,} records written in {time.perf_counter() - started:.1f} s ({store.dialect})", flush=True)
    started = time.perf_counter()
    indexed = rebuild(store)
    print(f"index: {indexed:,} records indexed in {time.perf_counter() - started:.1f} s", flush=True)
    store.dispose()


@dataclass
class Workload:
    tokens: list[str]
    #: (first, last) id of each range of records the analyst may read.
    readable: list[tuple[int, int]]
    names: NameTables = field(default_factory=NameTables.load)

    def record_id(self, rng: random.Random) -> int:
        low, high = rng.choice(self.readable)
        return rng.randint(low, high)

    def query(self, rng: random.Random) -> str:
        return f'name:"{rng.choice(self.names.first)} {rng.choice(self.names.last)}"'


def prepare(url: str, count: int) -> Workload:
    """``count`` sessions of one analyst (logged in through the policy) and the record
    ranges the policy lets that analyst read."""
    from sqlalchemy import func, select

    from fusionhub.policy import auth
    from fusionhub.policy.decision import record_filter
    from fusionhub.policy.identity import actor_for, add_user, list_users
    from fusionhub.store import Store, utcnow
    from fusionhub.store import tables as t

    store = Store(url)
    if not any(u.username == "bench" for u in list_users(store)):
        add_user(store, "bench", "PDA", ["analyst"], password=PASSWORD)
        secret, _ = auth.enroll_totp(store, "bench")
        past = utcnow() - timedelta(days=1)
        auth.confirm_totp(store, "bench", pyotp.TOTP(secret).at(past), now=past)
        auth.login(store, "bench", PASSWORD, pyotp.TOTP(secret).now())
    actor = actor_for(store, "bench")
    tokens = [auth.create_session(store, actor) for _ in range(count)]
    r = t.record.c
    # Records of one source are written in one run of ids; the policy decides per source here.
    query = (
        select(func.min(r.id), func.max(r.id))
        .select_from(t.record.join(t.source, t.source.c.id == r.source_id))
        .where(record_filter(actor))
        .group_by(r.source_id)
    )
    with store.connect() as conn:
        readable = [(int(low), int(high)) for low, high in conn.execute(query)]
    store.dispose()
    if not readable:
        raise SystemExit("the bench analyst may read no record in this store")
    return Workload(tokens, readable)


# -- the load ----------------------------------------------------------------------
class Connection:
    """One keep-alive HTTP/1.1 connection (the server always sends Content-Length)."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nCookie: fh_session={cookie}\r\nAccept: application/json\r\n\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {target} HTTP/1.1\r\n{self.head}".encode())
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed by the server")
        status = int(status_line.split(b" ", 2)[1])
        length, close = 0, False
        while True:
            header = await self.reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def http_load(port: int, work: Workload, users: int, seconds: float) -> dict[str, Any]:
    latencies: dict[str, list[float]] = {"record": [], "search": []}
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    async def user(token: str, seed: int) -> None:
        rng = random.Random(seed)
        conn = Connection("127.0.0.1", port, token)
        while time.perf_counter() < deadline:
            if rng.random() < 0.5:
                kind, target = "search", "/api/v1/search?" + urlencode({"q": work.query(rng), "purpose": PURPOSE})
            else:
                kind = "record"
                target = f"/api/v1/records/{work.record_id(rng)}?" + urlencode({"purpose": PURPOSE})
            started = time.perf_counter()
            try:
                status, body = await conn.get(target)
                if status != 200:
                    errors.append(f"{kind} {status}")
                else:
                    json.loads(body)
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                errors.append(f"{kind} {type(exc).__name__}")
                conn.close()
            latencies[kind].append(time.perf_counter() - started)
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(user(work.tokens[i], i) for i in range(users)))
    return {"latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - started}


def in_process(url: str, work: Workload, seconds: float) -> dict[str, list[float]]:
    """The same operations as the API runs them, one after another, without HTTP."""
    from fusionhub.policy.identity import actor_for
    from fusionhub.policy.reader import RecordReader
    from fusionhub.search.service import search
    from fusionhub.store import Store

    store = Store(url)
    actor = actor_for(store, "bench")
    rng = random.Random(1)
    latencies: dict[str, list[float]] = {"record": [], "search": []}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        if rng.random() < 0.5:
            json.dumps(search(store, actor, work.query(rng), PURPOSE).to_json())
            latencies["search"].append(time.perf_counter() - started)
        else:
            json.dumps(RecordReader(store, actor, PURPOSE).get(work.record_id(rng)).to_json())
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


def ready(port: int) -> bool:
    """Whether the server answers (every process of it answers the same)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(b"GET /login HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return conn.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the store to build")
    parser.add_argument("--users", type=int, nargs="+", default=[10, 50], help="concurrent users per run")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each load run")
    parser.add_argument("--processes", type=int, default=1, help="server processes (fusionhub serve --processes)")
    parser.add_argument("--postgres", action="store_true", help="build the store in a local PostgreSQL 15 cluster")
    parser.add_argument("--keep", help="build into this folder and keep it (reuse it with --data)")
    parser.add_argument("--data", help="reuse the store built into this folder with --keep")
    parser.add_argument("--build-only", action="store_true", help="build the store and stop")
    args = parser.parse_args()

    folder = Path(args.data or args.keep or tempfile.mkdtemp(prefix="fusionhub-bench-web-")).resolve()
    reuse = args.data is not None
    postgres = args.postgres or (reuse and (folder / "pg").exists())
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["FUSIONHUB_DATA"] = str(folder)
    cluster = DurablePg(folder / "pg") if postgres else None
    url = cluster.start() if cluster else f"sqlite:///{folder / 'bench.db'}"
    server: subprocess.Popen[bytes] | None = None
    ok = False
    try:
        if not reuse:
            build_store(url, args.records)
        else:
            from fusionhub.store import Store

            # A store kept from an earlier run gets the migrations added since.
            kept = Store(url)
            kept.init()
            kept.dispose()
        if args.build_only:
            ok = True
            return
        work = prepare(url, max(args.users))
        if not postgres:
            # As bench/search.py: the figures are the server's, not this VM's disk (its
            # kernel pages out file pages left idle for about a minute).
            warmed = warm_page_cache([folder / "bench.db", folder / "search-index"])
            print(f"page cache: read {warmed / 1e6:,.0f} MB of store and index files before timing")
        top = sum(high - low + 1 for low, high in work.readable)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # The server's log goes to a file: an undrained pipe fills up and stalls the server.
        server_log = folder / "server.log"
        command = [str(REPO / ".venv/bin/fusionhub"), "--store", url, "serve", "--port", str(port)]
        if args.processes > 1:
            command += ["--processes", str(args.processes)]
        server = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=server_log.open("w"), env=os.environ.copy()
        )
        print(f"store: {url.split('@')[-1]} ({'PostgreSQL' if postgres else 'SQLite'}); server log: {server_log}")
        deadline = time.monotonic() + 180
        while not ready(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {server_log}")
            time.sleep(0.2)
        # Warm up every worker (model, nickname table, index readers) before measuring.
        asyncio.run(http_load(port, work, min(max(args.users), 8), 3.0))
        processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        me = psutil.Process()
        ok = True
        lat: dict[str, list[float]] = {}
        for users in args.users:
            server_cpu, own_cpu = cpu_seconds(processes), cpu_seconds([me])
            load_before = load_average()
            result = asyncio.run(http_load(port, work, users, args.seconds))
            lat, errors, elapsed = result["latencies"], result["errors"], result["elapsed"]
            server_cpu, own_cpu = cpu_seconds(processes) - server_cpu, cpu_seconds([me]) - own_cpu
            every = lat["record"] + lat["search"]
            print(
                f"\nHTTP, {users} users, {elapsed:.0f} s, {top:,} readable records, {args.processes} server process(es), "
                f"load average {load_before} -> {load_average()} on {os.cpu_count()} cores:"
            )
            print(line("all requests", every, elapsed))
            for kind in ("record", "search"):
                if lat[kind]:
                    print(line(f"  {kind} view" if kind == "record" else "  search", lat[kind], elapsed))
            print(f"errors: {len(errors)}" + (f" (first: {errors[:3]})" if errors else ""))
            count = max(len(every), 1)
            print(
                f"CPU: server {100 * server_cpu / elapsed:.0f}% of a core ({1000 * server_cpu / count:.2f} ms/request), "
                f"load generator {100 * own_cpu / elapsed:.0f}% ({1000 * own_cpu / count:.2f} ms/request)"
            )
            if users == 50:
                met = percentile(every, 95) <= 0.100 and not errors
                ok = ok and met
                print(f"target p95 <= 100 ms at 50 users, zero errors: {'met' if met else 'NOT met'}")
        baseline = in_process(url, work, min(args.seconds, 20))
        print(f"\nIn-process (same operations, one thread, no HTTP; load average {load_average()}):")
        for kind in ("record", "search"):
            if baseline[kind]:
                print(line(f"  {kind} view" if kind == "record" else "  search", baseline[kind]))
                if lat.get(kind):
                    ratio = percentile(lat[kind], 50) / percentile(baseline[kind], 50)
                    print(f"  ratio HTTP/in-process p50 ({kind}, {args.users[-1]} users): {ratio:.1f}x")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if cluster is not None:
            cluster.stop()
        if not args.keep and not args.data:
            shutil.rmtree(folder, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
