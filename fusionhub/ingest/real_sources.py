"""The real partner exports the project ships profiles for, and how to register them.

Each entry names the agency, the source (system) it comes from, its shipped profile and
the files of the shared data folder (``../shared/data``) in the order they must be
ingested: SLMPD files by the month they were coded, because a later month reverses rows
of an earlier one. Used by ``bench/real_data.py``, the real-data tests and demo loaders;
the data itself is never copied into the repository.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from pathlib import Path

from fusionhub.ingest.sources import RegistryError, Source, add_agency, add_source, get_source, list_agencies
from fusionhub.store import Store

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTH_FILE = re.compile(r"(\d{4})-([a-z]+)\d{4}\.csv$")


def _coded_month(path: Path) -> tuple[int, int, str]:
    """``2018-april2018.csv`` -> (2018, 4): SLMPD names files by the month they were coded."""
    match = _MONTH_FILE.search(path.name)
    if not match or match.group(2) not in _MONTHS:
        return (9999, 99, path.name)
    return (int(match.group(1)), _MONTHS[match.group(2)], path.name)


@dataclass(frozen=True)
class RealSource:
    source: str
    agency: str
    agency_name: str
    kind: str
    profile: str
    folder: str  # under the shared data folder
    pattern: str
    reliability: str = "B"
    validity: str = "2"
    agency_kind: str = "law-enforcement"

    def files(self, data_dir: Path) -> list[Path]:
        found = list((data_dir / self.folder).glob(self.pattern))
        return sorted(found, key=_coded_month) if self.profile == "stlouis_slmpd" else sorted(found)

    def register(self, store: Store) -> Source:
        """Add the agency and the source unless they exist; return the source."""
        try:
            return get_source(store, self.source)
        except RegistryError:
            pass
        if self.agency not in {a.code for a in list_agencies(store)}:
            add_agency(store, self.agency, self.agency_name, self.agency_kind)
        return add_source(
            store,
            self.source,
            self.agency,
            self.kind,
            reliability=self.reliability,
            validity=self.validity,
            profile=self.profile,
        )


REAL_SOURCES: tuple[RealSource, ...] = (
    RealSource(
        "berkeley-cfs", "BPD", "Berkeley Police Department", "cad", "berkeley_bpd", "incidents/berkeley_bpd", "*.csv"
    ),
    RealSource(
        "slmpd-crime",
        "SLMPD",
        "St. Louis Metropolitan Police Department",
        "rms",
        "stlouis_slmpd",
        "incidents/stlouis_slmpd",
        "*.csv",
    ),
    RealSource("hpd-crime", "HPD", "Houston Police Department", "rms", "houston_hpd", "incidents/houston_hpd", "*.csv"),
    RealSource("cpd-crime", "CPD", "Chicago Police Department", "rms", "chicago_cpd", "incidents/chicago_cpd", "*.csv"),
    # The FEBRL files are three separate benchmark data sets whose rec_ids overlap
    # (rec-1496-org is in dataset3 and dataset4a): one source each, or they overwrite.
    *(
        RealSource(
            f"febrl-{name}",
            "FEBRL",
            "FEBRL synthetic person benchmark",
            "registry",
            "febrl",
            "febrl",
            f"{name}.csv",
            reliability="F",
            validity="6",
            agency_kind="other",
        )
        for name in ("dataset3", "dataset4a", "dataset4b")
    ),
)


def real_source(name: str) -> RealSource:
    for spec in REAL_SOURCES:
        if spec.source == name:
            return spec
    raise KeyError(f"no real source {name!r}; one of {', '.join(s.source for s in REAL_SOURCES)}")
