"""The query parser: the tree it builds, its errors, and that it never fails otherwise."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionhub.search.query import (
    FIELDS,
    And,
    BirthDate,
    Box,
    Facet,
    Key,
    MatchAll,
    Name,
    Not,
    Or,
    Plate,
    QuerySyntaxError,
    Radius,
    Text,
    TimeRange,
    distance_km,
    parse,
)


def test_terms_next_to_each_other_are_and_and_or_binds_looser() -> None:
    assert parse("a b OR c") == Or((And((Text(("a",)), Text(("b",)))), Text(("c",))))
    assert parse("a AND (b OR c)") == And((Text(("a",)), Or((Text(("b",)), Text(("c",))))))
    assert parse("NOT a") == Not(Text(("a",)))
    assert parse("-type:Person x") == And((Not(Facet("type", "Person")), Text(("x",))))
    assert parse("") == MatchAll()
    assert parse('"Red  Pickup"') == Text(("red", "pickup"), phrase=True)
    assert parse("Édouard") == Text(("edouard",))


def test_field_values() -> None:
    assert parse('name:"Smith, Jon"') == Name("name", "Smith, Jon")
    assert parse("DOB:1980-05-06") == BirthDate(date(1980, 5, 6), date(1980, 5, 7), "1980-05-06")
    assert parse("dob:1980~1") == BirthDate(date(1979, 1, 1), date(1982, 1, 1))
    assert parse("dob:1980-05-06~3d") == BirthDate(date(1980, 5, 3), date(1980, 5, 10), "1980-05-06")
    assert parse("plate:7ab-c1*") == Plate("7ABC1*")
    assert parse('phone:"+44 20 7946 0958"') == Key("phone", ("442079460958", "2079460958"))
    assert parse("phone:1-415-555-0123") == Key("phone", ("14155550123", "4155550123"))
    assert parse("bbox:38,-122,37,-123") == Box(37, -123, 38, -122)
    assert parse("near:37.8,-122.2,500m") == Radius(37.8, -122.2, 0.5)
    assert parse("when:2018-03") == TimeRange("occurred", datetime(2018, 3, 1), datetime(2018, 4, 1))
    assert parse("received:2020..") == TimeRange("received", datetime(2020, 1, 1), None)


@given(
    lat=st.floats(-60, 60),
    lon=st.floats(-179, 179),
    km=st.floats(0.05, 50),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 0.999),
)
def test_radius_cells_cover_every_point_of_the_circle(
    lat: float, lon: float, km: float, bearing: float, fraction: float
) -> None:
    import math

    from fusionhub.search.documents import geo_cells
    from fusionhub.search.tantivy_query import covering_cells

    circle = Radius(lat, lon, km)
    reach = km * fraction / 111.32
    plat = lat + reach * math.cos(math.radians(bearing))
    plon = lon + reach * math.sin(math.radians(bearing)) / math.cos(math.radians(plat))
    if distance_km(lat, lon, plat, plon) > km:
        return
    box = circle.bounds()
    assert box.min_lat <= plat <= box.max_lat and box.min_lon <= plon <= box.max_lon
    cells = covering_cells(box, circle)
    assert cells is None or set(cells) & set(geo_cells(plat, plon))


@pytest.mark.parametrize(
    "query",
    [
        "(a",
        "a)",
        "a OR",
        "OR a",
        "nosuch:x",
        "dob:1980-13-01",
        "dob:tomorrow",
        "near:1,2",
        "bbox:1,2,3",
        "phone:12",
        "plate:--",
        "when:soon",
        "name:...",
        "a " * 70,
    ],
)
def test_errors(query: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse(query)


_pieces = st.one_of(
    st.sampled_from(["AND", "OR", "NOT", "(", ")", '"', "-", "*", ":", "~", ".."]),
    st.sampled_from([f"{f}:" for f in FIELDS]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_pieces, max_size=12).map(" ".join))
def test_any_text_parses_or_says_why(query: str) -> None:
    try:
        parse(query)
    except QuerySyntaxError as exc:
        assert str(exc)
