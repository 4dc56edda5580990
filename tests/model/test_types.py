"""Property types: normalisation, validation and comparison keys, one type at a time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fusionhub.model.types import TYPES, InvalidValue, inert, parse_name
from fusionhub.model.types.dates import DEFAULT_PLACEHOLDERS

name_t, date_t, datetime_t = TYPES["name"], TYPES["date"], TYPES["datetime"]
phone_t, plate_t, ident_t, geo_t = TYPES["phone"], TYPES["plate"], TYPES["identifier"], TYPES["geopoint"]
address_t, number_t, bool_t, email_t = TYPES["address"], TYPES["number"], TYPES["boolean"], TYPES["email"]


@pytest.mark.parametrize(
    ("raw", "form", "expected"),
    [
        ("SMITH, JOHN A", "natural", ("JOHN", "A", "SMITH", None)),
        ("Smith, John Allen Jr.", "natural", ("John", "Allen", "Smith", "JR")),
        ("SMITH JR, JOHN", "natural", ("JOHN", None, "SMITH", "JR")),
        ("John Smith", "natural", ("John", None, "Smith", None)),
        ("Juan de la Cruz", "natural", ("Juan", None, "de la Cruz", None)),
        ("Mary-Jane Watson-Parker", "natural", ("Mary-Jane", None, "Watson-Parker", None)),
        ("SMITH JOHN A", "last_first", ("JOHN", "A", "SMITH", None)),
        ("Cher", "natural", (None, None, "Cher", None)),
        ("John Q. Public III", "natural", ("John", "Q", "Public", "III")),
    ],
)
def test_parse_name(raw: str, form: str, expected: tuple[str | None, ...]) -> None:
    parts = parse_name(raw, form)
    assert (parts.first, parts.middle, parts.last, parts.suffix) == expected


@given(st.text(max_size=80))
def test_parse_name_never_raises_and_keeps_letters(raw: str) -> None:
    parts = parse_name(raw)
    joined = " ".join(p for p in (parts.first, parts.middle, parts.last, parts.suffix) if p)
    for token in joined.split():
        assert token.strip() == token and token


def test_name_clean_and_keys() -> None:
    assert name_t.clean("  o'brien,  pat ") == "O'BRIEN, PAT"
    assert name_t.clean("") is None
    with pytest.raises(InvalidValue):
        name_t.clean("12345")
    assert name_t.match_keys("Watson-Parker, Mary") == ["watson-parker watson parker mary"]


@pytest.mark.parametrize(
    ("raw", "hints", "expected"),
    [
        ("04/09/1981", {"format": "%m/%d/%Y"}, "1981-04-09"),
        ("19560409", {"format": "%Y%m%d"}, "1956-04-09"),
        ("1981-04-09", {}, "1981-04-09"),
        ("1981", {}, "1981"),
        ("1981-04", {}, "1981-04"),
        ("1981-04-09T10:00:00", {}, "1981-04-09"),
    ],
)
def test_dates(raw: str, hints: dict[str, str], expected: str) -> None:
    assert date_t.clean(raw, **hints) == expected


@pytest.mark.parametrize(
    ("raw", "hints"),
    [
        ("31/31/1990", {"format": "%d/%m/%Y"}),
        ("01/01/1900", {"format": "%m/%d/%Y"}),
        ("2099-01-01", {}),
        ("1990-02-30", {}),
        ("yesterday", {}),
        ("1990-01-01", {"placeholders": ["1990-01-01"]}),
    ],
)
def test_bad_dates_are_refused_with_a_reason(raw: str, hints: dict[str, object]) -> None:
    with pytest.raises(InvalidValue) as info:
        date_t.clean(raw, **hints)
    assert str(info.value)


def test_date_keys_know_day_month_swaps() -> None:
    assert date_t.match_keys("1981-04-09") == ["1981-04-09", "1981-09-04"]
    assert date_t.match_keys("1981-04-04") == ["1981-04-04"]
    assert date_t.match_keys("1981-04-23") == ["1981-04-23"]


@given(st.dates(min_value=__import__("datetime").date(1900, 1, 1), max_value=__import__("datetime").date(2025, 12, 31)))
def test_date_round_trip(value: object) -> None:
    text = value.strftime("%m/%d/%Y")  # type: ignore[attr-defined]
    if value.isoformat() in DEFAULT_PLACEHOLDERS:  # type: ignore[attr-defined]
        # A records system's "no date" (1900-01-01) is refused, not stored as a birth date.
        with pytest.raises(InvalidValue, match="placeholder"):
            date_t.clean(text, format="%m/%d/%Y")
        return
    assert date_t.clean(text, format="%m/%d/%Y") == value.isoformat()  # type: ignore[attr-defined]


NUMERIC_FORMATS = ["%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y %H:%M", "%Y%m%d%H%M%S", "%H:%M %d/%m/%Y"]


@given(st.sampled_from(NUMERIC_FORMATS), st.text(alphabet="0123456789/:.- ", max_size=20) | st.datetimes())
def test_fast_strptime_agrees_with_the_standard_library(fmt: str, raw: object) -> None:
    """The fast parser takes what ``datetime.strptime`` takes and refuses what it refuses."""
    from datetime import datetime

    from fusionhub.model.types.dates import strptime

    text = raw.strftime(fmt) if isinstance(raw, datetime) else str(raw)
    try:
        expected: object = datetime.strptime(text, fmt)
    except ValueError:
        expected = ValueError
    try:
        got: object = strptime(text, fmt)
    except ValueError:
        got = ValueError
    assert got == expected


def test_the_latest_acceptable_date_is_a_year_on_even_from_a_leap_day(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from fusionhub.model.types import dates

    class LeapDay(dt.date):
        @classmethod
        def today(cls) -> LeapDay:
            return cls(2028, 2, 29)

    monkeypatch.setattr(dates, "date", LeapDay)
    monkeypatch.setattr(dates, "_LATEST", [0.0, ""])
    assert dates.latest_date() == "2029-02-28"
    assert date_t.clean("2029-02-28") == "2029-02-28"
    with pytest.raises(InvalidValue, match="future"):
        date_t.clean("2029-03-01")


def test_datetimes_with_zones() -> None:
    assert datetime_t.clean("2010-01-01 06:00:00", format="%Y-%m-%d %H:%M:%S", timezone="UTC") == "2010-01-01T06:00:00Z"
    assert (
        datetime_t.clean("04/18/2018 22:17", format="%m/%d/%Y %H:%M", timezone="America/Los_Angeles")
        == "2018-04-18T22:17:00-07:00"
    )
    assert datetime_t.clean("2018-04-18") == "2018-04-18"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("314-555-0101", "+13145550101"),
        ("(314) 555 0101", "+13145550101"),
        ("+1 314.555.0101", "+13145550101"),
        ("1-314-555-0101", "+13145550101"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones(raw: str, expected: str) -> None:
    assert phone_t.clean(raw) == expected


def test_phone_keys_ignore_country_code() -> None:
    assert "3145550101" in phone_t.match_keys("+13145550101")
    with pytest.raises(InvalidValue):
        phone_t.clean("12-34")


@given(st.from_regex(r"\A\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]?\d{4}\Z"))
def test_us_phone_formats_all_normalise_to_e164(raw: str) -> None:
    value = phone_t.clean(raw)
    assert value is not None and value.startswith("+1") and len(value) == 12


def test_plates_and_confusions() -> None:
    assert plate_t.clean(" 7ab-c12 ") == "7ABC12"
    assert plate_t.match_keys("OIB8") == ["OIB8", "0188"]
    assert plate_t.match_keys("0188")[1] == plate_t.match_keys("OIB8")[1]
    with pytest.raises(InvalidValue):
        plate_t.clean("ABCDEFGHIJKL")


def test_identifiers() -> None:
    assert ident_t.clean("123 45 6789", scheme="ssn") == "123-45-6789"
    for bad in ("000-12-3456", "666-12-3456", "123-00-4567", "12345"):
        with pytest.raises(InvalidValue):
            ident_t.clean(bad, scheme="ssn")
    assert ident_t.clean("1hgcm82633a004352", scheme="vin") == "1HGCM82633A004352"
    with pytest.raises(InvalidValue):
        ident_t.clean("1HGCM82633A00435I", scheme="vin")  # I is never in a VIN
    assert ident_t.match_keys("D123-456 78") == ["D12345678"]


def test_geo_points_and_state_plane() -> None:
    assert geo_t.clean("(37.856572, -122.275241)") == "37.856572,-122.275241"
    assert geo_t.clean(("0", "0")) is None
    with pytest.raises(InvalidValue):
        geo_t.clean("95.0, 10.0")
    # Missouri State Plane East (NAD83, US survey feet): a point in St. Louis.
    point = geo_t.clean(("890047.4", "992586.3"), crs="ESRI:102696")
    assert point is not None
    lat, lon = map(float, point.split(","))
    assert 38.5 < lat < 38.8 and -90.4 < lon < -90.1


def test_addresses_compare_in_normal_form() -> None:
    assert address_t.match_keys("6431 Idaho Avenue") == address_t.match_keys("6431 IDAHO AVE")
    assert address_t.clean("OREGON STREET &amp; MCGEE AVE") == "OREGON STREET & MCGEE AVE"


def test_small_types() -> None:
    assert number_t.clean("1,234.0") == "1234"
    assert number_t.clean("4.5") == "4.5"
    with pytest.raises(InvalidValue):
        number_t.clean("four")
    assert bool_t.clean("True") == "true" and bool_t.clean("N") == "false"
    assert email_t.clean("<Ana@Example.ORG>") == "ana@example.org"
    with pytest.raises(InvalidValue):
        email_t.clean("not-an-email")


@given(st.text(max_size=50))
def test_every_type_either_cleans_or_explains(raw: str) -> None:
    for prop_type in TYPES.values():
        try:
            value = prop_type.clean(raw)
        except InvalidValue as exc:
            assert str(exc)
            continue
        assert value is None or isinstance(value, str)


def test_inert_neutralises_formulas() -> None:
    assert inert("=1+2") == "'=1+2"
    assert inert("@SUM(A1)") == "'@SUM(A1)"
    assert inert("plain") == "plain"
