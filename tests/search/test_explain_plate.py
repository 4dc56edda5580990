"""The plate matcher that explains plate hits agrees with the wildcard rule everywhere."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from fusionhub.search.explain import _plate_matcher

PLATE = st.text(alphabet="7AB0O1I8*?", max_size=8)


def by_regex(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + "$"
    return re.match(regex, value) is not None


@given(PLATE, st.text(alphabet="7AB0O1I8", max_size=8))
def test_matcher_agrees_with_the_wildcard_rule(pattern: str, value: str) -> None:
    assert _plate_matcher(pattern)(value) == by_regex(pattern, value)


def test_usual_forms() -> None:
    assert _plate_matcher("7AB123")("7AB123")
    assert not _plate_matcher("7AB123")("7AB1234")
    assert _plate_matcher("7AB*")("7AB999")
    assert not _plate_matcher("7AB*")("X7AB999")
    assert _plate_matcher("7?B*")("7XB1")
    assert _plate_matcher("*")("")
