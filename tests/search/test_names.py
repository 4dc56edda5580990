"""Name keys: nicknames (and searching without the table), phonetic codes, typo allowance."""

from __future__ import annotations

from pathlib import Path

import pytest

from fusionhub.search.names import fuzzy_distance, load_nicknames, nickname_table, phonetic_keys
from fusionhub.search.service import search
from fusionhub.store import Store
from tests import factories
from tests.search.conftest import Draft, Put, entity


def test_nicknames_both_ways_and_one_hop(tmp_path: Path) -> None:
    table = tmp_path / "nicknames.csv"
    table.write_text("name1,relationship,name2\nrobert,has_nickname,bob\nrobert,has_nickname,rob\n")
    nicknames = load_nicknames(table)
    assert nicknames.expand("robert") == {"bob", "rob"}
    assert nicknames.expand("bob") == {"robert", "rob"}


def test_shared_table_loads() -> None:
    table = nickname_table()
    assert table.warning is None, table.warning
    assert "william" in table.expand("bill")


def test_search_without_the_table_still_works_and_says_so(
    store: Store, put: Put, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUSIONHUB_NICKNAMES", str(tmp_path / "missing.csv"))
    source = factories.source(store, "rms-a", "PDA", "rms")
    put(store, source, [Draft("p", [entity("Person", name="WILLIAM SMITH")])])
    actor = factories.user(store, "ana", "PDA")
    result = search(store, actor, 'name:"william smith"', purpose="case 24-001")
    assert result.total == 1
    assert any("nickname table not found" in w for w in result.warnings)
    assert search(store, actor, 'name:"bill smith"', purpose="case 24-001").total == 0


def test_phonetic_keys_and_distance() -> None:
    assert set(phonetic_keys("smith")) & set(phonetic_keys("smythe"))
    assert set(phonetic_keys("catherine")) & set(phonetic_keys("kathryn"))
    assert not set(phonetic_keys("smith")) & set(phonetic_keys("jones"))
    assert [fuzzy_distance("x" * n) for n in (3, 4, 6, 7, 12)] == [0, 1, 1, 2, 2]
