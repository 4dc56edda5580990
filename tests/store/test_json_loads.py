"""Stored JSON reads back exactly as the standard library would read it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fusionhub.store.store import json_loads

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)


@given(VALUES)
def test_reads_back_what_the_standard_library_reads(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert json_loads(text) == json.loads(text)
    assert json_loads(text.encode()) == json.loads(text)


def test_integers_beyond_64_bits_stay_integers() -> None:
    big = 123456789012345678901234567890
    assert json_loads(json.dumps({"n": big})) == {"n": big}


def test_what_orjson_refuses_still_reads() -> None:
    assert json_loads('{"a": "\\ud800"}') == {"a": "\ud800"}
    assert json_loads('{"a": NaN}')["a"] != 0
