"""The workspace pages over what exists: dashboard, sources, imports, records, administration."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from fusionhub.api.deps import get_store
from fusionhub.api.errors import ApiError
from fusionhub.api.pagination import INT32_MAX, INT64_MAX, BigId, SmallId
from fusionhub.ingest import sources as registry
from fusionhub.ingest.batches import freshness, get_batch, list_batches, quarantined_rows
from fusionhub.ingest.profile import shipped_profiles
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.actor import ROLES, Actor
from fusionhub.policy.identity import add_user, list_users
from fusionhub.policy.reader import PurposeRequired, RecordReader
from fusionhub.resolve.profile import entities_in_records
from fusionhub.web.caveats import combined
from fusionhub.web.pages import PageActor, client_ip, purpose_form, remember_purpose, render, require, stated_purpose

router = APIRouter(include_in_schema=False)
IMPORT_ROLES = ("analyst", "supervisor", "administrator", "privacy-officer")
UPLOAD_ROLES = ("analyst", "supervisor", "administrator")
PAGE = 50


def _agency_scope(actor: Actor) -> int | None:
    return None if actor.has("administrator", "privacy-officer") else actor.agency_id


def _sources_with_freshness(request: Request) -> list[dict[str, Any]]:
    store = get_store(request)
    fresh = freshness(store)
    rows = []
    for s in registry.list_sources(store):
        last, status = fresh.get(s.name, (None, None))
        rows.append(
            {
                **s.to_json(),
                "caveat": " ".join([f"TLP:{s.default_tlp}", *s.default_handling]),
                "last_import_at": last,
                "last_import_status": status,
            }
        )
    return rows


@router.get("/")
def dashboard(request: Request, actor: PageActor) -> Response:
    store = get_store(request)
    imports = list_batches(store, _agency_scope(actor), limit=10) if actor.has(*IMPORT_ROLES) else []
    review = None
    if actor.has("analyst", "supervisor", "privacy-officer"):
        from fusionhub.policy.retention import review_queue

        review = review_queue(store, actor, within_days=90)
    return render(
        request,
        "dashboard.html",
        actor,
        "Dashboard",
        sources=_sources_with_freshness(request),
        imports=imports,
        review=review,
    )


@router.get("/sources")
def sources_page(request: Request, actor: PageActor) -> Response:
    return render(request, "sources.html", actor, "Data sources", sources=_sources_with_freshness(request))


@router.get("/imports")
def imports_page(
    request: Request, actor: PageActor, before: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None
) -> Response:
    require(actor, *IMPORT_ROLES)
    store = get_store(request)
    batches = list_batches(store, _agency_scope(actor), before, 51)
    own = [s for s in registry.list_sources(store) if actor.has("administrator") or s.agency_id == actor.agency_id]
    return render(
        request,
        "imports.html",
        actor,
        "Imports",
        batches=batches[:50],
        older=batches[49].id if len(batches) > 50 else None,
        sources=own,
        profiles=shipped_profiles(),
        may_upload=actor.has(*UPLOAD_ROLES),
    )


@router.get("/imports/jobs/{job_id}")
def import_job_fragment(request: Request, job_id: str, actor: PageActor) -> Response:
    """The progress of one import, polled by htmx until it has finished."""
    require(actor, *IMPORT_ROLES)
    job = request.app.state.imports.get(job_id)
    if job is None or (job.user != actor.username and not actor.has("administrator", "privacy-officer")):
        raise ApiError(404, "not_found", "no such import job that you may see")
    return render(request, "_job.html", actor, "Import", job=job.to_json())


@router.get("/imports/{batch_id}")
def import_page(
    request: Request,
    batch_id: SmallId,
    actor: PageActor,
    after: Annotated[int | None, Query(ge=0, le=INT64_MAX)] = None,
) -> Response:
    require(actor, *IMPORT_ROLES)
    store = get_store(request)
    batch = get_batch(store, batch_id)
    if batch is None or (_agency_scope(actor) is not None and batch.agency_id != actor.agency_id):
        raise ApiError(404, "not_found", "no such import that you may see")
    rows = quarantined_rows(store, batch_id, after, 101)
    source = registry.get_source(store, batch.source)
    return render(
        request,
        "import.html",
        actor,
        f"Import {batch.id}",
        caveat=" ".join([f"TLP:{source.default_tlp}", *source.default_handling]),
        batch=batch,
        rows=rows[:100],
        more=rows[99].id if len(rows) > 100 else None,
    )


@router.get("/records")
def records_page(
    request: Request,
    actor: PageActor,
    start: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    record_class: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    views = RecordReader(get_store(request), actor, stated_purpose(request)).list(
        record_class=record_class or None, limit=PAGE + 1, offset=start, ip=client_ip(request)
    )
    shown = views[:PAGE]
    return render(
        request,
        "records.html",
        actor,
        "Records",
        caveat=combined((v.tlp, v.handling) for v in shown),
        records=shown,
        start=start,
        later=start + PAGE if len(views) > PAGE else None,
        earlier=max(0, start - PAGE) if start else None,
        record_class=record_class or "",
        record_classes=list(load_vocabulary().record_classes),
    )


def _values(values: list[Any]) -> list[dict[str, str]]:
    """A property's values: the normalised value and, where it differs, the text the source sent."""
    shown = []
    for value in values:
        if isinstance(value, list | tuple) and len(value) == 2:
            shown.append({"value": str(value[0]), "sent": str(value[1])})
        else:
            shown.append({"value": str(value), "sent": ""})
    return shown


