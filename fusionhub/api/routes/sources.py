"""``/sources``: the systems that send records, with their grading, caveat and freshness."""

from __future__ import annotations

from fastapi import APIRouter

from fusionhub.api.deps import Administrator, SourceReader, StoreDep
from fusionhub.api.errors import AUTH_ERRORS, ApiError, responses
from fusionhub.api.schemas import SourceIn, SourceOut
from fusionhub.ingest import sources as registry
from fusionhub.ingest.batches import freshness
from fusionhub.ingest.profile import shipped_profiles

router = APIRouter(prefix="/sources", tags=["sources"])


def source_out(source: registry.Source, fresh: dict[str, tuple[str | None, str | None]]) -> SourceOut:
    body = source.to_json()
    last, status = fresh.get(source.name, (None, None))
    return SourceOut(
        **body,
        caveat=" ".join([f"TLP:{source.default_tlp}", *source.default_handling]),
        last_import_at=last,
        last_import_status=status,
    )


@router.get("", response_model=list[SourceOut], responses=responses(*AUTH_ERRORS))
def list_sources(_actor: SourceReader, store: StoreDep) -> list[SourceOut]:
    """Every registered source with its freshness (its newest import)."""
    fresh = freshness(store)
    return [source_out(s, fresh) for s in registry.list_sources(store)]


@router.get("/{name}", response_model=SourceOut, responses=responses(*AUTH_ERRORS, 404))
def get_source(name: str, _actor: SourceReader, store: StoreDep) -> SourceOut:
    try:
        source = registry.get_source(store, name)
    except registry.RegistryError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return source_out(source, freshness(store))


@router.post("", response_model=SourceOut, status_code=201, responses=responses(*AUTH_ERRORS, 404, 409))
def add_source(body: SourceIn, _actor: Administrator, store: StoreDep) -> SourceOut:
    """Register a source (administrators). Profiles are limited to the shipped ones over HTTP."""
    if body.profile and body.profile not in shipped_profiles():
        raise ApiError(404, "not_found", f"no shipped profile {body.profile!r}", {"shipped": shipped_profiles()})
    source = registry.add_source(
        store,
        body.name,
        body.agency,
        body.kind,
        body.system,
        body.reliability,
        body.validity,
        body.caveat,
        body.record_class,
        {k: v for k, v in body.sharing_terms.model_dump().items() if v is not None},
        body.profile,
    )
    return source_out(source, {})
