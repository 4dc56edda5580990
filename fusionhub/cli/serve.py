"""``fusionhub serve``: the workspace and the REST API over the chosen store."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Sized
from typing import Any

import typer

from fusionhub.cli.context import STATE


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int = typer.Option(1, help="Import worker threads."),
    processes: int = typer.Option(
        1, min=1, help="Server processes sharing the port (one per core: Python runs one thread at a time)."
    ),
    access_log: bool = typer.Option(
        False,
        "--access-log/--no-access-log",
        help="Log every HTTP request to stderr (every look at records is in the audit trail either way).",
    ),
) -> None:
    """Serve the analyst workspace (/) and the REST API (/api/v1) until interrupted."""
    import uvicorn

    from fusionhub.api import create_app

    store = STATE.store()
    typer.echo(f"FusionHub on http://{host}:{port}/  (API: /api/v1, OpenAPI: /api/v1/openapi.json)")
    # uvloop and httptools when installed (they are dependencies): uvicorn's pure-Python
    # HTTP parser and event loop cost about as much CPU per request as a record view.
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
        "proxy_headers": False,
        "server_header": False,
        "loop": "auto",
        "http": "auto",
    }
    if processes == 1:
        uvicorn.run(create_app(store, import_workers=workers), **options)  # type: ignore[arg-type]
        return
    # Each process builds its own app (started afresh) over the same store and search
    # index: the index is opened by each, written by whichever indexes a change first
    # (tantivy's writer lock), and re-read by the others before a search (see
    # fusionhub.search.service); import progress is shared through files.
    os.environ["FUSIONHUB_STORE"] = store.url
    os.environ["FUSIONHUB_DATA"] = str(store.data_dir)
    os.environ["FUSIONHUB_IMPORT_WORKERS"] = str(workers)
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not Linux or a BSD
        uvicorn.run(
            "fusionhub.api.app:app_from_env",
            factory=True,
            workers=processes,
            timeout_worker_healthcheck=60,
            **options,  # type: ignore[arg-type]
        )
        return
    raise typer.Exit(ServerProcesses(options, processes).run())


class ServerProcesses:
    """N server processes, each with its own listening socket on the port (``SO_REUSEPORT``).

    With one socket shared by every process (uvicorn's ``workers``), whichever process
    was awake accepted the waiting connections together: 50 keep-alive clients split
    34/16 or 38/12, and one process queued requests while the other idled. With a
    socket each, the kernel spreads new connections over the processes by their
    addresses. That spread is by chance (50 connections fall 32/18 as often as 26/24), so
    the processes also keep their connection counts in a shared table and a process
    holding more than its share asks a client now and then to reconnect
    (``ConnectionShare``). A process that ends is started again (after a pause if it lived less than
    ``QUICK_END_SECONDS``); one that could not start (its socket, the app, the store:
    exit status ``STARTUP_FAILURE``) stops the server rather than loop.
    """

    QUICK_END_SECONDS = 10.0

    def __init__(self, options: dict[str, Any], count: int) -> None:
        self.options = options
        self.count = count
        self.context = multiprocessing.get_context("spawn")
        self.stopping = False
        # One slot per process: its open connections, written by it, read by all.
        self.connections = self.context.RawArray("i", count)

    def run(self) -> int:
        host, port = self.options["host"], self.options["port"]
        try:
            # Refuse a port another server listens on (a socket of ours would otherwise
            # join that server's group if it too used SO_REUSEPORT).
            with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, port))
        except OSError as exc:
            typer.echo(f"cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
            return 1
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        started = [self._start(n) for n in range(self.count)]
        status = 0
        while not self.stopping:
            multiprocessing.connection.wait([p.sentinel for p, _ in started], timeout=0.5)
            for n, (process, since) in enumerate(started):
                if self.stopping or process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    typer.echo(f"server process {process.pid} could not start; stopping", err=True)
                    self.stopping, status = True, 1
                    break
                typer.echo(f"server process {process.pid} ended (exit {process.exitcode}); starting another", err=True)
                if time.monotonic() - since < self.QUICK_END_SECONDS:
                    time.sleep(1.0)  # not a hot loop if it keeps failing
                started[n] = self._start(n)
        for process, _ in started:
            if process.is_alive():
                process.terminate()  # uvicorn finishes the requests in flight, then exits
        for process, _ in started:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        return status

    def _start(self, slot: int) -> tuple[multiprocessing.process.BaseProcess, float]:
        self.connections[slot] = 0
        process = self.context.Process(target=serve_process, args=(self.options, self.connections, slot), daemon=False)
        process.start()
        return process, time.monotonic()

    def _stop(self, _signum: int, _frame: Any) -> None:
        self.stopping = True


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


#: Exit status of a server process that could not start (as uvicorn's own).
STARTUP_FAILURE = 3


class ConnectionShare:
    """ASGI wrapper: a process holding more than its share of the connections closes one.

    Each response writes the process's open connection count into its slot of the shared
    table. When the process holds more than ``SLACK`` connections above the mean, the
    response carries ``Connection: close`` (at most one every ``PAUSE`` seconds, so the
    count can fall before the next): the client sends its next request on a new
    connection, which the kernel places again, on any process. Keep-alive clients stay
    spread as they are without it, however unevenly they first fell.
    """

    SLACK = 2
    PAUSE = 0.05

    def __init__(self, app: Any, counts: Any, slot: int) -> None:
        self.app, self.counts, self.slot = app, counts, slot
        self.connections: Sized = ()  # the server's open connections, once it exists
        self.last_close = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_balanced(message: Any) -> None:
            if message["type"] == "http.response.start" and self.over_share():
                message = {**message, "headers": [*message.get("headers", ()), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_balanced)

    def over_share(self) -> bool:
        own = len(self.connections)
        self.counts[self.slot] = own
        processes = len(self.counts)
        if own * processes - sum(self.counts) <= self.SLACK * processes:
            return False
        now = time.monotonic()
        if now - self.last_close < self.PAUSE:
            return False
        self.last_close = now
        return True


def serve_process(options: dict[str, Any], counts: Any, slot: int) -> None:
    """One server process of ``ServerProcesses``: its own socket in the port's group."""
    import uvicorn

    from fusionhub.api.app import app_from_env

    sock = socket.socket(_family(options["host"]), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((options["host"], options["port"]))
        sock.listen(2048)
    except OSError as exc:
        print(f"cannot listen on {options['host']}:{options['port']}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(STARTUP_FAILURE)
    try:
        app = app_from_env()
    except Exception:
        traceback.print_exc()
        sys.exit(STARTUP_FAILURE)
    shared = ConnectionShare(app, counts, slot)
    server = uvicorn.Server(uvicorn.Config(shared, **options))
    shared.connections = server.server_state.connections
    try:
        server.run(sockets=[sock])
    finally:
        if not server.started:  # the app or the store failed before serving
            sys.exit(STARTUP_FAILURE)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
