"""The seeded demo-data generator: several agencies' exports about one population.

``generate(out_dir, size, seed)`` writes, for ``size`` source records in all:

- one CSV per demo source in that source's own layout (see ``layouts``);
- ``demo_ground_truth.csv``: for every source record, the true person (and vehicle,
  household) behind it and the kinds of variation the record carries;
- ``demo_persons.csv``: the true persons as they really are;
- ``demo_manifest.json``: seed, size, rates, files with their SHA-256, and per-kind
  counts of variations applied against the records where each kind could apply.

All randomness comes from one ``random.Random(seed)``; nothing reads the clock, the
environment or the global random state, so the same seed and size give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from fusionhub.demo import layouts as L
from fusionhub.demo.names import NameTables, default_data_dir, load_names
from fusionhub.demo.population import (
    CITY,
    Address,
    Person,
    Population,
    Vehicle,
    build_population,
    random_address,
    random_point,
)
from fusionhub.demo.variation import KINDS, VariationRates, misread_plate, swap_day_month, typo

GROUND_TRUTH = "demo_ground_truth.csv"
PERSONS = "demo_persons.csv"
MANIFEST = "demo_manifest.json"
GROUND_TRUTH_COLUMNS = ("source", "source_record_id", "person_id", "vehicle_id", "household_id", "variations")
PERIOD_START = datetime(2022, 1, 1)
PERIOD_MINUTES = 3 * 365 * 24 * 60
#: Of the records a source holds about people, the share about people of its own city.
LOCAL_SHARE = 0.6
MAX_PERSONS = 400_000


@dataclass
class PersonView:
    """One person as one record writes them."""

    first: str
    middle: str | None
    last: str
    dob: date
    address: Address
    phone: str | None
    kinds: list[str] = field(default_factory=list)


@dataclass
class Stats:
    applied: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    eligible: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def roll(self, rng: random.Random, kind: str, rate: float, possible: bool = True) -> bool:
        if not possible:
            return False
        self.eligible[kind] += 1
        if rng.random() < rate:
            self.applied[kind] += 1
            return True
        return False


class Generator:
    def __init__(
        self,
        seed: int = 1,
        size: int = 5000,
        rates: VariationRates | None = None,
        data_dir: Path | None = None,
        sources: tuple[str, ...] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.size = size
        self.rates = rates or VariationRates()
        self.names: NameTables = load_names((data_dir or default_data_dir()).resolve())
        self.layouts = [L.LAYOUT[k] for k in sources] if sources else list(L.LAYOUTS)
        self.stats = Stats()
        persons = min(MAX_PERSONS, max(20, size // 4))
        self.population: Population = build_population(self.rng, self.names, persons)
        self.cameras = [
            (
                f"CAM{i:03d}",
                f"{CITY['chi'].streets[i % 15]} AT {CITY['chi'].streets[(i * 7 + 3) % 15]}",
                *random_point(self.rng, CITY["chi"]),
            )
            for i in range(1, 41)
        ]

    # -- choosing ------------------------------------------------------------------
    def _quota(self) -> dict[str, int]:
        total = sum(layout.weight for layout in self.layouts)
        quotas = {layout.key: int(self.size * layout.weight / total) for layout in self.layouts}
        quotas[self.layouts[0].key] += self.size - sum(quotas.values())
        return quotas

    def _person(self, city: str) -> Person:
        rng = self.rng
        pool = self.population.by_city[city] if rng.random() < LOCAL_SHARE else self.population.persons
        if not pool:
            pool = self.population.persons
        # A few people turn up again and again, most once or twice.
        return pool[int(len(pool) * rng.random() ** 1.8)]

    def _vehicle(self) -> Vehicle:
        vehicles = self.population.vehicles
        return vehicles[int(len(vehicles) * self.rng.random() ** 1.5)]

    def _moment(self) -> datetime:
        return PERIOD_START + timedelta(minutes=self.rng.randrange(PERIOD_MINUTES))

    # -- variation -----------------------------------------------------------------
    def view(self, person: Person, city: str) -> PersonView:
        rng, rates, stats = self.rng, self.rates, self.stats
        v = PersonView(person.first, person.middle, person.last, person.dob, person.household.address, None)
        nicknames = self.names.nicknames.get(person.first)
        if stats.roll(rng, "nickname", rates.nickname, bool(nicknames)):
            assert nicknames
            v.first = rng.choice(nicknames)
            v.kinds.append("nickname")
        if stats.roll(rng, "typo", rates.typo):
            if rng.random() < 0.5:
                v.first = typo(rng, v.first)
            else:
                v.last = typo(rng, v.last)
            v.kinds.append("typo")
        if stats.roll(rng, "swap", rates.swap):
            v.first, v.last = v.last, v.first
            v.kinds.append("swap")
        if person.middle:
            if stats.roll(rng, "middle_missing", rates.middle_missing):
                v.middle = None
                v.kinds.append("middle_missing")
            elif stats.roll(rng, "middle_initial", rates.middle_initial):
                v.middle = person.middle[0]
                v.kinds.append("middle_initial")
        swapped = swap_day_month(person.dob)
        if stats.roll(rng, "dob_swap", rates.dob_swap, swapped is not None):
            assert swapped
            v.dob = swapped
            v.kinds.append("dob_swap")
        if stats.roll(rng, "address_changed", rates.address_changed):
            v.address = person.former_address or random_address(rng, CITY[city])
            v.kinds.append("address_changed")
        landline = person.household.landline
        v.phone = person.mobile if person.mobile and (not landline or rng.random() < 0.8) else landline
        return v

    def _phone_varied(self, layout: str, v: PersonView) -> str:
        if not v.phone:
            return ""
        usual, others = L.PHONE_STYLES[layout]
        if self.stats.roll(self.rng, "phone_format", self.rates.phone_format):
            v.kinds.append("phone_format")
            return L.phone_as(v.phone, self.rng.choice(others))
        return L.phone_as(v.phone, usual)

    # -- sources -------------------------------------------------------------------
    def rows_stl_rms(self, count: int) -> Iterator[tuple[list[str], dict[str, str]]]:
        rng = self.rng
        number = 0
        made = 0
        while made < count:
            number += 1
            when = self._moment()
            code, desc = rng.choice(L.RMS_OFFENSES)
            place = random_address(rng, CITY["stl"])
            district = str(rng.randrange(1, 7))
            incident_no = f"{when.year % 100:02d}-{number:06d}"
            first = self._person("stl")
            people = [first]
            for _ in range(rng.choices((0, 1, 2), (0.6, 0.3, 0.1))[0]):
                mates = first.household.members
                if len(mates) > 1 and rng.random() < 0.5:
                    mate_id = rng.choice(mates)
                    mate = next(p for p in self._household_people(first) if p.id == mate_id)
                    people.append(mate)
                else:
                    people.append(self._person("stl"))
            seen: list[str] = []
            for seq, person in enumerate(people, start=1):
                if made >= count:
                    break
                if person.id in seen:
                    continue
                seen.append(person.id)
                v = self.view(person, "stl")
                role = rng.choices([r for r, _ in L.RMS_INVOLVEMENT], [w for _, w in L.RMS_INVOLVEMENT])[0]
                middle = f" {v.middle}" if v.middle else ""
                vehicle = None
                if person.household.vehicles and rng.random() < 0.3:
                    vehicle = rng.choice(person.household.vehicles)
                row = [
                    incident_no,
                    str(seq),
                    when.strftime("%m/%d/%Y %H:%M"),
                    code,
                    desc,
                    place.street,
                    f"{place.lat:.6f}",
                    f"{place.lon:.6f}",
                    district,
                    role,
                    f"{v.last}, {v.first}{middle}",
                    person.sex,
                    v.dob.strftime("%m/%d/%Y"),
                    v.address.line,
                    self._phone_varied("stl_rms", v),
                    person.dl_number if rng.random() < 0.5 else "",
                    *(
                        (
                            vehicle.plate,
                            vehicle.state,
                            vehicle.make,
                            vehicle.model,
                            str(vehicle.year),
                            vehicle.color,
                            vehicle.vin if rng.random() < 0.5 else "",
                        )
                        if vehicle
                        else ("",) * 7
                    ),
                    f"{role} {desc.lower()} reported at {place.street}",
                ]
                made += 1
                yield row, self._truth("stl_rms", f"{incident_no}-{seq}", person, vehicle, v.kinds)

    def _household_people(self, person: Person) -> list[Person]:
        ids = person.household.members
        # Persons are numbered in creation order, and households are created whole.
        start = int(ids[0][1:]) - 1
        return self.population.persons[start : start + len(ids)]

    def rows_hou_cad(self, count: int) -> Iterator[tuple[list[str], dict[str, str]]]:
        rng = self.rng
        for number in range(1, count + 1):
            when = self._moment()
            call_type, priority = rng.choice(L.CAD_CALL_TYPES)
            place = random_address(rng, CITY["hou"])
            person = self._person("hou")
            v = self.view(person, "hou")
            role = rng.choices([r for r, _ in L.CAD_ROLES], [w for _, w in L.CAD_ROLES])[0]
            call_id = f"HC{when.strftime('%y%m%d')}{number:07d}"
            row = [
                call_id,
                when.strftime("%Y-%m-%dT%H:%M:%S"),
                call_type,
                priority,
                rng.choice(L.CAD_DISPOSITIONS),
                place.street.split(" ", 1)[1] if rng.random() < 0.3 else place.street,
                f"{rng.randrange(1, 21)}{rng.choice('ABCDEFGH')}{rng.randrange(10, 70)}",
                f"{place.lon:.6f}",
                f"{place.lat:.6f}",
                role,
                v.first.title(),
                (v.middle or "").title(),
                v.last.title(),
                v.dob.isoformat(),
                {"M": "Male", "F": "Female"}[person.sex],
                self._phone_varied("hou_cad", v),
                v.address.line.title(),
            ]
            yield row, self._truth("hou_cad", call_id, person, None, v.kinds)

    def rows_chi_lpr(self, count: int) -> Iterator[tuple[list[str], dict[str, str]]]:
        rng = self.rng
        for number in range(1, count + 1):
            vehicle = self._vehicle()
            camera_id, camera_name, lat, lon = rng.choice(self.cameras)
            plate = vehicle.plate
            kinds: list[str] = []
            misread = misread_plate(rng, plate)
            if self.stats.roll(rng, "plate_misread", self.rates.plate_misread, misread is not None):
                assert misread
                plate = misread
                kinds.append("plate_misread")
            when = self._moment() + timedelta(seconds=rng.randrange(60))
            read_id = f"LPR{number:09d}"
            row = [
                read_id,
                plate,
                vehicle.state,
                camera_id,
                camera_name,
                when.strftime("%Y-%m-%d %H:%M:%S"),
                f"{lat + rng.uniform(-0.0002, 0.0002):.6f}",
                f"{lon + rng.uniform(-0.0002, 0.0002):.6f}",
                f"{rng.uniform(0.70, 0.99):.2f}",
            ]
            truth = {
                "source": L.LAYOUT["chi_lpr"].source,
                "source_record_id": read_id,
                "person_id": "",
                "vehicle_id": vehicle.id,
                "household_id": "",
                "variations": ";".join(kinds),
            }
            yield row, truth

    def rows_brk_jail(self, count: int) -> Iterator[tuple[list[str], dict[str, str]]]:
        rng = self.rng
        for number in range(1, count + 1):
            when = self._moment()
            person = self._person("brk")
            v = self.view(person, "brk")
            aliases: list[str] = []
            if self.stats.roll(rng, "alias", self.rates.alias):
                nicks = self.names.nicknames.get(person.first)
                if person.maiden_name and (not nicks or rng.random() < 0.5):
                    aliases.append(f"{person.maiden_name}, {person.first}")
                elif nicks:
                    aliases.append(f"{person.last}, {rng.choice(nicks)}")
                else:
                    aliases.append(f"{typo(rng, person.last)}, {person.first}")
                v.kinds.append("alias")
            code, charge = rng.choice(L.JAIL_CHARGES)
            # Bookings migrated from the old system keep its YYYYMMDD dates.
            dob = v.dob.strftime("%Y%m%d") if when.year == 2022 and rng.random() < 0.5 else v.dob.strftime("%d-%m-%Y")
            booking = f"{when.year}{number:07d}"
            row = [
                booking,
                when.strftime("%Y-%m-%d %H:%M"),
                v.last,
                v.first,
                v.middle or "",
                dob,
                person.sex,
                "; ".join(aliases),
                code,
                charge,
                rng.choice(L.JAIL_AGENCIES),
                v.address.line,
                self._phone_varied("brk_jail", v),
                person.dl_number if rng.random() < 0.7 else "",
                person.household.address.state,
            ]
            yield row, self._truth("brk_jail", booking, person, None, v.kinds)

    def _truth(
        self, layout: str, record_id: str, person: Person, vehicle: Vehicle | None, kinds: list[str]
    ) -> dict[str, str]:
        return {
            "source": L.LAYOUT[layout].source,
            "source_record_id": record_id,
            "person_id": person.id,
            "vehicle_id": vehicle.id if vehicle else "",
            "household_id": person.household.id,
            "variations": ";".join(kinds),
        }

    # -- writing -------------------------------------------------------------------
    def write(self, out_dir: Path, ground_truth: bool = True) -> dict[str, Any]:
        out_dir.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        counts: dict[str, int] = {}
        truth_handle: TextIO | None = None
        if ground_truth:
            truth_handle = (out_dir / GROUND_TRUTH).open("w", newline="", encoding="utf-8")
        truth = csv.DictWriter(truth_handle, GROUND_TRUTH_COLUMNS, lineterminator="\n") if truth_handle else None
        if truth:
            truth.writeheader()
        try:
            for layout, quota in zip(self.layouts, self._quota().values()):
                path = out_dir / layout.file_name
                rows = getattr(self, f"rows_{layout.key}")(quota)
                with path.open("w", newline="", encoding="utf-8") as handle:
                    writer = csv.writer(handle, lineterminator="\n")
                    writer.writerow(layout.columns)
                    n = 0
                    for row, fact in rows:
                        writer.writerow(row)
                        if truth:
                            truth.writerow(fact)
                        n += 1
                files[layout.key] = path
                counts[layout.key] = n
        finally:
            if truth_handle:
                truth_handle.close()
        if ground_truth:
            self._write_persons(out_dir / PERSONS)
        manifest = {
            "seed": self.seed,
            "size": self.size,
            "persons": len(self.population.persons),
            "households": len(self.population.households),
            "vehicles": len(self.population.vehicles),
            "rates": self.rates.to_json(),
            "variations": {k: {"applied": self.stats.applied[k], "eligible": self.stats.eligible[k]} for k in KINDS},
            "sources": {
                layout.key: {
                    "source": layout.source,
                    "profile": layout.profile,
                    "file": layout.file_name,
                    "rows": counts[layout.key],
                    "sha256": _sha256(files[layout.key]),
                }
                for layout in self.layouts
            },
        }
        if ground_truth:
            manifest["ground_truth"] = GROUND_TRUTH
            manifest["persons_file"] = PERSONS
        (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return manifest

    def _write_persons(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(
                (
                    "person_id",
                    "household_id",
                    "first",
                    "middle",
                    "last",
                    "sex",
                    "dob",
                    "address",
                    "mobile",
                    "home_phone",
                    "dl_number",
                    "maiden_name",
                )
            )
            for p in self.population.persons:
                writer.writerow(
                    (
                        p.id,
                        p.household.id,
                        p.first,
                        p.middle or "",
                        p.last,
                        p.sex,
                        p.dob.isoformat(),
                        p.household.address.line,
                        p.mobile or "",
                        p.household.landline or "",
                        p.dl_number,
                        p.maiden_name or "",
                    )
                )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def generate(
    out_dir: str | Path,
    size: int = 5000,
    seed: int = 1,
    rates: VariationRates | None = None,
    data_dir: str | Path | None = None,
    sources: tuple[str, ...] | None = None,
    ground_truth: bool = True,
) -> dict[str, Any]:
    """Write the demo exports for ``size`` source records; return the manifest."""
    if size < 1:
        raise ValueError("size must be at least 1")
    generator = Generator(seed, size, rates, Path(data_dir) if data_dir else None, sources)
    return generator.write(Path(out_dir), ground_truth)
