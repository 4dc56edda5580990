"""The compliance report, with its charts (Chart.js island; the numbers are also in tables)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fusionhub.api.deps import get_store
from fusionhub.policy import compliance
from fusionhub.web.pages import PageActor, render, require

router = APIRouter(include_in_schema=False)


@router.get("/compliance")
def compliance_page(request: Request, actor: PageActor) -> Response:
    require(actor, "privacy-officer", "auditor")
    report = compliance.build_report(get_store(request), actor)
    accesses = report.get("accesses_by_role_and_agency", [])
    chart = {
        "labels": [f"{a['role']} @ {a['agency']}" for a in accesses],
        "values": [a["count"] for a in accesses],
        "label": "Record accesses",
    }
    denials = report.get("denials", {})
    denial_chart = {"labels": list(denials), "values": list(denials.values()), "label": "Denials"}
    return render(
        request,
        "compliance.html",
        actor,
        "Compliance report",
        caveat="TLP:AMBER PRIVACY — oversight statistics (no record content)",
        report=report,
        chart=chart,
        denial_chart=denial_chart,
    )
