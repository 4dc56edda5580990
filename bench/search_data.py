"""Generated person and incident records for the search benchmarks.

Names come from the US Census name tables and nicknames from the nickname table in
../shared/data/names/ (read in place, never copied). Records are written straight
through the store writer in committed chunks, as an import would write them.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from fusionhub.ingest.pipeline import _defaults
from fusionhub.ingest.sources import Source
from fusionhub.store import Store, utcnow
from fusionhub.store import tables as t
from fusionhub.store.writer import write_chunk

NAMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "names"
OFFENSES = [
    "BURGLARY RESIDENTIAL",
    "BURGLARY AUTO",
    "THEFT FROM VEHICLE",
    "VANDALISM",
    "ASSAULT WITH DEADLY WEAPON",
    "ROBBERY",
    "STOLEN VEHICLE",
    "NARCOTICS POSSESSION",
    "DISTURBANCE",
    "TRESPASS",
    "FRAUD",
    "IDENTITY THEFT",
    "SHOPLIFTING",
    "DOMESTIC VIOLENCE",
    "HIT AND RUN",
    "WEAPONS VIOLATION",
    "ARSON",
    "SUSPICIOUS VEHICLE",
]
STREETS = [
    "MAIN ST",
    "SHATTUCK AVE",
    "TELEGRAPH AVE",
    "UNIVERSITY AVE",
    "SAN PABLO AVE",
    "COLLEGE AVE",
    "ASHBY AVE",
    "DWIGHT WAY",
    "OAK ST",
    "PINE ST",
    "MARKET ST",
    "BROADWAY",
    "MISSION ST",
    "FIRST ST",
    "LAKE SHORE DR",
]
CITIES = [
    ("BERKELEY", 37.8716, -122.2727),
    ("OAKLAND", 37.8044, -122.2712),
    ("RICHMOND", 37.9358, -122.3477),
    ("SAN LEANDRO", 37.7249, -122.1561),
    ("HAYWARD", 37.6688, -122.0808),
]


def _column(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


@dataclass
class NameTables:
    first: list[str]
    last: list[str]
    nicknames: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, top_first: int = 600, top_last: int = 5000) -> NameTables:
        male = _column(NAMES / "census1990_dist.male.first.txt")[: top_first // 2]
        female = _column(NAMES / "census1990_dist.female.first.txt")[: top_first // 2]
        last = _column(NAMES / "census1990_dist.all.last.txt")[:top_last]
        nicks: dict[str, list[str]] = {}
        path = NAMES / "nicknames.csv"
        if path.exists():
            for line in path.read_text().splitlines()[1:]:
                name, _, nick = line.split(",")
                nicks.setdefault(name.upper(), []).append(nick.upper())
        return cls(male + female, last, nicks)


@dataclass
class RecordSpec:
    source_record_id: str
    entities: list[dict[str, Any]]
    occurred_at: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False

    def payload(self) -> dict[str, Any]:
        return {"entities": self.entities}


def entity(schema: str, key: str, props: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v if isinstance(v, list) else [v] for k, v in props.items() if v not in (None, "", [])}
    return {"id": f"{key}", "schema": schema, "key": key, "properties": clean}


def person_entity(key: str, first: str, middle: str | None, last: str, dob: str | None, **more: Any) -> dict[str, Any]:
    return entity("Person", key, {"firstName": first, "middleName": middle, "lastName": last, "birthDate": dob, **more})


def random_plate(rng: random.Random) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choices(string.ascii_uppercase, k=3)) + f"{rng.randint(0, 999):03d}"


def random_phone(rng: random.Random) -> str:
    return f"+1{rng.choice(['415', '510', '925', '650'])}{rng.randint(2000000, 9999999)}"


def random_dob(rng: random.Random) -> str:
    return (date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 65))).isoformat()


def person_record(rng: random.Random, names: NameTables, number: int) -> RecordSpec:
    first, last = rng.choice(names.first), rng.choice(names.last)
    middle = rng.choice(names.first) if rng.random() < 0.6 else None
    city = rng.choice(CITIES)[0]
    address = f"{rng.randint(1, 9999)} {rng.choice(STREETS)}, {city}, CA"
    entities = [
        person_entity(
            "person",
            first,
            middle,
            last,
            random_dob(rng),
            phone=random_phone(rng),
            address=address,
            driverLicence=f"D{rng.randint(1000000, 9999999)}",
        )
    ]
    if rng.random() < 0.5:
        entities.append(
            entity(
                "Vehicle",
                "vehicle",
                {"plate": random_plate(rng), "make": rng.choice(["HONDA", "FORD", "TOYOTA", "CHEVROLET"])},
            )
        )
    return RecordSpec(f"P{number}", entities)


def incident_record(rng: random.Random, number: int) -> RecordSpec:
    city, lat, lon = rng.choice(CITIES)
    when = date(2015, 1, 1) + timedelta(days=rng.randint(0, 365 * 9))
    occurred = f"{when.isoformat()}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"
    point = f"{lat + rng.uniform(-0.05, 0.05):.6f},{lon + rng.uniform(-0.05, 0.05):.6f}"
    offense = rng.choice(OFFENSES)
    incident = entity(
        "Incident",
        "incident",
        {
            "caseNumber": f"{when.year % 100:02d}-{number:07d}",
            "offenseDescription": offense,
            "occurredAt": occurred,
            "narrative": f"{offense.lower()} reported near {rng.choice(STREETS).lower()}",
        },
    )
    place = entity(
        "Address",
        "place",
        {"full": f"{rng.randint(1, 99) * 100} BLOCK {rng.choice(STREETS)}, {city}, CA", "geo": point},
    )
    return RecordSpec(f"I{number}", [incident, place], occurred_at=occurred)


def write_records(store: Store, source: Source, records: Iterator[RecordSpec], chunk: int = 5000) -> int:
    """Write ``records`` in committed chunks of ``chunk``; followers are not notified."""
    defaults = _defaults(source)
    with store.begin() as conn:
        batch = conn.execute(
            insert(t.ingest_batch).values(
                source_id=source.id, file_name="generated", profile="generated", started_at=utcnow(), status="done"
            )
        ).inserted_primary_key
    assert batch is not None
    written = 0
    pending: list[RecordSpec] = []

    def flush() -> None:
        with store.begin() as conn:
            write_chunk(store, conn, defaults, int(batch[0]), list(pending), utcnow())

    for record in records:
        pending.append(record)
        if len(pending) >= chunk:
            flush()
            written += len(pending)
            pending = []
    if pending:
        flush()
        written += len(pending)
    return written


def warm_page_cache(paths: list[Path]) -> int:
    """Read the store and index files once, so the timings measure the search rather than
    the disk; returns the bytes read.

    A server keeps a store of this size (0.7 GB at 1M records) in memory while it is
    used; this machine's kernel pages out file pages idle for about a minute (DAMON
    ``pageout``, age >= 12 x 5 s), so a store left alone between runs was mostly on disk
    again and each hit of a page of 20 cost a disk read (~0.15 ms). ``--cold`` skips it.
    """
    total = 0
    files = [p for path in paths for p in ([path] if path.is_file() else sorted(path.glob("*")))]
    for file in files:
        if not file.is_file():
            continue
        with open(file, "rb", buffering=0) as handle:
            while chunk := handle.read(1 << 20):
                total += len(chunk)
    return total
