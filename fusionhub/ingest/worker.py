"""Mapping workers: read and map a file in other processes while the importer writes.

The importing process starts ``count`` workers with the profile's spec, the connector
options and the batch id. Each reads the whole file (parsing CSV is cheap next to
mapping) and maps every ``count``-th chunk, sending it back prepared
(``pipeline.PreparedChunk``) through its own pipe; the importer takes the chunks in
turn, so they are written in file order. A pipe holds little, so a worker blocks once
it is a chunk ahead: memory does not grow with the file.

It never outlives the importer: it asks the kernel to kill it when its parent dies
(Linux), and a write to the pipe of a dead importer fails and ends it anyway.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from fusionhub.ingest.connectors import ConnectorInfo, get_connector
from fusionhub.ingest.errors import UnreadableFile
from fusionhub.store.writer import SourceDefaults

#: Chunks a worker maps between two collections of reference cycles (see ``_run``).
COLLECT_EVERY = 8


class WorkerFailed(RuntimeError):
    """The mapping worker died or raised something it should not have."""


class MappingWorkers:
    def __init__(
        self,
        count: int,
        path: Path,
        spec: dict[str, Any],
        origin: str,
        options: dict[str, Any],
        source_name: str,
        defaults: SourceDefaults,
        batch_id: int | None,
        chunk_size: int,
    ) -> None:
        # spawn, not fork: the importer may hold database connections and other threads'
        # locks, neither of which a forked child may touch.
        context = multiprocessing.get_context("spawn")
        self._receivers: list[Connection] = []
        self._processes: list[Any] = []
        for index in range(count):
            receiver, sender = context.Pipe(duplex=False)
            job = (str(path), spec, origin, options, source_name, defaults, batch_id, chunk_size)
            process = context.Process(
                target=_run,
                args=(sender, os.getpid(), index, count, *job),
                name=f"fusionhub-ingest-worker-{index}",
                daemon=True,
            )
            process.start()
            sender.close()  # ours is the reading end only: EOF when the worker is gone
            self._receivers.append(receiver)
            self._processes.append(process)

    def chunks(self, info: ConnectorInfo) -> Iterator[Any]:
        turn = 0
        while True:
            index = turn % len(self._receivers)
            turn += 1
            try:
                message = self._receivers[index].recv()
            except EOFError:
                self._processes[index].join(timeout=5)
                code = self._processes[index].exitcode
                raise WorkerFailed(f"import worker {index} stopped (exit code {code})") from None
            kind = message[0]
            if kind == "chunk":
                yield message[1]
            elif kind == "end":
                # Every worker reaches the end; the one whose turn it is says so first.
                info.details.update(message[1])
                info.warnings.extend(message[2])
                return
            elif kind == "unreadable":
                info.details.update(message[2])
                info.warnings.extend(message[3])
                raise UnreadableFile(message[1])
            else:
                raise WorkerFailed(f"import worker {index} failed:\n{message[1]}")

    def stop(self) -> None:
        for receiver in self._receivers:
            receiver.close()
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the broken pipe still ends us
    if os.getppid() != parent:
        os._exit(1)  # the importer died before we got here


def _run(
    sender: Connection,
    parent: int,
    index: int,
    count: int,
    path: str,
    spec: dict[str, Any],
    origin: str,
    options: dict[str, Any],
    source_name: str,
    defaults: SourceDefaults,
    batch_id: int | None,
    chunk_size: int,
) -> None:
    _die_with_parent(parent)
    from fusionhub.ingest.pipeline import _chunks, prepare_chunk
    from fusionhub.ingest.profile import Profile

    info = ConnectorInfo()
    try:
        mapping = Profile(spec, origin)
        # Everything loaded so far lives as long as the process: keep the collector off it.
        gc.freeze()
        # Mapping allocates a great deal and makes almost no reference cycles, so the
        # automatic collector's full passes over the memos (about one per chunk) found
        # nothing and cost ~10% of a worker's CPU; here it runs every COLLECT_EVERY chunks.
        gc.disable()
        rows = iter(get_connector(mapping.format)(Path(path), options, info))
        mapped = 0
        for number, chunk in enumerate(_chunks(rows, chunk_size)):
            if number % count != index:
                continue  # another worker's chunk
            prepared = prepare_chunk(mapping, source_name, defaults, batch_id or 0, chunk)
            prepared.position = info.position
            sender.send(("chunk", prepared))
            mapped += 1
            if mapped % COLLECT_EVERY == 0:
                gc.collect()
        sender.send(("end", info.details, info.warnings))
    except (BrokenPipeError, ConnectionResetError):
        return  # the importer is gone
    except UnreadableFile as exc:
        _send(sender, ("unreadable", str(exc), info.details, info.warnings))
    except BaseException:
        _send(sender, ("error", traceback.format_exc()))
    finally:
        sender.close()


def _send(sender: Connection, message: tuple[Any, ...]) -> None:
    try:
        sender.send(message)
    except OSError:
        pass
