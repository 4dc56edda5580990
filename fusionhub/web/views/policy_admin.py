"""``/admin/policy``: the P/CRCL policy in force, its history with diffs, and changing it.

The privacy officer and administrators read it; only the privacy officer submits a new
version. A submission is always validated and dry-run first; activation needs the
reviewer to tick that they read the dry run, and is audited as a policy change.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from fusionhub.api.deps import get_store
from fusionhub.api.pagination import INT32_MAX
from fusionhub.policy.actor import Actor
from fusionhub.policy.versions import (
    CHANGE_ROLES,
    VIEW_ROLES,
    PolicyConflict,
    PolicyInvalid,
    PolicyVersion,
    Submission,
    diff,
    history,
    policy_summary,
    submit,
)
from fusionhub.web.pages import PageActor, render, require

router = APIRouter(include_in_schema=False)
POLICY_CAVEAT = "UNCLASSIFIED // P/CRCL POLICY — no record content"


def _page(
    request: Request,
    actor: Actor,
    *,
    shown: int | None = None,
    message: str | None = None,
    draft: str | None = None,
    note: str = "",
    problems: list[str] | None = None,
    result: Submission | None = None,
    status: int = 200,
) -> Response:
    versions = history(get_store(request), actor)
    active = versions[0]
    picked: PolicyVersion | None = next((v for v in versions if v.id == shown), None) if shown else None
    older = None
    if picked is not None:
        position = versions.index(picked)
        older = versions[position + 1] if position + 1 < len(versions) else None
    summary: dict[str, Any] = policy_summary(active)
    return render(
        request,
        "admin_policy.html",
        actor,
        "Privacy policy",
        caveat=POLICY_CAVEAT,
        status=status,
        active=active,
        summary=summary,
        versions=versions,
        picked=picked,
        picked_diff=diff(older, picked) if picked is not None else "",
        older=older,
        may_change=actor.has(*CHANGE_ROLES),
        draft=active.text if draft is None else draft,
        note=note,
        problems=problems or [],
        result=result,
        message=message,
    )


@router.get("/admin/policy")
def policy_page(
    request: Request,
    actor: PageActor,
    version: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    message: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    require(actor, *VIEW_ROLES)
    return _page(request, actor, shown=version, message=message)


@router.post("/admin/policy")
def policy_submit(
    request: Request,
    actor: PageActor,
    text: Annotated[str, Form(max_length=256 * 1024)],
    base_version: Annotated[int, Form(ge=1, le=INT32_MAX)],
    note: Annotated[str, Form(max_length=2000)] = "",
    action: Annotated[str, Form(max_length=16)] = "dry-run",
    reviewed: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    require(actor, *CHANGE_ROLES)
    activate = action == "activate"
    if activate and not reviewed:
        problems = ["tick that you reviewed the dry run before activating"]
        return _page(request, actor, draft=text, note=note, problems=problems, status=422)
    try:
        result = submit(get_store(request), actor, text, note=note, activate=activate, base_version=base_version)
    except PolicyInvalid as exc:
        return _page(request, actor, draft=text, note=note, problems=exc.problems, status=422)
    except PolicyConflict as exc:
        return _page(request, actor, draft=text, note=note, problems=[str(exc)], status=409)
    if result.activated is not None:
        done = f"version {result.activated.id} is active (was {result.previous.id}); the change is audited"
        return RedirectResponse(f"/admin/policy?message={quote(done)}", status_code=303)
    return _page(request, actor, draft=text, note=note, result=result)
