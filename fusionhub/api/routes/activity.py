"""``/me/searches``: the caller's own recent searches, read back from the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fusionhub.api.deps import Searcher, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, responses
from fusionhub.policy.activity import recent_searches

router = APIRouter(prefix="/me", tags=["search"])


class RecentSearchOut(BaseModel):
    query: str
    purpose: str | None
    when: str = Field(description="When the search ran (ISO 8601, UTC)")
    hits: int = Field(description="How many readable records it found then")
    rerun: str = Field(description="The workspace address that runs it again with the same purpose")


@router.get("/searches", response_model=list[RecentSearchOut], responses=responses(*AUTH_ERRORS))
def my_searches(
    actor: Searcher, store: StoreDep, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[RecentSearchOut]:
    """Your own newest searches, one per distinct query and purpose; never anyone else's."""
    return [RecentSearchOut(**s.to_json()) for s in recent_searches(store, actor, limit)]
