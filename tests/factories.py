"""Helpers that read like policy: agencies, sources and users in one call."""

from __future__ import annotations

from fusionhub.ingest.sources import Source, add_agency, add_source, list_agencies
from fusionhub.policy.actor import Actor
from fusionhub.policy.identity import add_user
from fusionhub.store import Store


def agency(store: Store, code: str, kind: str = "law-enforcement") -> None:
    if code not in {a.code for a in list_agencies(store)}:
        add_agency(store, code, f"{code} agency", kind)


def source(
    store: Store, name: str, agency_code: str = "PD1", kind: str = "rms", profile: str | None = None, **kw: object
) -> Source:
    agency(store, agency_code)
    return add_source(store, name, agency_code, kind, profile=profile, **kw)  # type: ignore[arg-type]


def user(
    store: Store,
    name: str,
    agency_code: str = "PD1",
    roles: tuple[str, ...] = ("analyst",),
    kind: str = "law-enforcement",
) -> Actor:
    agency(store, agency_code, kind)
    return add_user(store, name, agency_code, list(roles))


def agreement(store: Store, code: str, kind: str = "law-enforcement", until: str = "2099-12-31") -> None:
    """An agency with a 28 CFR Part 23 participation agreement (recipients need one)."""
    from datetime import date

    from fusionhub.policy.dissemination import record_agreement

    agency(store, code, kind)
    record_agreement(store, None, code, date.fromisoformat(until), f"MOU {code}", by="test-operator")
