"""``/agencies``: the agencies that own sources, records and users (administrators)."""

from __future__ import annotations

from fastapi import APIRouter

from fusionhub.api.deps import Administrator, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.api.schemas import AgencyIn, AgencyOut
from fusionhub.ingest import sources as registry

router = APIRouter(prefix="/agencies", tags=["administration"])


@router.get("", response_model=list[AgencyOut], responses=responses(*AUTH_ERRORS))
def list_agencies(_actor: Administrator, store: StoreDep) -> list[AgencyOut]:
    return [AgencyOut(code=a.code, name=a.name, kind=a.kind) for a in registry.list_agencies(store)]


@router.post("", response_model=AgencyOut, status_code=201, responses=responses(*AUTH_ERRORS, 409))
def add_agency(body: AgencyIn, _actor: Administrator, store: StoreDep) -> AgencyOut:
    agency = registry.add_agency(store, body.code, body.name, body.kind)
    return AgencyOut(code=agency.code, name=agency.name, kind=agency.kind)
