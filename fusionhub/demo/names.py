"""Name tables for the demo population: US Census frequency lists and nickname variants.

Read from the shared data folder (``names/``, see its SOURCE.md); nothing is copied
into the repository. The folder is configurable; by default it is ``../shared/data``
seen from the repository root, or ``FUSIONHUB_SHARED_DATA`` when set.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class DemoDataMissing(FileNotFoundError):
    """The shared data folder (name lists) is not where it was looked for."""


def default_data_dir() -> Path:
    explicit = os.environ.get("FUSIONHUB_SHARED_DATA")
    if explicit:
        return Path(explicit)
    return (REPO_ROOT.parent / "shared" / "data").resolve()


@dataclass(frozen=True)
class WeightedNames:
    names: tuple[str, ...]
    cum_weights: tuple[float, ...]


@dataclass(frozen=True)
class NameTables:
    male: WeightedNames
    female: WeightedNames
    last: WeightedNames
    #: canonical first name (upper case) -> its nicknames, in file order
    nicknames: dict[str, tuple[str, ...]]


def _census(path: Path, limit: int | None = None) -> WeightedNames:
    """``NAME freq cumulative rank`` lines; the cumulative column is the weight for choices()."""
    names: list[str] = []
    weights: list[float] = []
    with path.open(encoding="ascii") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) != 4:
                continue
            names.append(parts[0])
            weights.append(float(parts[2]))
            if limit and len(names) >= limit:
                break
    if not names:
        raise DemoDataMissing(f"{path}: no names read")
    return WeightedNames(tuple(names), tuple(weights))


def _nicknames(path: Path) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    with path.open(encoding="ascii", newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("relationship") != "has_nickname":
                continue
            name, nick = row["name1"].strip().upper(), row["name2"].strip().upper()
            if name and nick and nick != name:
                found.setdefault(name, []).append(nick)
    return {name: tuple(nicks) for name, nicks in found.items()}


@lru_cache(maxsize=4)
def load_names(data_dir: Path) -> NameTables:
    folder = data_dir / "names"
    files = {
        "male": folder / "census1990_dist.male.first.txt",
        "female": folder / "census1990_dist.female.first.txt",
        "last": folder / "census1990_dist.all.last.txt",
        "nick": folder / "nicknames.csv",
    }
    for path in files.values():
        if not path.exists():
            raise DemoDataMissing(f"name list {path} not found; pass --data DIR (the shared data folder)")
    return NameTables(
        male=_census(files["male"]),
        female=_census(files["female"]),
        # The long tail of the 88,799 surnames adds nothing a demo needs; 20,000 cover ~80 %.
        last=_census(files["last"], limit=20000),
        nicknames=_nicknames(files["nick"]),
    )
