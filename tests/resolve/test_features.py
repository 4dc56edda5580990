"""Person rows for the matcher, and the clustering constraint analysts rely on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fusionhub.resolve.clusters import cluster
from fusionhub.resolve.features import COLUMNS, nick, person_rows, swapped
from fusionhub.store.resolve_tables import FEATURE_COLUMNS


def test_store_columns_follow_the_feature_columns() -> None:
    assert tuple(COLUMNS[1:]) == FEATURE_COLUMNS


def test_person_row_normalises_names_dates_addresses_and_identifiers() -> None:
    payload = {
        "entities": [
            {
                "id": "p1",
                "schema": "Person",
                "properties": {
                    "firstName": [["BILL", "Bill"]],
                    "lastName": [["GARCÍA-LÓPEZ", "García-López"]],
                    "birthDate": ["1980-03-07"],
                    "ssn": ["123-45-6789"],
                    "phone": ["+13145550101"],
                },
            },
            {
                "id": "a1",
                "schema": "Address",
                "properties": {"full": ["12B OAK STREET, SPRINGFIELD"], "postalCode": ["62704"]},
            },
            {"id": "r1", "schema": "Residence", "properties": {"resident": ["p1"], "place": ["a1"]}},
        ],
        "dropped": [],
    }
    (row,) = list(person_rows(7, payload))
    v = row.values
    assert v["unique_id"] == "7:p1"
    assert v["given"] == "bill" and "william" in str(v["given_nick"]).split("|")
    assert v["surname"] == "garcialopez" and v["surname_tokens"] == "garcia|lopez"
    assert v["dob"] == "1980-03-07" and v["dob_swap"] == "1980-07-03" and v["dob_digits"] == "19800307"
    assert v["ident"] == "123456789" and v["phone"] == "3145550101"
    assert v["street_number"] == "12B" and v["street"] == "oak st" and v["postcode"] == "62704"


def test_a_corrupted_birth_date_still_gives_its_digits() -> None:
    payload = {
        "entities": [{"id": "p1", "schema": "Person", "properties": {"firstName": ["ANN"]}}],
        "dropped": [{"entity": "person", "property": "birthDate", "value": "19450493", "reason": "bad"}],
    }
    (row,) = list(person_rows(1, payload))
    assert row.values["dob"] is None and row.values["dob_digits"] == "19450493"


def test_day_month_swap_only_where_it_can_be_one() -> None:
    assert swapped("1990-05-05") is None
    assert swapped("1990-05-13") is None
    assert swapped("1990-05-12") == "1990-12-05"
    assert nick("bob") and "robert" in str(nick("bob")).split("|")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12), st.floats(0, 1)), max_size=40),
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=6),
)
def test_not_the_same_pairs_never_share_a_cluster(
    edges: list[tuple[int, int, float]], apart: list[tuple[int, int]]
) -> None:
    items = [str(i) for i in range(13)]
    cannot = [(str(a), str(b)) for a, b in apart if a != b]
    labels = cluster(items, [(str(a), str(b), w) for a, b, w in edges], cannot)
    assert set(labels) == set(items)
    for a, b in cannot:
        assert labels[a] != labels[b]
    # Every join is backed by edges: an item without edges stays alone.
    linked = {str(x) for a, b, _ in edges for x in (a, b)}
    for item in set(items) - linked:
        assert labels[item] == item
