"""``fusionhub policy show|history|apply`` and ``recent-searches`` on both engines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from fusionhub.cli import app
from fusionhub.policy.rules import file_policy, set_active_policy
from fusionhub.store import Store
from tests import factories

BASE = file_policy().raw


@pytest.fixture(autouse=True)
def back_to_the_file() -> Iterator[None]:
    yield
    set_active_policy(None)


def run(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--store", store.url, *args])
    return result.exit_code, result.output


def test_policy_cli(store: Store, tmp_path: Path) -> None:
    factories.user(store, "po", roles=("privacy-officer",))
    factories.user(store, "ana", roles=("analyst",))
    code, out = run(store, "--as", "po", "policy", "history")
    assert code == 0 and out.startswith("* 1\t")
    code, out = run(store, "--as", "po", "policy", "show", "--json")
    assert code == 0 and json.loads(out)["id"] == 1

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**BASE, "colour": "red"}))
    code, out = run(store, "--as", "po", "policy", "apply", str(bad), "--note", "x")
    assert code == 1 and "unknown section 'colour'" in out and "not changed" in out

    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump({**BASE, "read_rules": BASE["read_rules"][:-1]}))
    code, out = run(store, "--as", "po", "policy", "apply", str(new), "--dry-run")
    assert code == 0 and "dry run: the active version is still 1" in out
    assert "analyst\t" in out
    code, out = run(store, "--as", "ana", "policy", "apply", str(new), "--note", "mine now")
    assert code == 5 and "only the privacy officer" in out
    code, out = run(store, "--as", "po", "policy", "apply", str(new), "--note", "drop originator approval")
    assert code == 0 and "version 2 is active (was 1)" in out
    code, out = run(store, "--as", "po", "policy", "history", "--json")
    assert [(v["id"], v["active"]) for v in json.loads(out)] == [(2, True), (1, False)]
    code, out = run(store, "--as", "ana", "policy", "show")
    assert code == 5


def test_recent_searches_cli(store: Store) -> None:
    from fusionhub.search.audit import record_search

    ana = factories.user(store, "ana")
    with store.begin() as conn:
        record_search(conn, ana, "case 24-001", "smith", 2, [1, 2])
    code, out = run(store, "--as", "ana", "recent-searches")
    assert code == 0 and out.strip().endswith("\t2\tcase 24-001\tsmith")
