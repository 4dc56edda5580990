"""A compact, seeded generator of person records with ground truth and labelled variations.

Used by ``bench/resolve.py`` (the multi-agency row and the 1,000,000-person row) and by
the resolution tests. Names come from the 1990 US Census frequency lists and the
nickname table in ``../shared/data/names/`` (read in place, never copied).

Each true person gets one to five records; every record after the first carries one
or two variations, each named in the ``variation`` column, so the benchmark can
split its errors by kind: ``typo`` (one edit in a name), ``nickname``, ``swap``
(given name and surname exchanged), ``compound`` (a second surname added or dropped),
``dob-swap`` (day and month exchanged), ``dob-typo``, ``missing`` (identifier, phone
or birth date left out), ``moved`` (another address) and ``new-phone``.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

NAMES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "names"
PROFILE = Path(__file__).with_name("synthetic_persons.yaml")
HEADER = [
    "rec_id",
    "agency",
    "given",
    "surname",
    "dob",
    "ssn",
    "phone",
    "street",
    "city",
    "zip",
    "sex",
    "person_id",
    "variation",
]
STREET_WORDS = (
    "OAK MAPLE CEDAR PINE ELM WASHINGTON LINCOLN MAIN PARK LAKE HILL RIVER SPRING SUNSET HIGHLAND CHURCH "
    "MILL FOREST MEADOW RIDGE VALLEY WILLOW CHESTNUT FRANKLIN JEFFERSON MADISON ADAMS JACKSON MONROE"
).split()
STREET_KINDS = ("ST", "AVE", "RD", "DR", "LN", "CT", "PL", "BLVD", "WAY", "TER")
CITIES = (
    "SPRINGFIELD RIVERTON FAIRVIEW MADISON GEORGETOWN CLINTON SALEM FRANKLIN GREENVILLE BRISTOL "
    "OAKLAND ASHLAND BURLINGTON MILTON NEWPORT"
).split()
AGENCIES = ("PD-NORTH", "SO-COUNTY", "PD-CITY", "STATE-CCH")
VARIATIONS = ("typo", "nickname", "swap", "compound", "dob-swap", "dob-typo", "missing", "moved", "new-phone")
WEIGHTS = (30, 12, 5, 5, 8, 10, 15, 10, 5)


def _census(name: str, limit: int) -> tuple[list[str], list[float]]:
    """Names and their CUMULATIVE weights (so each draw is a bisection, not a scan)."""
    names: list[str] = []
    weights: list[float] = []
    total = 0.0
    with (NAMES / name).open(encoding="ascii") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) < 2:
                continue
            names.append(parts[0])
            total += float(parts[1]) + 1e-4
            weights.append(total)
            if len(names) >= limit:
                break
    return names, weights


def _nicknames() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    with (NAMES / "nicknames.csv").open(encoding="ascii") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(row["name1"].upper(), []).append(row["name2"].upper())
    return table


class Generator:
    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.male = _census("census1990_dist.male.first.txt", 1219)
        self.female = _census("census1990_dist.female.first.txt", 4275)
        self.last = _census("census1990_dist.all.last.txt", 40000)
        self.nicks = _nicknames()
        self.streets = [f"{w} {k}" for w in STREET_WORDS for k in STREET_KINDS]

    def _pick(self, table: tuple[list[str], list[float]], k: int = 1) -> list[str]:
        return self.rng.choices(table[0], cum_weights=table[1], k=k)

    def _person(self, index: int) -> dict[str, str]:
        rng = self.rng
        sex = rng.choice("MF")
        given = self._pick(self.male if sex == "M" else self.female)[0]
        surname = self._pick(self.last)[0]
        year, month, day = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
        return {
            "given": given,
            "surname": surname,
            "dob": f"{year:04d}-{month:02d}-{day:02d}",
            "ssn": f"{rng.randint(1, 665):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}",
            "phone": f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}",
            "street": f"{rng.randint(1, 9999)} {rng.choice(self.streets)}",
            "city": rng.choice(CITIES),
            "zip": f"{rng.randint(10000, 99999)}",
            "sex": sex,
            "person_id": f"P{index}",
        }

    def _typo(self, text: str) -> str:
        rng = self.rng
        if len(text) < 3:
            return text
        i = rng.randint(1, len(text) - 2)
        op = rng.choice(("sub", "del", "ins", "trans"))
        letter = rng.choice("ABCDEFGHIJKLMNOPRSTUVWY")
        if op == "sub":
            return text[:i] + letter + text[i + 1 :]
        if op == "del":
            return text[:i] + text[i + 1 :]
        if op == "ins":
            return text[:i] + letter + text[i:]
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]

    def _vary(self, base: dict[str, str], kind: str) -> dict[str, str]:
        rng = self.rng
        row = dict(base)
        if kind == "typo":
            field = rng.choice(("given", "surname"))
            row[field] = self._typo(row[field])
        elif kind == "nickname":
            options = self.nicks.get(row["given"])
            row["given"] = rng.choice(options) if options else self._typo(row["given"])
        elif kind == "swap":
            row["given"], row["surname"] = row["surname"], row["given"]
        elif kind == "compound":
            row["surname"] = f"{row['surname']}-{self._pick(self.last)[0]}"
        elif kind in ("dob-swap", "dob-typo") and not row["dob"]:
            row["dob"] = base["dob"]
        elif kind == "dob-swap":
            y, m, d = row["dob"].split("-")
            if int(d) <= 12 and d != m:
                row["dob"] = f"{y}-{d}-{m}"
            else:
                row["dob"] = f"{y}-{m}-{int(d) % 28 + 1:02d}"
        elif kind == "dob-typo":
            y, m, d = row["dob"].split("-")
            row["dob"] = (
                f"{int(y) + rng.choice((-1, 1)):04d}-{m}-{d}"
                if rng.random() < 0.5
                else f"{y}-{m}-{int(d) % 28 + 1:02d}"
            )
        elif kind == "missing":
            row[rng.choice(("ssn", "phone", "dob"))] = ""
        elif kind == "moved":
            row["street"] = f"{rng.randint(1, 9999)} {rng.choice(self.streets)}"
            row["city"], row["zip"] = rng.choice(CITIES), f"{rng.randint(10000, 99999)}"
        elif kind == "new-phone":
            row["phone"] = f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"
        return row

    def records(self, count: int) -> Iterator[dict[str, str]]:
        """``count`` records of roughly ``count / 1.8`` persons, with ground truth."""
        rng = self.rng
        made = person = 0
        while made < count:
            base = self._person(person)
            person += 1
            copies = rng.choices((1, 2, 3, 4, 5), weights=(50, 25, 13, 8, 4))[0]
            for copy in range(min(copies, count - made)):
                kinds: list[str] = []
                row = dict(base)
                if copy:
                    # A record's own agency may have blanks and its own source's errors.
                    for _ in range(rng.choice((1, 1, 2))):
                        kind = rng.choices(VARIATIONS, weights=WEIGHTS)[0]
                        if kind not in kinds:
                            kinds.append(kind)
                            row = self._vary(row, kind)
                row["rec_id"] = f"R{made}"
                row["agency"] = rng.choice(AGENCIES)
                row["variation"] = "+".join(kinds) or "original"
                made += 1
                yield row


def write(path: Path, count: int, seed: int = 7) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        for row in Generator(seed).records(count):
            writer.writerow(row)
    return path
