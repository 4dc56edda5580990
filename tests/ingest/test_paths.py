"""Property tests: dotted paths over nested rows, JSON flattening and the streamed JSON reader."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fusionhub.ingest.connectors import ConnectorInfo
from fusionhub.ingest.connectors.json_file import iter_json_items, read_json
from fusionhub.ingest.connectors.xml_file import read_xml
from fusionhub.ingest.errors import UnreadableFile
from fusionhub.ingest.paths import covered, flatten, items, leaves, lookup, pattern_of

# Keys as sources send them, minus the path syntax itself ('.', '[', ']', a leading '$.').
keys = st.text(
    alphabet=st.characters(blacklist_characters=".[]$", blacklist_categories=("Cs",)), min_size=1, max_size=8
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
nested = st.recursive(
    st.dictionaries(keys, scalars, min_size=1, max_size=4),
    lambda children: st.dictionaries(keys, st.one_of(scalars, children), min_size=1, max_size=4),
    max_leaves=20,
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=15,
)
objects = st.dictionaries(st.text(max_size=6), json_values, max_size=5)


@given(nested)
def test_flattened_and_nested_rows_answer_every_path_alike(obj: dict[str, Any]) -> None:
    flat = flatten(obj)
    for path, pattern, value in leaves(obj):
        assert path == pattern  # no lists here
        assert lookup(obj, path) == value
        assert lookup(flat, path) == value
        assert covered(pattern, {pattern_of(path)})


@given(st.lists(st.dictionaries(st.just("k"), st.text(min_size=1, max_size=5), min_size=1), min_size=1, max_size=6))
def test_a_path_through_a_list_collects_every_item(people: list[dict[str, str]]) -> None:
    row = {"people": people}
    assert lookup(row, "people.k") == [p["k"] for p in people]
    assert items(row, "people") == people
    for index, person in enumerate(people):
        assert lookup(row, f"people[{index}].k") == person["k"]
    assert lookup(row, f"people[{len(people)}].k") is None


def _read(text: bytes, block: int, suffix: str = ".json") -> list[Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"f{suffix}"
        path.write_bytes(text)
        info = ConnectorInfo()
        out = []
        for item in iter_json_items(path, {"read_block_bytes": block}, info, "auto"):
            out.append(item.error or item.value)
        return out


@settings(max_examples=60, deadline=None)
@given(st.lists(objects, max_size=6), st.integers(min_value=1, max_value=64), st.sampled_from([None, 1, 2]))
def test_streamed_array_equals_json_loads_at_any_block_size(
    rows: list[dict[str, Any]], block: int, indent: int | None
) -> None:
    text = json.dumps(rows, indent=indent, ensure_ascii=False).encode()
    if not rows:
        assert _read(text, block) == []
        return
    assert _read(text, block) == rows


@settings(max_examples=60, deadline=None)
@given(st.lists(objects, min_size=1, max_size=5), st.data())
def test_a_truncated_array_never_yields_a_wrong_record(rows: list[dict[str, Any]], data: st.DataObject) -> None:
    text = json.dumps(rows, ensure_ascii=False).encode()
    cut = data.draw(st.integers(min_value=1, max_value=len(text) - 1))
    try:
        got = _read(text[:cut], data.draw(st.integers(min_value=1, max_value=32)))
    except UnreadableFile:
        return  # cut before the first record: nothing to store
    values = [g for g in got if not isinstance(g, str)]
    assert values == rows[: len(values)]  # the whole records before the cut, in order
    assert len(got) <= len(values) + 1  # at most one report for the cut record


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_rows_or_unreadable_never_a_crash(blob: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".json", ".ndjson"):
            path = Path(folder) / f"f{suffix}"
            path.write_bytes(blob)
            try:
                for row in read_json(path, {}, ConnectorInfo()):
                    assert row.error or isinstance(row.values, dict)
            except UnreadableFile:
                pass


# XML: any text a record carries comes back as it was sent; any bytes give rows or UnreadableFile.
xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), max_size=40
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(xml_text, xml_text), min_size=1, max_size=5))
def test_xml_records_round_trip(rows: list[tuple[str, str]]) -> None:
    from xml.sax.saxutils import escape, quoteattr

    body = "".join(
        f"<j:Case kind={quoteattr(attr)}><j:Note>{escape(note)}</j:Note><j:Note>2</j:Note></j:Case>"
        for note, attr in rows
    )
    text = f'<?xml version="1.0" encoding="UTF-8"?><j:Batch xmlns:j="urn:x">{body}</j:Batch>'
    options = {"namespaces": {"j": "urn:x"}, "record_path": "j:Batch/j:Case"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.xml"
        path.write_text(text, encoding="utf-8")
        got = list(read_xml(path, options, ConnectorInfo()))
    assert len(got) == len(rows)
    for row, (note, attr) in zip(got, rows, strict=True):
        assert row.error is None
        assert lookup(row.values, "@kind") == attr  # quoteattr sends line ends as character references
        # Element text: line ends are normalised by XML, the connector trims the white space around it.
        expected_note = note.replace("\r\n", "\n").replace("\r", "\n").strip()
        assert lookup(row.values, "j:Note") == [expected_note, "2"]


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([b"", b'<?xml version="1.0"?><r>', b"<r><a>"]))
def test_arbitrary_xml_bytes_give_rows_or_unreadable(blob: bytes, prefix: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.xml"
        path.write_bytes(prefix + blob)
        try:
            for row in read_xml(path, {}, ConnectorInfo()):
                assert row.error or isinstance(row.values, dict)
        except UnreadableFile:
            pass
