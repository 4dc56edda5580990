"""Name keys for search: phonetic codes, nickname groups, edit distance by length.

Phonetic keys are Metaphone and NYSIIS (both from jellyfish, which has no Double
Metaphone): a name matches phonetically when either code agrees, which covers the
spellings that sound alike (SMITH/SMYTHE, CATHERINE/KATHRYN) that a typo allowance of
one or two edits misses.

The nickname table is ../shared/data/names/nicknames.csv (``name1,has_nickname,name2``).
It is loaded once; without it search still works, only without nickname expansion, and
:func:`nickname_table` says so in its ``warning``.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jellyfish

log = logging.getLogger(__name__)

#: Default place of the nickname table: the shared data folder beside the repository.
DEFAULT_NICKNAMES = Path(__file__).resolve().parents[3] / "shared" / "data" / "names" / "nicknames.csv"


def fuzzy_distance(token: str) -> int:
    """Edits allowed for a name token: none for short ones (too many neighbours), then 1, then 2."""
    if len(token) <= 3:
        return 0
    if len(token) <= 6:
        return 1
    return 2


@lru_cache(maxsize=1 << 16)
def phonetic_keys(token: str) -> tuple[str, ...]:
    """Phonetic codes of one folded name token, prefixed by the algorithm.

    Kept per token (names recur: indexing, queries and every explained hit ask again)."""
    letters = "".join(ch for ch in token if ch.isalpha())
    if len(letters) < 2:
        return ()
    keys = []
    metaphone = jellyfish.metaphone(letters)
    if metaphone:
        keys.append("m:" + metaphone)
    nysiis = jellyfish.nysiis(letters)
    if nysiis:
        keys.append("n:" + nysiis)
    return tuple(keys)


@dataclass
class NicknameTable:
    #: Every name mapped to the names it may stand for or be written as (both directions).
    variants: dict[str, frozenset[str]] = field(default_factory=dict)
    path: Path | None = None
    warning: str | None = None

    def expand(self, token: str) -> frozenset[str]:
        """Names that ``token`` may be recorded as, itself excluded."""
        return self.variants.get(token, frozenset())

    def related(self, a: str, b: str) -> bool:
        return b in self.expand(a)


def load_nicknames(path: Path) -> NicknameTable:
    forward: dict[str, set[str]] = {}
    backward: dict[str, set[str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("name1") or "").strip().lower()
            nick = (row.get("name2") or "").strip().lower()
            if not name or not nick or name == nick:
                continue
            forward.setdefault(name, set()).add(nick)
            backward.setdefault(nick, set()).add(name)
    variants: dict[str, frozenset[str]] = {}
    for word in set(forward) | set(backward):
        # A formal name's nicknames; a nickname's formal names and their other nicknames
        # (BOB -> ROBERT -> ROB): one hop through the formal name, no further, or
        # everything would end up related to everything.
        group = set(forward.get(word, ()))
        for formal in backward.get(word, ()):
            group.add(formal)
            group |= forward.get(formal, set())
        group.discard(word)
        variants[word] = frozenset(group)
    return NicknameTable(variants, path)


@lru_cache(maxsize=4)
def _cached(path: str) -> NicknameTable:
    target = Path(path)
    if not target.is_file():
        message = f"nickname table not found at {target}: searching without nickname expansion"
        log.warning(message)
        return NicknameTable(path=target, warning=message)
    return load_nicknames(target)


def nickname_table(path: str | Path | None = None) -> NicknameTable:
    """The nickname table from ``path``, ``FUSIONHUB_NICKNAMES`` or the shared data folder."""
    chosen = path or os.environ.get("FUSIONHUB_NICKNAMES") or DEFAULT_NICKNAMES
    return _cached(str(chosen))
