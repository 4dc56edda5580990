"""Background imports: an uploaded file runs through the ingest pipeline in a worker
thread while the page polls its progress.

The pipeline's own progress callback (rows read, bytes read, bytes total) feeds the
job; the durable record of the import is the ``ingest_batch`` row the pipeline writes,
so a restart loses only the in-memory progress of imports that were running.

When the server runs as several processes (``fusionhub serve --processes N``), the
job's next poll may reach another process than the one importing. Each job is then
also published to a small JSON file in a folder the processes share (``board``),
written whole (renamed into place) at most twice a second while it runs; a process
that does not run a job answers from that file.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusionhub.ingest.pipeline import ingest_file
from fusionhub.store import Store


@dataclass
class ImportJob:
    id: str
    source: str
    file_name: str
    user: str
    profile: str | None
    status: str = "queued"  # queued, running, done, partial, failed
    rows_read: int = 0
    bytes_read: int = 0
    bytes_total: int = 0
    batch_id: int | None = None
    report: dict[str, Any] | None = None
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _published: float = field(default=float("-inf"), repr=False)

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            percent = round(100 * self.bytes_read / self.bytes_total, 1) if self.bytes_total else 0.0
            if self.status in ("done", "partial"):
                percent = 100.0
            return {
                "id": self.id,
                "source": self.source,
                "file_name": self.file_name,
                "user": self.user,
                "profile": self.profile,
                "status": self.status,
                "rows_read": self.rows_read,
                "bytes_read": self.bytes_read,
                "bytes_total": self.bytes_total,
                "percent": percent,
                "batch_id": self.batch_id,
                "report": self.report,
                "error": self.error,
            }


JOB_ID = re.compile(r"[0-9a-f]{32}")
#: Seconds between two publications of a running job's progress.
PUBLISH_EVERY = 0.5


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ImportJobs:
    """A small queue of import jobs; one worker by default because imports into one
    store serialise on its write lock anyway."""

    def __init__(self, store: Store, workers: int = 1, keep: int = 200, board: Path | None = None) -> None:
        self.store = store
        self.keep = keep
        self.board = board
        if board is not None:
            board.mkdir(parents=True, exist_ok=True)
        self._jobs: dict[str, ImportJob] = {}
        self._order: list[str] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fusionhub-import")

    def submit(self, path: Path, source: str, file_name: str, user: str, profile: str | None) -> ImportJob:
        job = ImportJob(uuid.uuid4().hex, source, file_name, user, profile, bytes_total=path.stat().st_size)
        with self._lock:
            self._jobs[job.id] = job
            self._order.append(job.id)
            while len(self._order) > self.keep:
                self._jobs.pop(self._order.pop(0), None)
        self._publish(job, final=True)
        self._prune()
        self._pool.submit(self._run, job, path)
        return job

    def get(self, job_id: str) -> ImportJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None or self.board is None or not JOB_ID.fullmatch(job_id):
            return job
        return self._published_job(job_id)

    # -- the board shared by the server's processes -----------------------------------
    def _publish(self, job: ImportJob, final: bool = False) -> None:
        if self.board is None:
            return
        now = time.monotonic()
        if not final and now - job._published < PUBLISH_EVERY:
            return
        job._published = now
        data = {**job.to_json(), "pid": os.getpid()}
        staged = self.board / f"{job.id}.{os.getpid()}.{threading.get_ident()}.tmp"
        staged.write_text(json.dumps(data))
        os.replace(staged, self.board / f"{job.id}.json")

    def _published_job(self, job_id: str) -> ImportJob | None:
        assert self.board is not None
        try:
            data = json.loads((self.board / f"{job_id}.json").read_text())
        except (OSError, ValueError):
            return None
        fields = ("id", "source", "file_name", "user", "profile", "status", "rows_read", "bytes_read")
        job = ImportJob(**{name: data[name] for name in fields})
        job.bytes_total, job.batch_id = data["bytes_total"], data["batch_id"]
        job.report, job.error = data["report"], data["error"]
        if job.status in ("queued", "running") and not _alive(int(data["pid"])):
            job.status, job.error = "failed", "the server process running this import ended"
        return job

    def _prune(self) -> None:
        if self.board is None:
            return
        files = sorted(self.board.glob("*.json"), key=lambda f: f.stat().st_mtime)
        for old in files[: max(0, len(files) - self.keep)]:
            old.unlink(missing_ok=True)

    def recent(self) -> list[ImportJob]:
        with self._lock:
            return [self._jobs[i] for i in reversed(self._order)]

    def _run(self, job: ImportJob, path: Path) -> None:
        def progress(rows: int, done: int, total: int) -> None:
            with job._lock:
                job.rows_read, job.bytes_read, job.bytes_total = rows, done, total
            self._publish(job)

        with job._lock:
            job.status = "running"
        self._publish(job, final=True)
        try:
            report = ingest_file(self.store, path, job.source, job.profile, user=job.user, progress=progress)
            with job._lock:
                job.report = report.to_json()
                job.batch_id = report.batch_id
                job.rows_read = report.read
                job.bytes_read = job.bytes_total
                job.status = report.status
        except Exception as exc:  # the job reports why; the page shows it
            with job._lock:
                job.status = "failed"
                job.error = str(exc) or type(exc).__name__
        finally:
            self._publish(job, final=True)
            path.unlink(missing_ok=True)
            if path.parent.name != "uploads":
                path.parent.rmdir()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
