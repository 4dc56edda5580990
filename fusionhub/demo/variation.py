"""The ways the same person is written differently from one record to the next.

Each kind has a rate (the chance that one source record of a person carries it) and a
name that the ground-truth file records, so search and resolution can be scored per
kind. Rates apply where the kind can apply at all (a nickname needs a first name that
has one, a day/month swap a day of 12 or less); the generator counts both.

| kind | default rate | what changes |
|---|---|---|
| typo | 0.08 | first or last name at edit distance 1-2 (substitution, deletion, insertion, transposition) |
| nickname | 0.10 | first name replaced by a nickname (``WILLIAM`` -> ``BILL``) |
| swap | 0.03 | first and last name exchanged |
| middle_missing | 0.25 | the middle name left out |
| middle_initial | 0.20 | the middle name cut to its initial |
| dob_swap | 0.04 | day and month of the date of birth exchanged |
| address_changed | 0.15 | an earlier or other address instead of the current one |
| phone_format | 0.10 | the phone written in a format the source does not normally use |
| alias | 0.30 | (jail) an alias: a nickname form or a maiden name |
| plate_misread | 0.05 | (LPR) one character of the plate read as a look-alike |
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import date

KINDS = (
    "typo",
    "nickname",
    "swap",
    "middle_missing",
    "middle_initial",
    "dob_swap",
    "address_changed",
    "phone_format",
    "alias",
    "plate_misread",
)

# Keys next to each other on a QWERTY keyboard: the substitutions a typist makes.
_NEIGHBOURS = {
    "A": "QSZW", "B": "VNGH", "C": "XVDF", "D": "SFER", "E": "WRD", "F": "DGRT", "G": "FHTY", "H": "GJYU",
    "I": "UOK", "J": "HKUI", "K": "JLIO", "L": "KOP", "M": "NJK", "N": "BMHJ", "O": "IPL", "P": "OL",
    "Q": "WA", "R": "ETF", "S": "ADWE", "T": "RYG", "U": "YIJ", "V": "CBF", "W": "QES", "X": "ZCS",
    "Y": "TUH", "Z": "XAS",
}  # fmt: skip
PLATE_LOOKALIKES = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "B": "8", "5": "S", "S": "5", "2": "Z", "Z": "2"}


@dataclass(frozen=True)
class VariationRates:
    typo: float = 0.08
    nickname: float = 0.10
    swap: float = 0.03
    middle_missing: float = 0.25
    middle_initial: float = 0.20
    dob_swap: float = 0.04
    address_changed: float = 0.15
    phone_format: float = 0.10
    alias: float = 0.30
    plate_misread: float = 0.05

    def to_json(self) -> dict[str, float]:
        return asdict(self)


def typo(rng: random.Random, word: str) -> str:
    """``word`` at Damerau-Levenshtein distance 1 or 2 (never unchanged, never empty)."""
    if len(word) < 2:
        return word + rng.choice("AEIOU")
    for _ in range(rng.choice((1, 1, 1, 2))):
        word = _one_edit(rng, word)
    return word


def _one_edit(rng: random.Random, word: str) -> str:
    i = rng.randrange(len(word))
    op = rng.random()
    ch = word[i]
    if op < 0.4 and ch in _NEIGHBOURS:
        return word[:i] + rng.choice(_NEIGHBOURS[ch]) + word[i + 1 :]
    if op < 0.6 and len(word) > 3:
        return word[:i] + word[i + 1 :]
    if op < 0.8 and i < len(word) - 1 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[: i + 1] + ch + word[i + 1 :]  # a doubled letter


def swap_day_month(dob: date) -> date | None:
    if dob.day > 12 or dob.day == dob.month:
        return None
    try:
        return date(dob.year, dob.day, dob.month)
    except ValueError:
        return None


def misread_plate(rng: random.Random, plate: str) -> str | None:
    spots = [i for i, ch in enumerate(plate) if ch in PLATE_LOOKALIKES]
    if not spots:
        return None
    i = rng.choice(spots)
    return plate[:i] + PLATE_LOOKALIKES[plate[i]] + plate[i + 1 :]
