"""Helpers shared by the connector tests: files, counts, stored payloads, the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fusionhub.store import Store
from fusionhub.store import tables as t


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def count(store: Store, table: Any) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def records(store: Store) -> dict[str, Any]:
    """Stored records by source record id (test inspection, not a product read path)."""
    with store.connect() as conn:
        rows = conn.execute(
            select(
                t.record.c.source_record_id,
                t.record.c.payload,
                t.record.c.status,
                t.record.c.version,
                t.record.c.tlp,
                t.record.c.record_class,
                t.record.c.occurred_at,
            )
        ).all()
    return {r.source_record_id: r for r in rows}


def quarantine(store: Store) -> list[Any]:
    with store.connect() as conn:
        return list(conn.execute(select(t.quarantine).order_by(t.quarantine.c.id)).all())


def everything_stored(store: Store) -> str:
    """Every record payload and quarantined raw text, as one string to search for leaks."""
    with store.connect() as conn:
        payloads = conn.execute(select(t.record.c.payload)).scalars().all()
        raws = conn.execute(select(t.quarantine.c.raw, t.quarantine.c.reason)).all()
        versions = conn.execute(select(t.record_version.c.payload)).scalars().all()
    return json.dumps([payloads, [list(r) for r in raws], versions], ensure_ascii=False, default=str)


def entities(payload: dict[str, Any], schema: str) -> list[dict[str, Any]]:
    return [e for e in payload["entities"] if e["schema"] == schema]


def values(entity: dict[str, Any], prop: str) -> list[str]:
    """A property's stored values (the cleaned form, without the source's original text)."""
    return [v[0] if isinstance(v, list) else v for v in entity["properties"].get(prop, [])]


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def cli_ingest(store: Store, path: Path, source: str) -> CliResult:
    """``fusionhub --store URL ingest PATH --source NAME``, run in-process through typer."""
    from typer.testing import CliRunner

    from fusionhub.cli import app
    from fusionhub.cli.context import STATE

    result = CliRunner().invoke(app, ["--store", store.url, "ingest", str(path), "--source", source])
    if STATE._store is not None:  # the command opened its own store: close it
        STATE._store.dispose()
        STATE._store = None
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)
