"""Several server processes over one store and one search index (``fusionhub serve --processes``).

Real processes on loopback ports: one server of two processes (the import runs in
whichever takes the upload; its progress is polled through either) and a second,
separate server, over the same store and index.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from fusionhub.store import Store
from tests.api.conftest import World
from tests.weblogin import session

pytest.importorskip("fusionhub.search.service")
FUSIONHUB = Path(sys.executable).with_name("fusionhub")
PURPOSE = {"purpose": "case 24-001"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(store: Store, log: Path, processes: int) -> Iterator[str]:
    port = _free_port()
    command = [str(FUSIONHUB), "--store", store.url, "serve", "--port", str(port), "--processes", str(processes)]
    env = {**os.environ, "FUSIONHUB_DATA": str(store.data_dir)}
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_a_record_imported_while_two_processes_serve_is_found_by_every_process(
    store: Store, world: World, tmp_path: Path
) -> None:
    token = session(store, "ana", world["ana"])
    cookies = {"fh_session": token, "fh_csrf": "t"}
    query = {"q": 'name:"QUARTERMAIN WILLA"', **PURPOSE}
    with (
        server(store, tmp_path / "a.log", processes=2) as a,
        server(store, tmp_path / "b.log", processes=1) as b,
        httpx.Client(cookies=cookies, headers={"x-csrf-token": "t"}, timeout=60) as client,
    ):
        # Every process has its index open and answers before the record exists.
        for base in (a, a, a, b):
            answer = client.get(f"{base}/api/v1/search", params=query)
            assert answer.status_code == 200, answer.text
            assert answer.json()["total"] == 0
        csv = b'id,name,dob,when\n77,"QUARTERMAIN, WILLA",04/09/1981,2024-01-02 10:00\n'
        started = client.post(f"{a}/api/v1/imports?source=rms1&filename=late.csv", content=csv)
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        # Polled through either process of ``a``: the one importing or the other.
        deadline = time.monotonic() + 120
        while (job := client.get(f"{a}/api/v1/imports/jobs/{job_id}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["status"] == "done", job
        # Searches catch up with the store at most a second after its change.
        time.sleep(1.1)
        for base in (a, a, a, a, b):
            hits = client.get(f"{base}/api/v1/search", params=query).json()["hits"]
            assert [hit["caption"] for hit in hits] == ["QUARTERMAIN, WILLA"], base


def test_a_port_another_server_listens_on_is_refused(store: Store, world: World) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        command = [str(FUSIONHUB), "--store", store.url, "serve", "--port", str(port), "--processes", "2"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_a_server_process_that_dies_is_replaced_and_the_port_keeps_answering(
    store: Store, world: World, tmp_path: Path
) -> None:

    with server(store, tmp_path / "s.log", processes=2) as base:
        parent = next(
            p
            for p in psutil.process_iter(["cmdline"])
            if f"--port {base.rsplit(':', 1)[1]}" in " ".join(p.info["cmdline"] or [])
        )

        def serving() -> list[int]:
            found = []
            for child in parent.children():
                try:
                    if "spawn_main" in " ".join(child.cmdline()):
                        found.append(child.pid)
                except psutil.Error:  # ended (a zombie until the supervisor reaps it)
                    pass
            return sorted(found)

        children = serving()
        assert len(children) == 2
        psutil.Process(children[0]).kill()
        deadline = time.monotonic() + 120
        while True:
            now = serving()
            if len(now) == 2 and children[0] not in now:
                break
            assert time.monotonic() < deadline, (tmp_path / "s.log").read_text()
            time.sleep(0.2)
        # Every connection is answered (each lands on one process's socket by its address).
        deadline = time.monotonic() + 120
        answered = 0
        while answered < 20:
            try:
                answered += httpx.get(f"{base}/login", timeout=5).status_code == 200
            except httpx.HTTPError:
                assert time.monotonic() < deadline, (tmp_path / "s.log").read_text()
                time.sleep(0.2)
        assert "ended (exit" in (tmp_path / "s.log").read_text()


def test_a_server_process_that_cannot_listen_says_it_could_not_start() -> None:
    from fusionhub.cli.serve import STARTUP_FAILURE, serve_process

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        with pytest.raises(SystemExit) as stop:
            serve_process({"host": "127.0.0.1", "port": other.getsockname()[1]}, [0], 0)
    assert stop.value.code == STARTUP_FAILURE


def _serving_children(base: str) -> list[psutil.Process]:
    parent = next(
        p
        for p in psutil.process_iter(["cmdline"])
        if f"--port {base.rsplit(':', 1)[1]}" in " ".join(p.info["cmdline"] or [])
    )
    return [child for child in parent.children() if "spawn_main" in " ".join(child.cmdline())]


def test_keep_alive_connections_end_spread_evenly_over_the_processes(
    store: Store, world: World, tmp_path: Path
) -> None:
    from fusionhub.cli.serve import ConnectionShare

    clients = 24
    with server(store, tmp_path / "s.log", processes=2) as base:
        port = int(base.rsplit(":", 1)[1])
        children = _serving_children(base)
        assert len(children) == 2
        users = [httpx.Client(limits=httpx.Limits(max_connections=1), timeout=30) for _ in range(clients)]
        try:
            closes = 0
            for _ in range(40):
                for user in users:
                    answer = user.get(f"{base}/login")
                    assert answer.status_code == 200
                    closes += answer.headers.get("connection") == "close"
            held = [
                sum(1 for c in child.net_connections("tcp") if c.laddr.port == port and c.status == "ESTABLISHED")
                for child in children
            ]
        finally:
            for user in users:
                user.close()
    assert sum(held) == clients, held
    # Neither holds more than its share and the slack (a close may still be in flight).
    assert max(held) <= clients / 2 + ConnectionShare.SLACK + 1, (held, closes)


def test_a_process_over_its_share_closes_one_connection_at_a_time() -> None:
    import asyncio

    from fusionhub.cli.serve import ConnectionShare

    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    counts = [0, 10]
    share = ConnectionShare(app, counts, 0)

    def respond() -> bool:
        sent.clear()
        asyncio.run(share(_HTTP, _receive, send))
        return (b"connection", b"close") in sent[0]["headers"]  # type: ignore[operator]

    share.connections = range(14)  # 14 against 10: within the slack of 2 above the mean (12)
    assert not respond()
    assert counts == [14, 10]
    share.connections = range(15)  # 15 against 10: 2.5 above the mean
    assert respond()
    assert not respond()  # not again before PAUSE
    share.last_close -= ConnectionShare.PAUSE
    assert respond()
    share.connections = range(3)  # the other holds more: this one keeps its clients
    share.last_close = 0.0
    assert not respond()
    assert counts == [3, 10]


_HTTP = {"type": "http", "method": "GET", "path": "/"}


async def _receive() -> dict[str, object]:
    return {"type": "http.request", "body": b""}
