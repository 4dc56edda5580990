"""The name terms of the index, to spell a fuzzy name token out.

A fuzzy token (``fuzzy_distance``: one edit for 4-6 letters, two beyond) matches every
indexed name term within that many edits, a transposition counting as one. tantivy's
own fuzzy query finds those terms with an automaton and then marks every document of
every one of them in a bitmap the size of the index before the search starts: for a
common given name that is tens of thousands of documents, most of the cost of a name
search at a million records, and a bitmap cannot be skipped through when the family
name allows only a handful of documents. Spelled out as the terms themselves, the
clause is a union of postings lists that the search skips through like any other.

The terms come from the index the search reads. The engine reloads its reader itself
(``TantivyEngine.reload``), each reload a new generation; the first expansion in a
generation lists the field's terms from that generation's searcher and adds the ones
not seen before, so a term indexed since is never missed. Terms are never taken away:
one that left the index (its records deleted) only adds a term query that finds
nothing. Expanding a token compares it with the terms of a similar length
(``rapidfuzz``'s optimal string alignment distance: the Levenshtein distance with a
transposition of neighbours as one edit, as tantivy's automaton counts), after a
bitmask per character has ruled out the terms that lack too many of the token's
characters; the expansion is kept, and only the terms added since are compared when it is asked for again. A
field with more than ``VOCABULARY_LIMIT`` terms is not listed: its tokens keep
tantivy's fuzzy query.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import tantivy
from rapidfuzz import process
from rapidfuzz.distance import OSA

#: Terms of one field listed at most: listing costs ~1.2 µs a term at every reload.
VOCABULARY_LIMIT = 100_000
#: Generations whose terms are known to be listed; a search on an older one lists again.
GENERATIONS_KEPT = 64
#: Expanded tokens kept before starting afresh (memory stays bounded).
EXPANSIONS_KEPT = 1 << 16


class _Bucket:
    """The terms of one length, and for each character a bitmask of the terms holding it.

    A term within ``distance`` edits of a token lacks at most ``distance`` of the
    token's distinct characters (a substitution or a deletion takes away one occurrence,
    an insertion or a transposition none), so the masks rule most terms out with a few
    operations on integers as wide as the bucket; only the rest are compared.
    """

    def __init__(self) -> None:
        self.terms: list[str] = []
        self._bits: dict[str, bytearray] = {}
        #: (terms covered, masks): replaced whole, so a reader sees one consistent pair.
        self.index: tuple[int, dict[str, int]] = (0, {})

    def add(self, new: list[str]) -> None:
        start = len(self.terms)
        self.terms.extend(new)
        size = len(self.terms)
        changed: set[str] = set()
        for position, term in enumerate(new, start):
            for char in set(term):
                bits = self._bits.setdefault(char, bytearray())
                if len(bits) <= position >> 3:
                    bits.extend(bytes((position >> 3) + 1 - len(bits)))
                bits[position >> 3] |= 1 << (position & 7)
                changed.add(char)
        masks = dict(self.index[1])
        for char in changed:
            masks[char] = int.from_bytes(self._bits[char], "little")
        self.index = (size, masks)

    def near(self, token: str, distance: int) -> list[str]:
        """The terms within ``distance`` edits of ``token``, the token left out."""
        size, masks = self.index
        everything = (1 << size) - 1
        # lacking[j]: the terms that lack exactly j of the characters seen so far.
        lacking = [everything] + [0] * distance
        for char in set(token):
            absent = everything & ~masks.get(char, 0)
            for j in range(distance, 0, -1):
                lacking[j] = (lacking[j] & ~absent) | (lacking[j - 1] & absent)
            lacking[0] &= ~absent
        survivors = 0
        for mask in lacking:
            survivors |= mask
        if not survivors:
            return []
        flags = bin(survivors)[:1:-1]  # bit i of the mask is character i
        candidates = []
        at = flags.find("1")
        while at >= 0:
            candidates.append(self.terms[at])
            at = flags.find("1", at + 1)
        return _within(token, candidates, distance)


@dataclass
class _FieldTerms:
    known: set[str] = field(default_factory=set)
    by_length: dict[int, _Bucket] = field(default_factory=dict)
    #: Every known term in the order it was first seen: an expansion remembers how many
    #: it has compared and compares only the later ones when asked again.
    added: list[str] = field(default_factory=list)
    listed: set[int] = field(default_factory=set)
    too_many: bool = False


@dataclass
class _Expansion:
    terms: list[str]
    compared: int


class NameVocabulary:
    """The name terms of one engine's index, across its generations."""

    def __init__(self) -> None:
        self._fields: dict[str, _FieldTerms] = {}
        self._expanded: dict[tuple[str, str, int], _Expansion] = {}
        self._lock = threading.Lock()

    def at(self, searcher: tantivy.Searcher, generation: int) -> VocabularyView:
        return VocabularyView(self, searcher, generation)

    def fuzzy_terms(
        self, searcher: tantivy.Searcher, generation: int, name: str, token: str, distance: int
    ) -> list[str] | None:
        terms = self._terms(searcher, generation, name)
        if terms is None:
            return None
        key = (name, token, distance)
        found = self._expanded.get(key)
        added = len(terms.added)
        if found is None:
            matches = []
            for length in range(len(token) - distance, len(token) + distance + 1):
                bucket = terms.by_length.get(length)
                if bucket is not None:
                    matches += bucket.near(token, distance)
            found = _Expansion(sorted(set(matches)), added)
            if len(self._expanded) >= EXPANSIONS_KEPT:
                self._expanded.clear()
            self._expanded[key] = found
        elif found.compared < added:
            later = [t for t in terms.added[found.compared : added] if abs(len(t) - len(token)) <= distance]
            found = _Expansion(sorted({*found.terms, *_within(token, later, distance)}), added)
            self._expanded[key] = found
        return found.terms

    def _terms(self, searcher: tantivy.Searcher, generation: int, name: str) -> _FieldTerms | None:
        terms = self._fields.get(name)
        if terms is None or (generation not in terms.listed and not terms.too_many):
            with self._lock:
                terms = self._fields.setdefault(name, _FieldTerms())
                if generation not in terms.listed and not terms.too_many:
                    listed = searcher.terms_with_prefix(name, "", limit=VOCABULARY_LIMIT + 1)
                    new = [term for term, _ in listed if term not in terms.known]
                    if len(terms.known) + len(new) > VOCABULARY_LIMIT:
                        terms.too_many = True
                    else:
                        terms.known.update(new)
                        by_length: dict[int, list[str]] = {}
                        for term in new:
                            by_length.setdefault(len(term), []).append(term)
                        for length, same in by_length.items():
                            terms.by_length.setdefault(length, _Bucket()).add(same)
                        terms.added += new  # last: expansions compare up to its length
                        terms.listed.add(generation)
                        if len(terms.listed) > GENERATIONS_KEPT:  # a server reloads for days
                            terms.listed = set(sorted(terms.listed)[-GENERATIONS_KEPT // 2 :])
        return None if terms.too_many else terms


def _within(token: str, candidates: list[str], distance: int) -> list[str]:
    matches = process.extract(token, candidates, scorer=OSA.distance, score_cutoff=distance, limit=None)
    return [term for term, _, _ in matches if term != token]


@dataclass(frozen=True)
class VocabularyView:
    """The vocabulary as one searcher (one generation of the index) sees it."""

    vocabulary: NameVocabulary
    searcher: tantivy.Searcher
    generation: int

    def fuzzy_terms(self, name: str, token: str, distance: int) -> list[str] | None:
        """The terms of field ``name`` within ``distance`` edits of ``token``, the token
        itself left out; ``None`` when the field has too many terms to list."""
        return self.vocabulary.fuzzy_terms(self.searcher, self.generation, name, token, distance)
