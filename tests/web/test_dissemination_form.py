"""The release form's record-id field: whole numbers separated by commas, semicolons or
spaces; anything else is refused rather than guessed at."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusionhub.api.pagination import INT64_MAX
from fusionhub.model.types import InvalidValue
from fusionhub.web.views.disseminations import _ids

IDS = st.lists(st.integers(min_value=1, max_value=INT64_MAX), min_size=1, max_size=100)
SEPARATORS = st.lists(st.sampled_from([",", ", ", " ", ";", "\n", " ,  "]), min_size=100, max_size=100)


@given(ids=IDS, separators=SEPARATORS)
def test_separated_ids_parse_back(ids: list[int], separators: list[str]) -> None:
    text = "".join(f"{i}{sep}" for i, sep in zip(ids, separators, strict=False))
    assert _ids(f"  {text}  ") == ids


@given(ids=IDS, junk=st.text(min_size=1).filter(lambda s: any(c not in "0123456789,; \t\n\r\x0b\x0c" for c in s)))
def test_anything_but_ids_is_refused(ids: list[int], junk: str) -> None:
    text = ", ".join(map(str, ids)) + ", " + junk
    try:
        parsed = _ids(text)
    except InvalidValue:
        return
    # Only separators the splitter also knows (other Unicode spaces) may remain: never a guess.
    assert parsed[: len(ids)] == ids and all(0 < i <= INT64_MAX for i in parsed)


@pytest.mark.parametrize("text", ["", "  ", "0", "-3", "12a", "1.5", "\u00b2", "\u0663", str(INT64_MAX + 1)])
def test_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        _ids(text)
