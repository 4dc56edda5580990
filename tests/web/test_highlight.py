"""Highlighting escapes everything it is given and marks only the matched words."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from fusionhub.web.highlight import highlight, matched_terms, narrow


def test_marks_matched_words_case_insensitively() -> None:
    assert str(highlight("John SMITH jr", ["smith"])) == "John <mark>SMITH</mark> jr"


def test_markup_in_the_caption_stays_text() -> None:
    shown = str(highlight("<script>alert(1)</script> smith", ["smith", "<script>"]))
    assert "<script>" not in shown
    assert "<mark>&lt;script&gt;</mark>" in shown


@given(st.text(max_size=60), st.lists(st.text(max_size=12), max_size=4))
def test_highlight_is_the_escaped_text_plus_marks(text: str, terms: list[str]) -> None:
    shown = str(highlight(text, terms))
    assert shown.replace("<mark>", "").replace("</mark>", "") == str(escape(text))


def test_terms_and_facet_links() -> None:
    assert matched_terms([{"field": "name", "value": "jon"}, {"field": "text", "query": "red car"}]) == [
        "jon",
        "red car",
    ]
    assert narrow("burglary", "entity_type", "Person") == "burglary type:person"
    assert narrow("", "source", "berkeley cfs") == 'source:"berkeley cfs"'