def _points(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    points = []
    for entity in entities:
        for value in entity.get("properties", {}).get("geo", []):
            text = value[0] if isinstance(value, list | tuple) else value
            try:
                lat, lon = (float(x) for x in str(text).split(","))
            except ValueError:
                continue
            points.append({"lat": lat, "lon": lon, "label": entity.get("schema", "")})
    return points


@router.get("/records/{record_id}")
def record_page(
    request: Request, record_id: BigId, actor: PageActor, purpose: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    stated = purpose or stated_purpose(request)
    try:
        view = RecordReader(get_store(request), actor, stated).get(record_id, ip=client_ip(request))
    except PurposeRequired as exc:
        return purpose_form(request, actor, str(exc), purpose)
    body = view.to_json()
    vocab = load_vocabulary()
    # Entities of this record that resolution joined to a canonical entity: linked to its profile.
    resolved = entities_in_records(get_store(request), actor, [view.id])
    entities = [
        {**e, "shown": {prop: _values(vals) for prop, vals in e.get("properties", {}).items()}}
        for e in body["entities"]
    ]
    response = render(
        request,
        "record.html",
        actor,
        f"Record {view.id}",
        caveat=view.caveat,
        purpose=stated,
        record=body,
        entities=entities,
        # Relationship values name another entity of the record by id: shown as links to it.
        refs={e["id"]: {"label": f"{e['schema']} ({e['key']})", "anchor": f"entity-{e['key']}"} for e in entities},
        points=_points(body["entities"]),
        resolved=resolved,
        reliability=vocab.reliability.get(view.reliability, ""),
        validity=vocab.validity.get(view.validity, ""),
    )
    if purpose:
        remember_purpose(request, response, purpose)
    return response


# -- administration ---------------------------------------------------------------


@router.get("/admin")
def admin_page(request: Request, actor: PageActor, message: str | None = None) -> Response:
    require(actor, "administrator")
    store = get_store(request)
    vocab = load_vocabulary()
    return render(
        request,
        "admin.html",
        actor,
        "Administration",
        users=list_users(store),
        agencies=registry.list_agencies(store),
        sources=_sources_with_freshness(request),
        roles=ROLES,
        agency_kinds=registry.AGENCY_KINDS,
        source_kinds=list(vocab.source_kinds),
        profiles=shipped_profiles(),
        record_classes=list(vocab.record_classes),
        message=message,
    )


def _back(message: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/admin?message={quote(message)}", status_code=303)


@router.post("/admin/agencies")
def admin_add_agency(
    request: Request,
    actor: PageActor,
    code: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=255)] = "",
    kind: Annotated[str, Form(max_length=32)] = "law-enforcement",
) -> Response:
    require(actor, "administrator")
    registry.add_agency(get_store(request), code, name or None, kind)
    return _back(f"agency {code} added")


@router.post("/admin/users")
def admin_add_user(
    request: Request,
    actor: PageActor,
    username: Annotated[str, Form(max_length=128)],
    agency: Annotated[str, Form(max_length=64)],
    roles: Annotated[list[str], Form()],
    password: Annotated[str, Form(min_length=12, max_length=1024)],
    display_name: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    require(actor, "administrator")
    store = get_store(request)
    add_user(store, username, agency, roles, display_name or None, password=password, by=actor)
    return _back(f"user {username} added; they set up their second factor at first login")


@router.post("/admin/sources")
def admin_add_source(
    request: Request,
    actor: PageActor,
    name: Annotated[str, Form(max_length=128)],
    agency: Annotated[str, Form(max_length=64)],
    kind: Annotated[str, Form(max_length=32)],
    reliability: Annotated[str, Form(max_length=1)] = "F",
    validity: Annotated[str, Form(max_length=1)] = "6",
    caveat: Annotated[str, Form(max_length=255)] = "TLP:AMBER LES",
    profile: Annotated[str, Form(max_length=64)] = "",
    record_class: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    require(actor, "administrator")
    if profile and profile not in shipped_profiles():
        raise ApiError(422, "invalid_value", f"unknown profile {profile!r}")
    registry.add_source(
        get_store(request),
        name,
        agency,
        kind,
        None,
        reliability,
        validity,
        caveat,
        record_class or None,
        None,
        profile or None,
    )
    return _back(f"source {name} added")
