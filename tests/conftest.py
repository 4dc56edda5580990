"""Fixtures shared by every test: real stores on SQLite and PostgreSQL.

``store`` is parametrised over both engines; each test gets a fresh, migrated database.
The PostgreSQL cluster is started once per session from the local server binaries and
fails the run loudly if it cannot start (``FUSIONHUB_TEST_ENGINES=sqlite`` narrows a
local run on purpose).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fusionhub.store import Store
from tests.pgcluster import PgCluster

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"
ENGINES = [e for e in os.environ.get("FUSIONHUB_TEST_ENGINES", "sqlite,postgresql").split(",") if e]
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.start()
    yield cluster
    cluster.stop()


def _new_store(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'fusionhub.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        url = cluster.create_database(f"t{os.getpid()}_{next(_counter)}")
    os.environ["FUSIONHUB_DATA"] = str(tmp_path)
    store = Store(url)
    store.init()
    return store


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, migrated store on each engine."""
    s = _new_store(request.param, request, tmp_path)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = _new_store("sqlite", request, tmp_path)
    yield s
    s.dispose()


@pytest.fixture
def data_dir() -> Path:
    if not DATA.exists():
        pytest.fail(f"shared data not found at {DATA}")
    return DATA
