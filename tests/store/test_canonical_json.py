"""The stored payload text (hashed for ``unchanged``) does not depend on the JSON library.

``writer._canonical`` writes with orjson where it gives the standard library's text, and
falls back where the two differ; a record ingested before and after must hash the same.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fusionhub.store.writer import _canonical, _payload_text

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec=None)),  # control characters, lone surrogates
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


def _stdlib(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@settings(max_examples=300)
@given(values)
def test_canonical_text_is_the_standard_librarys(value: Any) -> None:
    assert _canonical(value) == _stdlib(value)


class _Draft:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def payload(self) -> dict[str, Any]:
        return self.body


@settings(max_examples=200)
@given(
    st.dictionaries(st.text(max_size=8), st.lists(st.text(), max_size=3), max_size=5),
    st.dictionaries(st.text(max_size=8), scalars, max_size=5),
)
def test_payload_text_is_the_standard_librarys(properties: dict[str, Any], unmapped: dict[str, Any]) -> None:
    body: dict[str, Any] = {"entities": [{"id": "e1", "schema": "Person", "key": "p", "properties": properties}]}
    if unmapped:
        body["unmapped"] = unmapped
    assert _payload_text(_Draft(body)) == _stdlib(body)  # type: ignore[arg-type]


def test_floats_keep_the_standard_spelling() -> None:
    assert _canonical({"x": 1e-07, "y": float("nan")}) == '{"x":1e-07,"y":NaN}'


@settings(max_examples=200)
@given(
    st.dictionaries(st.text(alphabet=st.characters(codec="utf-8"), max_size=6), st.text(max_size=6), max_size=3),
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=8) | st.none() | st.booleans() | st.integers(0, 2),
        min_size=6,
        max_size=6,
    ),
    st.none() | st.text(alphabet=st.characters(codec="utf-8"), max_size=25) | st.floats(),
)
def test_content_hash_is_the_hash_of_the_whole_canonical_text(payload: Any, grading: list[Any], occurred: Any) -> None:
    """``content_hash`` writes the grading once per source, yet hashes the very text of old."""
    import hashlib

    from fusionhub.store.writer import content_hash

    keys = ("tlp", "handling", "reliability", "validity", "status", "record_class")
    row = {**dict(zip(keys, grading, strict=True)), "occurred_at": occurred, "payload": payload}
    whole = _stdlib([payload, *grading, occurred])
    assert content_hash(row) == hashlib.sha1(whole.encode()).hexdigest()


def test_content_hash_tells_1_from_true_and_1_0() -> None:
    """1, True and 1.0 are one key to a cache but three texts: each hashes as itself."""
    from fusionhub.store.writer import content_hash

    base = {"handling": "LES", "reliability": "B", "validity": "2", "status": "active", "record_class": "incident"}
    row = {**base, "occurred_at": None, "payload": {}}
    hashes = {content_hash({**row, "tlp": value}) for value in (1, True, 1.0, 1, True)}
    assert len(hashes) == 3
