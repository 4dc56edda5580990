"""Search fixtures: records written through the store writer, as an import would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import insert, select

from fusionhub.ingest.pipeline import _defaults
from fusionhub.ingest.sources import Source
from fusionhub.search import follower
from fusionhub.store import Store, utcnow
from fusionhub.store import tables as t
from fusionhub.store.followers import notify_followers
from fusionhub.store.writer import write_chunk


@dataclass
class Draft:
    source_record_id: str
    entities: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    occurred_at: str | None = None
    cancelled: bool = False

    def payload(self) -> dict[str, Any]:
        return {"entities": self.entities}


def entity(schema: str, key: str = "e", **props: Any) -> dict[str, Any]:
    """An entity as the mapper stores it; a value is "clean" or ["clean", "as sent"]."""
    properties = {name: value if isinstance(value, list) else [value] for name, value in props.items()}
    return {"id": f"{schema}-{key}", "schema": schema, "key": key, "properties": properties}


Put = Callable[..., list[int]]


def put_records(store: Store, source: Source, drafts: list[Draft], index: bool = True) -> list[int]:
    """Write ``drafts`` as one committed chunk, then notify followers (the search index)."""
    with store.begin() as conn:
        batch = conn.execute(
            insert(t.ingest_batch).values(
                source_id=source.id, file_name="test", profile="test", started_at=utcnow(), status="done"
            )
        ).inserted_primary_key
        assert batch is not None
        write_chunk(store, conn, _defaults(source), int(batch[0]), list(drafts), utcnow())
    if index:
        notify_followers(store)
    with store.connect() as conn:
        return [
            int(
                conn.execute(
                    select(t.record.c.id).where(
                        t.record.c.source_id == source.id, t.record.c.source_record_id == d.source_record_id
                    )
                ).scalar_one()
            )
            for d in drafts
        ]


@pytest.fixture(autouse=True)
def _fresh_engines() -> None:
    # Each test has its own data folder; forget indexes opened by earlier tests.
    follower._ENGINES.clear()


@pytest.fixture
def put() -> Put:
    return put_records
