"""Dissemination in the workspace: the release form (reached from a record's "Disseminate"
button), the emergency assessment form, the dissemination log and the supervisor's queue
of post-hoc reviews. The same domain functions as the API and the CLI do the work."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from fusionhub.api.deps import get_store
from fusionhub.api.pagination import INT64_MAX, BigId
from fusionhub.ingest import sources as registry
from fusionhub.model.types import InvalidValue
from fusionhub.policy import emergency
from fusionhub.policy.actor import LAW_ENFORCEMENT_KINDS, Actor
from fusionhub.policy.dissemination import DISSEMINATORS, LOG_READERS, agreements, disseminate, dissemination_log
from fusionhub.policy.reader import AccessDenied
from fusionhub.store import tables as t
from fusionhub.web.pages import PageActor, client_ip, render, require

router = APIRouter(include_in_schema=False)
PAGE_ROLES = tuple(dict.fromkeys((*DISSEMINATORS, *LOG_READERS)))
DISSEMINATION_CAVEAT = "TLP:AMBER LES PRIVACY — releases outside the project: who, when, why (no record content)"


def _ids(text: str) -> list[int]:
    """``"12, 13 14"`` -> ``[12, 13, 14]``; anything else in the field is refused."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not parts or not all(p.isascii() and p.isdigit() and 0 < int(p) <= INT64_MAX for p in parts):
        raise InvalidValue("record ids are whole numbers separated by commas or spaces")
    if len(parts) > 100:
        raise InvalidValue("at most 100 records per release")
    return [int(p) for p in parts]


def _supervisors(request: Request, actor: Actor) -> list[str]:
    with get_store(request).connect() as conn:
        rows = conn.execute(
            select(t.app_user.c.username, t.app_user.c.roles).where(
                t.app_user.c.agency_id == actor.agency_id, t.app_user.c.active.is_(True)
            )
        ).all()
    return sorted(r.username for r in rows if "supervisor" in (r.roles or []) and r.username != actor.username)


def _page(
    request: Request,
    actor: Actor,
    *,
    record_ids: str = "",
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
    form: dict[str, Any] | None = None,
) -> Response:
    store = get_store(request)
    may_release = actor.has(*DISSEMINATORS)
    current = agreements(store)
    recipients = [
        {"code": a.code, "name": a.name, "kind": a.kind, "until": current[a.code].valid_until.isoformat()}
        for a in registry.list_agencies(store)
        if a.code in current
    ]
    return render(
        request,
        "disseminations.html",
        actor,
        "Dissemination",
        caveat=DISSEMINATION_CAVEAT,
        status=status,
        message=message,
        error=error,
        form=form or {},
        record_ids=record_ids,
        may_release=may_release,
        recipients=recipients,
        law_enforcement_kinds=LAW_ENFORCEMENT_KINDS,
        supervisors=_supervisors(request, actor) if may_release else [],
        log=dissemination_log(store, actor) if actor.has(*LOG_READERS) else None,
        emergencies=emergency.emergency_releases(store, actor) if actor.has(*LOG_READERS) else None,
        reviews=emergency.review_queue(store, actor) if actor.has("supervisor", "privacy-officer") else None,
        review_hours=emergency.REVIEW_HOURS,
    )


@router.get("/disseminations")
def disseminations_page(
    request: Request,
    actor: PageActor,
    record_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    require(actor, *PAGE_ROLES)
    return _page(request, actor, record_ids=str(record_id or ""), message=message)


def _refused(request: Request, actor: Actor, exc: Exception, form: dict[str, Any]) -> Response:
    status = 403 if isinstance(exc, AccessDenied) else 422
    return _page(request, actor, record_ids=form.get("record_ids", ""), error=str(exc), status=status, form=form)


@router.post("/disseminations")
def release_form(
    request: Request,
    actor: PageActor,
    record_ids: Annotated[str, Form(max_length=2000)],
    recipient_agency: Annotated[str, Form(max_length=64)],
    recipient_person: Annotated[str, Form(max_length=255)],
    reason: Annotated[str, Form(max_length=4000)],
) -> Response:
    require(actor, *DISSEMINATORS)
    form = {"record_ids": record_ids, "recipient_agency": recipient_agency, "recipient_person": recipient_person}
    try:
        done = disseminate(
            get_store(request),
            actor,
            _ids(record_ids),
            recipient_agency,
            recipient_person,
            reason,
            ip=client_ip(request),
        )
    except (AccessDenied, InvalidValue) as exc:
        return _refused(request, actor, exc, {**form, "reason": reason})
    note = f"released {len(done.record_ids)} record(s) to {done.recipient_person} ({done.recipient_agency})"
    # Back to the same record: an emergency assessment often follows a release.
    return RedirectResponse(f"/disseminations?record_id={done.record_ids[0]}&message={quote(note)}", status_code=303)


@router.post("/disseminations/emergency")
def emergency_form(
    request: Request,
    actor: PageActor,
    record_ids: Annotated[str, Form(max_length=2000)],
    assessment: Annotated[str, Form(max_length=20000)],
    danger: Annotated[str, Form(max_length=16)],
    justification: Annotated[str, Form(max_length=4000)],
    supervisor: Annotated[str, Form(max_length=128)],
    recipient_person: Annotated[str, Form(max_length=255)],
    recipient_organization: Annotated[str, Form(max_length=255)],
) -> Response:
    require(actor, *DISSEMINATORS)
    form = {
        "record_ids": record_ids,
        "danger": danger,
        "justification": justification,
        "supervisor": supervisor,
        "recipient_person": recipient_person,
        "recipient_organization": recipient_organization,
        "emergency": True,
    }
    try:
        done = emergency.release_assessment(
            get_store(request),
            actor,
            _ids(record_ids),
            assessment,
            danger=danger,
            justification=justification,
            supervisor=supervisor,
            recipient_person=recipient_person,
            recipient_organization=recipient_organization,
            ip=client_ip(request),
        )
    except (AccessDenied, InvalidValue) as exc:
        return _refused(request, actor, exc, form)
    note = f"emergency assessment {done.id} released to {done.recipient_person}; {done.supervisor} reviews it"
    return RedirectResponse(f"/disseminations?message={quote(note)}", status_code=303)


@router.post("/disseminations/emergency/{release_id}/review")
def review_form(
    request: Request,
    release_id: BigId,
    actor: PageActor,
    outcome: Annotated[str, Form(pattern="^(upheld|unwarranted)$")],
    note: Annotated[str, Form(max_length=4000)],
) -> Response:
    require(actor, "supervisor")
    try:
        done = emergency.review(get_store(request), actor, release_id, outcome, note, ip=client_ip(request))
    except InvalidValue as exc:
        return _refused(request, actor, exc, {})
    message = f"emergency release {done.id} reviewed: {done.review_status}"
    return RedirectResponse(f"/disseminations?message={quote(message)}", status_code=303)
