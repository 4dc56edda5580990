"""The analyst's query language: parsed into a tree of typed clauses.

``smith "red pickup" name:"jon smyth" dob:1980-05-06 plate:7AB* -type:Incident
(agency:BPD OR agency:OPD) near:37.87,-122.27,2km when:2018-01-01..2018-03-31``

Words and phrases are free text (BM25); ``field:value`` clauses search one kind of
value with that kind's matching rules (fuzzy, phonetic and nickname names; dates of
birth with tolerance and day/month swap; plates with confusable characters and
wildcards; phones by digits). Terms next to each other must all match (AND); ``OR``
and ``NOT`` (or a leading ``-``) are upper case; parentheses group. The tree says what
is asked, not how an engine finds it: ``tantivy_query`` compiles it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fusionhub.model.types.base import fold
from fusionhub.model.types.identifiers import compact

NAME_FIELDS = ("name", "first", "last", "middle")
KEY_FIELDS = ("vin", "phone", "email", "id")
FACET_FIELDS = ("type", "agency", "source", "caveat", "class", "status")
FIELDS = (
    *NAME_FIELDS,
    "dob",
    "plate",
    *KEY_FIELDS,
    "address",
    *FACET_FIELDS,
    "near",
    "bbox",
    "when",
    "received",
)
MAX_QUERY_LENGTH = 2000
MAX_CLAUSES = 64


class QuerySyntaxError(ValueError):
    """The query cannot be read; the message says where and why."""


# -- the tree ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    words: tuple[str, ...]
    phrase: bool = False


@dataclass(frozen=True)
class Name:
    part: str  # name, first, last, middle
    text: str


@dataclass(frozen=True)
class BirthDate:
    low: date
    high: date
    exact: str | None = None  # YYYY-MM-DD when one day was asked: matched also day/month swapped


@dataclass(frozen=True)
class Plate:
    pattern: str  # compact, upper case; ``*`` and ``?`` are wildcards


@dataclass(frozen=True)
class Key:
    field: str  # vin, phone, email, id
    values: tuple[str, ...]


@dataclass(frozen=True)
class Address:
    words: tuple[str, ...]


@dataclass(frozen=True)
class Facet:
    field: str
    value: str


@dataclass(frozen=True)
class Box:
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float


@dataclass(frozen=True)
class Radius:
    lat: float
    lon: float
    km: float

    def bounds(self) -> Box:
        dlat = self.km / 111.32
        coslat = max(math.cos(math.radians(min(abs(self.lat) + dlat, 89.9))), 1e-6)
        dlon = dlat / coslat
        return Box(self.lat - dlat, self.lon - dlon, self.lat + dlat, self.lon + dlon)

    def contains(self, lat: float, lon: float) -> bool:
        return distance_km(self.lat, self.lon, lat, lon) <= self.km


@dataclass(frozen=True)
class TimeRange:
    field: str  # occurred, received
    low: datetime | None
    high: datetime | None  # exclusive


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class MatchAll:
    pass


Leaf = Text | Name | BirthDate | Plate | Key | Address | Facet | Box | Radius | TimeRange
Node = Leaf | And | Or | Not | MatchAll


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(min(1.0, math.sqrt(a)))


# -- lexing and parsing ------------------------------------------------------------------
_TOKEN = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<field>[A-Za-z]+):(?:"(?P<fq>[^"]*)"?|(?P<fw>[^\s()"]*))'
    r'|"(?P<q>[^"]*)"?|(?P<w>[^\s()"]+))'
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # lp, rp, op, term
    text: str = ""
    field: str | None = None
    phrase: bool = False


def _lex(query: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(query):
        if query[pos:].strip() == "":
            break
        match = _TOKEN.match(query, pos)
        if not match or match.end() == pos:
            raise QuerySyntaxError(f"cannot read the query at character {pos + 1}: {query[pos : pos + 20]!r}")
        pos = match.end()
        if match.group("lp"):
            tokens.append(_Tok("lp"))
        elif match.group("rp"):
            tokens.append(_Tok("rp"))
        elif match.group("field") is not None:
            name = match.group("field").lower()
            if name not in FIELDS:
                raise QuerySyntaxError(f"unknown field {name}: (fields are {', '.join(FIELDS)})")
            quoted = match.group("fq")
            value = quoted if quoted is not None else match.group("fw")
            if not value:
                raise QuerySyntaxError(f"{name}: needs a value")
            tokens.append(_Tok("term", value, name, quoted is not None))
        elif match.group("q") is not None:
            tokens.append(_Tok("term", match.group("q"), None, True))
        else:
            word = match.group("w")
            if word in ("AND", "OR", "NOT"):
                tokens.append(_Tok("op", word))
            elif word.startswith("-") and len(word) > 1:
                tokens.append(_Tok("op", "NOT"))
                tokens.extend(_lex(word[1:]))
            else:
                tokens.append(_Tok("term", word))
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Tok]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.leaves = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Tok:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            return MatchAll()
        node = self.or_expr()
        if self.peek() is not None:
            raise QuerySyntaxError("unbalanced parenthesis: a ')' has no '('")
        return node

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "OR":
            self.take()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Node:
        children = [self.unary()]
        while (tok := self.peek()) is not None and tok.kind != "rp" and not (tok.kind == "op" and tok.text == "OR"):
            if tok.kind == "op" and tok.text == "AND":
                self.take()
            children.append(self.unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise QuerySyntaxError("the query ends where a term was expected")
        if tok.kind == "op" and tok.text == "NOT":
            self.take()
            return Not(self.unary())
        if tok.kind == "op":
            raise QuerySyntaxError(f"{tok.text} needs a term before and after it")
        if tok.kind == "lp":
            self.take()
            node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != "rp":
                raise QuerySyntaxError("unbalanced parenthesis: a '(' is not closed")
            self.take()
            return node
        if tok.kind == "rp":
            raise QuerySyntaxError("empty parentheses or a stray ')'")
        self.take()
        self.leaves += 1
        if self.leaves > MAX_CLAUSES:
            raise QuerySyntaxError(f"too many clauses (at most {MAX_CLAUSES})")
        return leaf(tok.field, tok.text, tok.phrase)


def parse(query: str) -> Node:
    """Parse an analyst's query; raises :class:`QuerySyntaxError` with a readable reason."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    return _Parser(_lex(query)).parse()


