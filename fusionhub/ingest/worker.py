"""The mapping worker: reads and maps a file in a second process while the first one writes.

The importing process starts it with the profile's spec, the connector options and the
batch id; the worker sends back prepared chunks (``pipeline.PreparedChunk``) through a
pipe, then an end message with what the connector learnt. A pipe holds little, so the
worker blocks once it is a chunk ahead: memory does not grow with the file.

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


class WorkerFailed(RuntimeError):
    """The mapping worker died or raised something it should not have."""


class MappingWorker:
    def __init__(
        self,
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
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_run,
            args=(sender, os.getpid(), str(path), spec, origin, options, source_name, defaults, batch_id, chunk_size),
            name="fusionhub-ingest-worker",
            daemon=True,
        )
        self._process.start()
        sender.close()  # ours is the reading end only: EOF when the worker is gone

    def chunks(self, info: ConnectorInfo) -> Iterator[Any]:
        while True:
            try:
                message = self._receiver.recv()
            except EOFError:
                self._process.join(timeout=5)
                raise WorkerFailed(f"the import worker stopped (exit code {self._process.exitcode})") from None
            kind = message[0]
            if kind == "chunk":
                yield message[1]
            elif kind == "end":
                info.details.update(message[1])
                info.warnings.extend(message[2])
                return
            elif kind == "unreadable":
                info.details.update(message[2])
                info.warnings.extend(message[3])
                raise UnreadableFile(message[1])
            else:
                raise WorkerFailed(f"the import worker failed:\n{message[1]}")

    def stop(self) -> None:
        self._receiver.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


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
        rows = iter(get_connector(mapping.format)(Path(path), options, info))
        for chunk in _chunks(rows, chunk_size):
            prepared = prepare_chunk(mapping, source_name, defaults, batch_id or 0, chunk)
            prepared.position = info.position
            sender.send(("chunk", prepared))
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
