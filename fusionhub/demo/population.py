"""The true population behind the demo exports: persons, households, phones, vehicles.

Everything is drawn from one ``random.Random`` passed in, so the same seed gives the
same population. Places are real cities (St. Louis, Houston, Chicago, Berkeley): points
fall inside each city's bounding box and streets are real street names, so the map shows
them where they belong. Phone numbers use the 555 exchange, which is not assigned to
subscribers, so no demo number rings a real person.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta

from fusionhub.demo.names import NameTables


@dataclass(frozen=True)
class City:
    key: str
    name: str
    state: str
    #: (south, west, north, east) in WGS84 degrees, inside the city limits
    bbox: tuple[float, float, float, float]
    area_codes: tuple[str, ...]
    zips: tuple[str, ...]
    streets: tuple[str, ...]


CITIES: tuple[City, ...] = (
    City(
        "stl",
        "ST. LOUIS",
        "MO",
        (38.575, -90.300, 38.700, -90.200),
        ("314",),
        ("63101", "63104", "63106", "63108", "63110", "63113", "63115", "63116", "63118", "63139"),
        (
            "N GRAND BLVD",
            "S GRAND BLVD",
            "KINGSHIGHWAY BLVD",
            "DELMAR BLVD",
            "GRAVOIS AVE",
            "CHIPPEWA ST",
            "NATURAL BRIDGE AVE",
            "MARTIN LUTHER KING DR",
            "JEFFERSON AVE",
            "CHEROKEE ST",
            "ARSENAL ST",
            "LINDELL BLVD",
            "FLORISSANT AVE",
            "BROADWAY",
            "HAMPTON AVE",
        ),
    ),
    City(
        "hou",
        "HOUSTON",
        "TX",
        (29.650, -95.550, 29.900, -95.250),
        ("713", "832"),
        ("77002", "77004", "77006", "77007", "77009", "77012", "77016", "77021", "77033", "77036"),
        (
            "WESTHEIMER RD",
            "MAIN ST",
            "BELLAIRE BLVD",
            "LOUISIANA ST",
            "AIRLINE DR",
            "TELEPHONE RD",
            "RICHMOND AVE",
            "MONTROSE BLVD",
            "GESSNER RD",
            "FONDREN RD",
            "CULLEN BLVD",
            "IRVINGTON BLVD",
            "NAVIGATION BLVD",
            "KIRBY DR",
            "SCOTT ST",
        ),
    ),
    City(
        "chi",
        "CHICAGO",
        "IL",
        (41.750, -87.780, 41.960, -87.620),
        ("312", "773"),
        ("60608", "60609", "60612", "60616", "60619", "60620", "60623", "60624", "60637", "60647"),
        (
            "S HALSTED ST",
            "W MADISON ST",
            "N MILWAUKEE AVE",
            "S ASHLAND AVE",
            "W 63RD ST",
            "S COTTAGE GROVE AVE",
            "W CHICAGO AVE",
            "N CLARK ST",
            "S PULASKI RD",
            "W CERMAK RD",
            "S WESTERN AVE",
            "W NORTH AVE",
            "S STATE ST",
            "W ROOSEVELT RD",
            "N KEDZIE AVE",
        ),
    ),
    City(
        "brk",
        "BERKELEY",
        "CA",
        (37.852, -122.295, 37.890, -122.250),
        ("510",),
        ("94702", "94703", "94704", "94705", "94708", "94709", "94710"),
        (
            "SHATTUCK AVE",
            "TELEGRAPH AVE",
            "UNIVERSITY AVE",
            "SAN PABLO AVE",
            "ASHBY AVE",
            "DWIGHT WAY",
            "COLLEGE AVE",
            "MARTIN LUTHER KING JR WAY",
            "SACRAMENTO ST",
            "ALCATRAZ AVE",
            "GILMAN ST",
            "HEARST AVE",
            "CEDAR ST",
            "DURANT AVE",
            "BANCROFT WAY",
        ),
    ),
)
CITY = {c.key: c for c in CITIES}

MAKES = (
    ("TOYOTA", ("CAMRY", "COROLLA", "RAV4", "TACOMA")),
    ("HONDA", ("ACCORD", "CIVIC", "CR-V")),
    ("FORD", ("F-150", "FUSION", "EXPLORER", "ESCAPE")),
    ("CHEVROLET", ("MALIBU", "IMPALA", "SILVERADO", "TAHOE")),
    ("NISSAN", ("ALTIMA", "SENTRA", "ROGUE")),
    ("DODGE", ("CHARGER", "RAM 1500", "DURANGO")),
    ("HYUNDAI", ("ELANTRA", "SONATA", "TUCSON")),
    ("KIA", ("OPTIMA", "SOUL", "SORENTO")),
)
COLORS = ("BLK", "WHI", "SIL", "GRY", "BLU", "RED", "GRN", "MAR", "TAN", "GLD")
# VIN transliteration and position weights (49 CFR 565.15) for the check digit.
_VIN_VALUES = {str(d): d for d in range(10)}
_VIN_VALUES.update({**dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6)))})
_VIN_VALUES.update({"P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))})
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_LETTERS = string.ascii_uppercase.replace("I", "").replace("O", "").replace("Q", "")


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def make_vin(rng: random.Random, year: int) -> str:
    body = [rng.choice(_VIN_CHARS) for _ in range(17)]
    body[9] = "ABCDEFGHJKLMNPRSTVWXY123456789"[(year - 1980) % 30]  # model-year code
    body[8] = "0"
    body[8] = vin_check_digit("".join(body))
    return "".join(body)


def make_plate(rng: random.Random, state: str) -> str:
    def letters(n: int) -> str:
        return "".join(rng.choice(_LETTERS) for _ in range(n))

    def digits(n: int) -> str:
        return "".join(rng.choice(string.digits) for _ in range(n))

    if state == "MO":
        return letters(2) + digits(1) + letters(1) + digits(1) + letters(1)
    if state == "TX":
        return letters(3) + digits(4)
    if state == "IL":
        return letters(2) + digits(5)
    return digits(1) + letters(3) + digits(3)  # CA


@dataclass
class Address:
    street: str
    city: str
    state: str
    zip: str
    lat: float
    lon: float

    @property
    def line(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip}"


@dataclass
class Vehicle:
    id: str
    plate: str
    state: str
    vin: str
    make: str
    model: str
    year: int
    color: str


@dataclass
class Household:
    id: str
    city: str
    address: Address
    landline: str | None
    vehicles: list[Vehicle] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


@dataclass
class Person:
    id: str
    first: str
    middle: str | None
    last: str
    sex: str
    dob: date
    household: Household
    mobile: str | None
    #: an earlier address, used when a record carries an address that has since changed
    former_address: Address | None
    dl_number: str
    maiden_name: str | None = None


@dataclass
class Population:
    persons: list[Person]
    households: list[Household]
    vehicles: list[Vehicle]
    by_city: dict[str, list[Person]]


def random_point(rng: random.Random, city: City) -> tuple[float, float]:
    south, west, north, east = city.bbox
    return round(rng.uniform(south, north), 6), round(rng.uniform(west, east), 6)


def random_address(rng: random.Random, city: City) -> Address:
    lat, lon = random_point(rng, city)
    number = rng.randrange(100, 9900)
    return Address(f"{number} {rng.choice(city.streets)}", city.name, city.state, rng.choice(city.zips), lat, lon)


def phone_number(rng: random.Random, city: City) -> str:
    """Ten digits, area code of the city, exchange 555 (not assigned to subscribers)."""
    line = rng.randrange(0, 10000)
    if line == 1212:  # 555-1212 is directory assistance
        line = 1213
    return f"{rng.choice(city.area_codes)}555{line:04d}"


def _dl_number(rng: random.Random, state: str, last: str) -> str:
    if state == "MO":
        return last[0] + "".join(rng.choice(string.digits) for _ in range(9))
    if state == "IL":
        return last[0] + "".join(rng.choice(string.digits) for _ in range(11))
    if state == "CA":
        return rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(7))
    return "".join(rng.choice(string.digits) for _ in range(8))


def build_population(rng: random.Random, names: NameTables, persons: int) -> Population:
    """``persons`` true persons in households of one to five, spread over the four cities."""
    people: list[Person] = []
    households: list[Household] = []
    vehicles: list[Vehicle] = []
    by_city: dict[str, list[Person]] = {c.key: [] for c in CITIES}
    first_year = date(1945, 1, 1)
    span = (date(2006, 12, 31) - first_year).days
    while len(people) < persons:
        city = rng.choice(CITIES)
        household = Household(
            id=f"H{len(households) + 1:07d}",
            city=city.key,
            address=random_address(rng, city),
            landline=phone_number(rng, city) if rng.random() < 0.35 else None,
        )
        households.append(household)
        for _ in range(rng.choices((0, 1, 2), (0.3, 0.5, 0.2))[0]):
            make, models = rng.choice(MAKES)
            year = rng.randrange(2000, 2025)
            vehicle = Vehicle(
                id=f"V{len(vehicles) + 1:07d}",
                plate=make_plate(rng, city.state),
                state=city.state,
                vin=make_vin(rng, year),
                make=make,
                model=rng.choice(models),
                year=year,
                color=rng.choice(COLORS),
            )
            vehicles.append(vehicle)
            household.vehicles.append(vehicle)
        size = rng.choices((1, 2, 3, 4, 5), (0.3, 0.3, 0.2, 0.15, 0.05))[0]
        family = rng.choice(names.last.names[:2000]) if size > 1 else None
        for _ in range(size):
            if len(people) >= persons:
                break
            sex = "M" if rng.random() < 0.5 else "F"
            table = names.male if sex == "M" else names.female
            first = rng.choices(table.names, cum_weights=table.cum_weights)[0]
            middle = rng.choices(table.names, cum_weights=table.cum_weights)[0] if rng.random() < 0.7 else None
            # Most of a household share its surname; some members keep their own.
            if family and rng.random() < 0.8:
                last = family
            else:
                last = rng.choices(names.last.names, cum_weights=names.last.cum_weights)[0]
            maiden = None
            if sex == "F" and family and last == family and rng.random() < 0.5:
                maiden = rng.choices(names.last.names, cum_weights=names.last.cum_weights)[0]
            person = Person(
                id=f"P{len(people) + 1:07d}",
                first=first,
                middle=middle if middle != first else None,
                last=last,
                sex=sex,
                dob=first_year + timedelta(days=rng.randrange(span)),
                household=household,
                mobile=phone_number(rng, city) if rng.random() < 0.8 else None,
                former_address=random_address(rng, rng.choice(CITIES) if rng.random() < 0.2 else city)
                if rng.random() < 0.4
                else None,
                dl_number=_dl_number(rng, city.state, last),
                maiden_name=maiden,
            )
            people.append(person)
            household.members.append(person.id)
            by_city[city.key].append(person)
    return Population(people, households, vehicles, by_city)