# -- one clause ------------------------------------------------------------------------
_WORD = re.compile(r"\w+", re.UNICODE)


def text_words(text: str) -> tuple[str, ...]:
    """Words the way the free-text field holds them: folded to lower-case ASCII."""
    return tuple(_WORD.findall(fold(text)))


def leaf(field: str | None, value: str, phrase: bool = False) -> Node:
    if field is None:
        words = text_words(value)
        if not words:
            raise QuerySyntaxError(f"{value!r} has no letters or digits to search for")
        return Text(words, phrase and len(words) > 1)
    if field in NAME_FIELDS:
        if not text_words(value):
            raise QuerySyntaxError(f"{field}:{value} has no letters")
        return Name(field, value)
    if field == "dob":
        return birth_date(value)
    if field == "plate":
        pattern = re.sub(r"[^0-9A-Z*?]", "", value.upper())
        if not pattern.strip("*?"):
            raise QuerySyntaxError(f"plate:{value} has no letters or digits")
        return Plate(pattern)
    if field in KEY_FIELDS:
        return Key(field, key_values(field, value))
    if field == "address":
        from fusionhub.model.types.address import normal_form

        words = text_words(normal_form(value))
        if not words:
            raise QuerySyntaxError(f"address:{value} is empty")
        return Address(words)
    if field in FACET_FIELDS:
        return Facet(field, value)
    if field == "bbox":
        numbers = _numbers(value, 4, "bbox:MIN_LAT,MIN_LON,MAX_LAT,MAX_LON")
        lat1, lon1, lat2, lon2 = numbers
        return Box(min(lat1, lat2), min(lon1, lon2), max(lat1, lat2), max(lon1, lon2))
    if field == "near":
        return radius(value)
    if field in ("when", "received"):
        low, high = time_range(value, field)
        return TimeRange("occurred" if field == "when" else "received", low, high)
    raise QuerySyntaxError(f"unknown field {field}:")  # pragma: no cover - FIELDS is checked in the lexer


def key_values(field: str, value: str) -> tuple[str, ...]:
    if field == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) < 4:
            raise QuerySyntaxError(f"phone:{value} has too few digits")
        keys = [digits]
        if len(digits) == 11 and digits.startswith("1"):
            keys.append(digits[1:])
        if len(digits) > 11:
            keys.append(digits[-10:])
        return tuple(dict.fromkeys(keys))
    if field == "email":
        return (fold(value).strip(),)
    ident = compact(value)
    if not ident:
        raise QuerySyntaxError(f"{field}:{value} has no letters or digits")
    return (ident,)


