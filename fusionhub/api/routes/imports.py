"""``/imports``: upload a file for a source; it imports in the background; watch it; read its quarantine.

The body of ``POST /imports`` is the file itself, streamed to a temporary file under
the store's data folder chunk by chunk, so a 2 GB export never sits in memory.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request

from fusionhub.api.deps import Importer, ImportViewer, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.jobs import ImportJobs
from fusionhub.api.pagination import INT32_MAX, MAX_LIMIT, Page, SmallId, decode_int_cursor, encode_cursor
from fusionhub.api.schemas import BatchOut, ImportJobOut, QuarantinedRow
from fusionhub.ingest import sources as registry
from fusionhub.ingest.batches import Batch, get_batch, list_batches, quarantined_rows
from fusionhub.ingest.profile import shipped_profiles
from fusionhub.policy.actor import Actor

router = APIRouter(prefix="/imports", tags=["imports"])

#: Roles that see the imports of every agency, not only their own.
ALL_AGENCIES = ("administrator", "privacy-officer")
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file to import, as the raw request body.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def jobs(request: Request) -> ImportJobs:
    queue: ImportJobs = request.app.state.imports
    return queue


def _agency_scope(actor: Actor) -> int | None:
    return None if actor.has(*ALL_AGENCIES) else actor.agency_id


def _may_see(actor: Actor, batch: Batch | None) -> Batch:
    if batch is None or (_agency_scope(actor) is not None and batch.agency_id != actor.agency_id):
        raise ApiError(404, "not_found", "no such import that you may see")
    return batch


def upload_dir(request: Request) -> Path:
    store = request.app.state.store
    directory = Path(store.data_dir) / "uploads"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@router.post(
    "",
    response_model=ImportJobOut,
    status_code=202,
    responses=responses(*AUTH_ERRORS, 404, 413),
    openapi_extra=UPLOAD_BODY,
)
async def upload(
    request: Request,
    actor: Importer,
    store: StoreDep,
    source: Annotated[str, Query(min_length=1, max_length=128, description="Registered source name.")],
    filename: Annotated[str, Query(min_length=1, max_length=255, description="The file's own name.")],
    profile: Annotated[
        str | None, Query(max_length=64, description="A shipped mapping profile; the source's own by default.")
    ] = None,
) -> ImportJobOut:
    """Upload a file for ``source`` and start importing it; poll ``/imports/jobs/{id}``."""
    try:
        target = registry.get_source(store, source)
    except registry.RegistryError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    if not actor.has("administrator") and target.agency_id != actor.agency_id:
        raise ApiError(403, "access_denied", f"source {source} belongs to another agency; its own staff import it")
    if profile is not None and profile not in shipped_profiles() and profile != target.profile:
        raise ApiError(422, "invalid_value", f"unknown profile {profile!r}", {"shipped": shipped_profiles()})
    if profile is None and not target.profile:
        raise ApiError(422, "invalid_value", f"source {source} has no profile; name one")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name)[:100] or "upload"
    # One folder per upload keeps the file's own name, which the import records.
    folder = upload_dir(request) / uuid.uuid4().hex
    folder.mkdir()
    path = folder / safe
    try:
        with path.open("wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        folder.rmdir()
        raise
    job = jobs(request).submit(path, source, safe, actor.username, profile)
    return ImportJobOut(**job.to_json())


@router.get("/jobs/{job_id}", response_model=ImportJobOut, responses=responses(*AUTH_ERRORS, 404))
def job_status(job_id: str, request: Request, actor: ImportViewer) -> ImportJobOut:
    """Progress of an import started here (rows and bytes read); gone after a restart."""
    job = jobs(request).get(job_id)
    if job is None or (job.user != actor.username and not actor.has(*ALL_AGENCIES)):
        raise ApiError(404, "not_found", "no such import job that you may see")
    return ImportJobOut(**job.to_json())


@router.get("", response_model=Page[BatchOut], responses=responses(*AUTH_ERRORS, 400))
def batches(
    actor: ImportViewer,
    store: StoreDep,
    source: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page[BatchOut]:
    """Imports, newest first: your agency's, or every agency's for administrators and privacy officers."""
    rows = list_batches(store, _agency_scope(actor), decode_int_cursor(cursor, INT32_MAX), limit + 1, source)
    items = [BatchOut(**b.to_json()) for b in rows[:limit]]
    return Page[BatchOut](items=items, next_cursor=encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


@router.get("/{batch_id}", response_model=BatchOut, responses=responses(*AUTH_ERRORS, 404))
def batch(batch_id: SmallId, actor: ImportViewer, store: StoreDep) -> BatchOut:
    return BatchOut(**_may_see(actor, get_batch(store, batch_id)).to_json())


@router.get("/{batch_id}/quarantine", response_model=Page[QuarantinedRow], responses=responses(*AUTH_ERRORS, 400, 404))
def quarantine(
    batch_id: SmallId,
    actor: ImportViewer,
    store: StoreDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> Page[QuarantinedRow]:
    """The rows of an import that could not be stored, with the reason for each."""
    _may_see(actor, get_batch(store, batch_id))
    rows = quarantined_rows(store, batch_id, decode_int_cursor(cursor), limit + 1)
    items = [QuarantinedRow(id=r.id, row=r.row, reason=r.reason, raw=r.raw) for r in rows[:limit]]
    nxt = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return Page[QuarantinedRow](items=items, next_cursor=nxt)
