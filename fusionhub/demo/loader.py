"""Loading the demo: agencies, sources and users, the generated exports, the real incident files.

``load_demo`` is what ``fusionhub demo`` runs. It is idempotent: what exists already
(agency, source, user) is left alone, and a file that a source has already imported
whole (same SHA-256, same profile) is not read again, so a second run changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fusionhub.demo.generator import generate
from fusionhub.demo.layouts import LAYOUTS
from fusionhub.demo.names import default_data_dir
from fusionhub.ingest.pipeline import ingest_file
from fusionhub.ingest.profile import shipped_profiles
from fusionhub.ingest.real_sources import REAL_SOURCES
from fusionhub.ingest.sources import add_agency, add_source, list_agencies, list_sources
from fusionhub.policy.dissemination import record_agreement
from fusionhub.policy.identity import add_user
from fusionhub.store import Store, utcnow
from fusionhub.store import tables as t

FUSION_CENTER = ("DEMO-FC", "Gateway Regional Fusion Center (demo)", "state")
PARTNER = ("DEMO-SEC", "Riverfront Retail Security (demo private-sector partner)", "private-sector")
#: username, agency, roles, display name
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("ana", "DEMO-FC", ("analyst",), "Ana Analyst"),
    ("sam", "DEMO-FC", ("supervisor",), "Sam Supervisor"),
    ("priya", "DEMO-FC", ("privacy-officer",), "Priya Privacy Officer"),
    ("fred", "DEMO-STL", ("field-user",), "Fred Field Officer"),
    ("parker", "DEMO-SEC", ("partner",), "Parker Partner"),
    ("audrey", "DEMO-FC", ("auditor",), "Audrey Auditor"),
    ("admin", "DEMO-FC", ("administrator",), "Demo Administrator"),
)
#: source kind -> (reliability, validity) the demo grades each kind of source with
DEMO_GRADING = {"rms": ("B", "2"), "cad": ("C", "3"), "lpr": ("B", "2"), "jail": ("A", "2")}


Say = Callable[[str], None]


@dataclass
class DemoReport:
    out: str
    seed: int
    size: int
    generated: dict[str, int] = field(default_factory=dict)
    agencies_added: list[str] = field(default_factory=list)
    sources_added: list[str] = field(default_factory=list)
    users_added: list[str] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return sum(int(i.get("rejected", 0)) for i in self.imports)

    def to_json(self) -> dict[str, Any]:
        return {
            "out": self.out,
            "seed": self.seed,
            "size": self.size,
            "generated": self.generated,
            "agencies_added": self.agencies_added,
            "sources_added": self.sources_added,
            "users_added": self.users_added,
            "imports": self.imports,
            "stored": sum(int(i.get("stored", 0)) for i in self.imports),
            "updated": sum(int(i.get("updated", 0)) for i in self.imports),
            "rejected": self.rejected,
            "notes": self.notes,
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def already_imported(store: Store, source_name: str, path: Path, profile: str) -> bool:
    """A finished import of these exact bytes by this source with this profile exists."""
    b, s = t.ingest_batch.c, t.source.c
    with store.connect() as conn:
        found = conn.execute(
            select(b.id)
            .join(t.source, s.id == b.source_id)
            .where(
                s.name == source_name,
                b.file_sha256 == _sha256(path),
                b.profile == profile,
                b.status.in_(("done", "partial")),
            )
            .limit(1)
        ).first()
    return found is not None


class DemoLoader:
    def __init__(self, store: Store, say: Say | None = None) -> None:
        self.store = store
        self.say: Say = say or (lambda _message: None)

    def ensure_agency(self, report: DemoReport, code: str, name: str, kind: str = "law-enforcement") -> None:
        if code not in {a.code for a in list_agencies(self.store)}:
            add_agency(self.store, code, name, kind)
            report.agencies_added.append(code)
            if kind == "law-enforcement":
                # Demo partners have signed the 28 CFR 23.20(f)(1) participation agreement, so
                # the workspace's dissemination form works on the demo out of the box.
                until = utcnow().date() + timedelta(days=730)
                record_agreement(self.store, None, code, until, "Demo participation agreement", by="demo")

    def ensure_source(self, report: DemoReport, name: str, agency: str, kind: str, profile: str) -> None:
        if name in {s.name for s in list_sources(self.store)}:
            return
        reliability, validity = DEMO_GRADING.get(kind, ("F", "6"))
        add_source(self.store, name, agency, kind, reliability=reliability, validity=validity, profile=profile)
        report.sources_added.append(name)

    def ensure_users(self, report: DemoReport) -> None:
        self.ensure_agency(report, *FUSION_CENTER)
        self.ensure_agency(report, *PARTNER)
        for layout in LAYOUTS:
            self.ensure_agency(report, layout.agency, layout.agency_name)
        with self.store.connect() as conn:
            existing = set(conn.execute(select(t.app_user.c.username)).scalars())
        for username, agency, roles, display in DEMO_USERS:
            if username not in existing:
                add_user(self.store, username, agency, list(roles), display)
                report.users_added.append(username)

    def import_file(self, report: DemoReport, path: Path, source: str, profile: str) -> None:
        if already_imported(self.store, source, path, profile):
            report.imports.append({"source": source, "file": str(path), "status": "already imported"})
            self.say(f"  {source}: {path.name} already imported")
            return
        result = ingest_file(self.store, path, source, profile, user="demo")
        entry = {
            "source": source,
            "file": str(path),
            "status": result.status,
            "batch_id": result.batch_id,
            "read": result.read,
            "stored": result.stored,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": result.rejected,
            "seconds": result.seconds,
        }
        report.imports.append(entry)
        self.say(
            f"  {source}: {path.name}: {result.read} read, {result.stored} stored, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.rejected} quarantined ({result.seconds:.1f} s)"
        )

    def load_generated(self, report: DemoReport, out: Path, size: int, seed: int, data_dir: Path) -> None:
        manifest = generate(out, size, seed, data_dir=data_dir)
        report.generated = {v["source"]: int(v["rows"]) for v in manifest["sources"].values()}
        self.say(f"generated {size} demo records (seed {seed}) in {out}")
        for layout in LAYOUTS:
            self.ensure_agency(report, layout.agency, layout.agency_name)
            self.ensure_source(report, layout.source, layout.agency, layout.kind, layout.profile)
            self.import_file(report, out / layout.file_name, layout.source, layout.profile)

    def load_real(self, report: DemoReport, data_dir: Path) -> None:
        """The agencies' real incident exports, through their shipped profiles, in the
        order each source needs (St. Louis by coded month: later months cancel earlier rows)."""
        shipped = set(shipped_profiles())
        for real in REAL_SOURCES:
            if not real.folder.startswith("incidents/"):
                continue  # benchmark files (FEBRL) are not a fusion center's sources
            files = real.files(data_dir)
            if not files:
                report.notes.append(f"{real.folder}: no files under {data_dir / real.folder}; skipped")
                continue
            if real.profile not in shipped:
                report.notes.append(f"{real.folder}: no shipped profile {real.profile}.yaml; skipped")
                continue
            known = {s.name for s in list_sources(self.store)}
            if real.agency not in {a.code for a in list_agencies(self.store)}:
                report.agencies_added.append(real.agency)
            real.register(self.store)
            if real.source not in known:
                report.sources_added.append(real.source)
            self.say(f"real data {real.folder} ({len(files)} file(s)):")
            for path in files:
                self.import_file(report, path, real.source, real.profile)


def load_demo(
    store: Store,
    size: int = 5000,
    seed: int = 1,
    out: Path | None = None,
    real: bool = True,
    data_dir: Path | None = None,
    say: Say | None = None,
) -> DemoReport:
    """Set up the demo fusion center on ``store`` and load demo (and real) data into it."""
    data = (data_dir or default_data_dir()).resolve()
    target = (out or store.data_dir / "demo").resolve()
    report = DemoReport(out=str(target), seed=seed, size=size)
    loader = DemoLoader(store, say)
    loader.ensure_users(report)
    loader.load_generated(report, target, size, seed, data)
    if real:
        loader.load_real(report, data)
    return report
