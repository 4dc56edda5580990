"""Fusion pages: an entity's fused profile with the analyst's decisions, and the link chart.

The same domain calls as ``fusionhub entity show``, ``fusionhub resolve decide`` and
``fusionhub graph``: ``entity_profile`` (policy-filtered, purpose, audited), ``decide``
(audited), the viewer's graph (``graph_for``). The chart itself is a JavaScript island
(``static/js/graph.js``) that asks the REST API for neighbours, paths and the export.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from fusionhub.api.deps import get_store
from fusionhub.graph.build import EDGE_TYPES, graph_for
from fusionhub.graph.queries import GraphError, centrality, markings, neighbours
from fusionhub.model.vocabulary import load_vocabulary
from fusionhub.policy.actor import RECORD_READERS
from fusionhub.policy.reader import NotFound, PurposeRequired
from fusionhub.resolve.decisions import DECIDERS, KINDS, DecisionError, decide
from fusionhub.resolve.profile import decision_ref, entity_decisions, entity_profile
from fusionhub.web.caveats import WORKSPACE_CAVEAT, combined
from fusionhub.web.pages import PageActor, purpose_form, remember_purpose, render, require, stated_purpose

router = APIRouter(include_in_schema=False)
READERS = tuple(sorted(RECORD_READERS))
#: Entity types the chart and the legend colour (the rest share one colour).
CHART_TYPES = ("Person", "Vehicle", "Phone", "Address", "Organization", "Incident", "Event")


def _caveat(records: list[dict[str, Any]]) -> str:
    """The most restrictive caveat of the records a page shows ("TLP:AMBER LES" each)."""
    parts = [str(r.get("caveat") or "").split() for r in records]
    return combined((p[0].removeprefix("TLP:"), p[1:]) for p in parts if p)


def _explanations(links: list[dict[str, Any]], captions: dict[str, str]) -> list[dict[str, Any]]:
    """Each join with its reason: the model's comparisons (largest weight first), the
    shared identifier, or the analyst's decision."""
    shown = []
    for link in links:
        evidence = link.get("evidence") or {}
        comparisons = sorted(evidence.get("comparisons", []), key=lambda c: -abs(float(c.get("weight", 0))))
        top = max([abs(float(c.get("weight", 0))) for c in comparisons] or [1.0]) or 1.0
        shown.append(
            {
                **link,
                "left_caption": captions.get(link["left"], link["left"]),
                "right_caption": captions.get(link.get("right") or "", link.get("right") or ""),
                "comparisons": [{**c, "share": round(100 * abs(float(c.get("weight", 0))) / top)} for c in comparisons],
                "prior": evidence.get("prior"),
                "match_weight": evidence.get("match_weight"),
            }
        )
    return shown


@router.get("/entities/{entity_id}")
def entity_page(
    request: Request,
    entity_id: str,
    actor: PageActor,
    purpose: Annotated[str | None, Query(max_length=500)] = None,
    message: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    require(actor, *READERS)
    store = get_store(request)
    stated = purpose or stated_purpose(request)
    try:
        profile = entity_profile(store, actor, entity_id[:64], stated)
    except PurposeRequired as exc:
        return purpose_form(request, actor, str(exc), purpose)
    captions = {r["ref"]: f"{r['caption']} · {r['source']} record {r['record_id']}" for r in profile["records"]}
    vocab = load_vocabulary()
    response = render(
        request,
        "entity.html",
        actor,
        f"{profile['schema']} {profile['caption']}",
        caveat=_caveat(profile["records"]),
        purpose=stated,
        entity=profile,
        explanations=_explanations(profile["links"], captions),
        decisions=entity_decisions(store, actor, profile["id"]),
        may_decide=actor.has(*DECIDERS),
        reliability=vocab.reliability,
        validity=vocab.validity,
        message=message,
        error=error,
    )
    if purpose:
        remember_purpose(request, response, purpose)
    return response


@router.post("/entities/{entity_id}/decisions")
def entity_decide(
    request: Request,
    entity_id: str,
    actor: PageActor,
    kind: Annotated[str, Form(max_length=16)],
    left: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=2000)],
    right: Annotated[str, Form(max_length=64)] = "",
    other: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """A decision from the profile page; ``other`` names another entity by its id (the
    decision then names that entity's first member the analyst may read)."""
    require(actor, *DECIDERS)
    store = get_store(request)
    back = f"/entities/{quote(entity_id[:64], safe='')}"
    if kind not in KINDS:
        return RedirectResponse(f"{back}?error={quote('unknown decision ' + kind)}", status_code=303)
    try:
        if other.strip():
            right = decision_ref(store, actor, other.strip())
        decision_id = decide(store, actor, kind, left, right or None, reason)
    except (DecisionError, NotFound) as exc:
        return RedirectResponse(f"{back}?error={quote(str(exc))}", status_code=303)
    note = f"decision {decision_id} ({kind}) recorded; it takes effect on the next resolution run"
    return RedirectResponse(f"{back}?message={quote(note)}", status_code=303)


@router.get("/graph")
def graph_page(
    request: Request,
    actor: PageActor,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
) -> Response:
    require(actor, *READERS)
    graph = graph_for(get_store(request), actor)
    start: dict[str, Any] | None = None
    error = None
    if entity:
        try:
            start = neighbours(graph, entity, depth)
        except GraphError as exc:
            error = str(exc)
    central = [] if start else centrality(graph, top=10)
    return render(
        request,
        "graph.html",
        actor,
        "Link chart",
        # Anything an expansion may add comes from these records: the caveat covers them all.
        caveat=combined(markings(graph), WORKSPACE_CAVEAT),
        entity=entity or "",
        depth=depth,
        start=start,
        central=central,
        error=error,
        edge_types=EDGE_TYPES,
        chart_types=CHART_TYPES,
    )