def _numbers(value: str, count: int, form: str) -> list[float]:
    parts = [p for p in re.split(r"[,\s]+", value) if p]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise QuerySyntaxError(f"{value!r} should be {form}") from None
    if len(numbers) != count:
        raise QuerySyntaxError(f"{value!r} should be {form}")
    return numbers


def radius(value: str) -> Radius:
    form = "near:LAT,LON,DISTANCE (e.g. near:37.87,-122.27,2km or 500m)"
    parts = [p for p in re.split(r"[,\s]+", value) if p]
    if len(parts) != 3:
        raise QuerySyntaxError(f"{value!r} should be {form}")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(km|m|mi)?", parts[2].lower())
    if not match:
        raise QuerySyntaxError(f"{parts[2]!r} is not a distance; {form}")
    amount = float(match.group(1))
    km = {"m": amount / 1000, "mi": amount * 1.609344}.get(match.group(2) or "km", amount)
    lat, lon = _numbers(",".join(parts[:2]), 2, form)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or km <= 0:
        raise QuerySyntaxError(f"{value!r} is not a place on Earth with a positive distance")
    return Radius(lat, lon, km)


def _period(text: str, what: str) -> tuple[date, date]:
    """A year, a month or a day as the first day and the day after the last."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 1, 1), date(int(text) + 1, 1, 1)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            start = date(int(text[:4]), int(text[5:]), 1)
            return start, (start + timedelta(days=32)).replace(day=1)
        day = date.fromisoformat(text[:10])
        return day, day + timedelta(days=1)
    except ValueError:
        raise QuerySyntaxError(f"{text!r} is not a date for {what}: (use YYYY, YYYY-MM or YYYY-MM-DD)") from None


def birth_date(value: str) -> BirthDate:
    """``1980-05-06`` (and its day/month swap), ``1980``, ``1980-05``, ``1978..1982``,
    ``1980-05-06~3`` (days either side) or ``1980~2`` (years either side)."""
    text = value.strip()
    if ".." in text:
        lo_text, _, hi_text = text.partition("..")
        low = _period(lo_text, "dob")[0] if lo_text else date(1870, 1, 1)
        high = _period(hi_text, "dob")[1] if hi_text else date(9999, 1, 1)
        return BirthDate(low, high)
    tolerance = 0
    if "~" in text:
        text, _, tol = text.partition("~")
        tol = tol.lower().rstrip("dy")
        if not tol.isdigit():
            raise QuerySyntaxError(f"dob:{value}: the tolerance after ~ is a number (of days, or years for a year)")
        tolerance = int(tol)
    low, high = _period(text, "dob")
    if len(text) == 4:
        return BirthDate(date(low.year - tolerance, 1, 1), date(high.year + tolerance, 1, 1))
    exact = text if len(text) == 10 else None
    return BirthDate(low - timedelta(days=tolerance), high + timedelta(days=tolerance), exact)


def time_range(value: str, field: str) -> tuple[datetime | None, datetime | None]:
    text = value.strip()
    if ".." in text:
        lo_text, _, hi_text = text.partition("..")
        low = _moment(lo_text, field, end=False) if lo_text else None
        high = _moment(hi_text, field, end=True) if hi_text else None
        if low is None and high is None:
            raise QuerySyntaxError(f"{field}:{value} needs at least one end")
        return low, high
    return _moment(text, field, end=False), _moment(text, field, end=True)


def _moment(text: str, field: str, end: bool) -> datetime:
    if len(text) > 10:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise QuerySyntaxError(f"{text!r} is not a time for {field}:") from None
        return moment + timedelta(seconds=1) if end else moment
    low, high = _period(text, field)
    chosen = high if end else low
    return datetime(chosen.year, chosen.month, chosen.day)


def leaves(node: Node, negated: bool = False) -> list[tuple[Leaf, bool]]:
    """Every clause of the tree with whether it sits under a NOT."""
    if isinstance(node, (And, Or)):
        return [item for child in node.children for item in leaves(child, negated)]
    if isinstance(node, Not):
        return leaves(node.child, not negated)
    if isinstance(node, MatchAll):
        return []
    return [(node, negated)]
