"""A small multi-agency world for link analysis: five persons across four incidents of one
source (shared address written two ways, shared phone, co-arrest, a stated associate)
and one tie (BOB and EVE in one incident) that only an agency-only source of another
agency states. Used by the graph, API and browser tests."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fusionhub.ingest.pipeline import ingest_file
from fusionhub.resolve import resolver
from fusionhub.store import Store
from fusionhub.store import resolve_tables as rt
from fusionhub.store import tables as t
from tests.factories import source
from tests.resolve.conftest import seed_model

PROFILE = Path(__file__).with_name("incident_people.yaml")
COLUMNS = [
    "case",
    "date",
    "p1_first",
    "p1_last",
    "p1_dob",
    "p1_role",
    "p2_first",
    "p2_last",
    "p2_dob",
    "p2_role",
    "p1_home",
    "p1_phone",
    "assoc",
]
ANN = ("ANN", "RIVERA", "1980-02-03")
BOB = ("BOB", "KOWALSKI", "1975-06-07")
BOB_SWAPPED = ("BOB", "KOWALSKI", "1975-07-06")
CAL = ("CAL", "OKAFOR", "1990-09-10")
DEE = ("DEE", "NAKAMURA", "1985-11-12")
EVE = ("EVE", "LINDQVIST", "1970-01-30")


def row(
    case: str,
    date: str,
    p1: tuple[str, ...],
    role1: str,
    p2: tuple[str, ...] | None = None,
    role2: str = "",
    home: str = "",
    phone: str = "",
    assoc: str = "",
) -> dict[str, str]:
    p2 = p2 or ("", "", "")
    return dict(zip(COLUMNS, [case, date, *p1, role1, *p2, role2, home, phone, assoc], strict=True))


def ingest(store: Store, tmp_path: Path, name: str, rows: list[dict[str, str]], **kw: Any) -> None:
    source(store, name, kw.pop("agency", "PD1"), kind="rms", profile=str(PROFILE), **kw)
    path = tmp_path / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    assert ingest_file(store, path, name).rejected == 0


def seed_link_world(
    store: Store,
    tmp_path: Path,
    model: dict[str, Any],
    agency: str = "PD1",
    hidden_agency: str = "PD2",
    shared: str = "rms",
    hidden: str = "secret",
) -> None:
    """Ingest both sources and resolve everything (``shared`` of ``agency``; ``hidden``
    of ``hidden_agency``, shared within that agency only)."""
    seed_model(store, model)
    ingest(
        store,
        tmp_path,
        shared,
        [
            row("C1", "2024-01-05", ANN, "suspect", BOB, "victim", home="12 OAK ST, SPRINGFIELD", phone="3145550101"),
            # BOB again, his birth date with day and month swapped: one entity, a conflict side by side.
            row("C2", "2024-03-09", BOB_SWAPPED, "arrestee", CAL, "arrestee", assoc="associate"),
            row("C3", "2024-06-01", DEE, "witness", home="12 OAK STREET, SPRINGFIELD"),
            row("C4", "2024-07-01", EVE, "suspect", phone="314-555-0101"),
        ],
        agency=agency,
    )
    ingest(
        store,
        tmp_path,
        hidden,
        [row("S1", "2024-08-01", BOB, "suspect", EVE, "suspect", phone="6185559999")],
        agency=hidden_agency,
        sharing_terms={"agency_only": True},
    )
    resolver.run(store, full=True)


def person(store: Store, case: str, surname: str) -> str:
    """The canonical id of the person with this surname in the record of this case."""
    with store.connect() as conn:
        payload = conn.execute(select(t.record.c.payload).where(t.record.c.source_record_id == case)).scalar_one()
        ref = next(
            e["id"]
            for e in payload["entities"]
            if e["schema"] == "Person" and surname in str(e["properties"].get("lastName"))
        )
        return str(
            conn.execute(select(rt.resolve_entity.c.canonical_id).where(rt.resolve_entity.c.ref == ref)).scalar_one()
        )


def person_ref(store: Store, case: str, surname: str) -> str:
    """The reference (entity id inside the record) of that person."""
    with store.connect() as conn:
        payload = conn.execute(select(t.record.c.payload).where(t.record.c.source_record_id == case)).scalar_one()
    return str(
        next(
            e["id"]
            for e in payload["entities"]
            if e["schema"] == "Person" and surname in str(e["properties"].get("lastName"))
        )
    )
