"""Fuzzy name tokens spelled out from the index's own terms, and name tokens scored by
disjoint levels: the same documents and scores as tantivy's fuzzy query inside a
disjunction max, which they replace (fusionhub.search.vocabulary, tantivy_query.best_of)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

import pytest
import tantivy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA

from fusionhub.search import vocabulary as vocabulary_module
from fusionhub.search.documents import SearchDocument, _add_name
from fusionhub.search.names import fuzzy_distance
from fusionhub.search.query import parse
from fusionhub.search.tantivy_engine import TantivyEngine
from fusionhub.search.tantivy_query import Compiler
from fusionhub.search.vocabulary import NameVocabulary, VocabularyView, _Bucket

FIRST = ["john", "jon", "johan", "jonathan", "jonathon", "joan", "jean", "catherine", "kathryn", "katherine",
         "cathy", "william", "bill", "willem", "robert", "roberta", "bob", "elizabeth", "elisabeth", "beth",
         "maria", "mario", "marie", "stephen", "steven", "stefan", "ann", "anne", "anna", "li"]  # fmt: skip
LAST = ["smith", "smyth", "smithe", "schmidt", "johnson", "johnston", "jonson", "anderson", "andersen",
        "macdonald", "mcdonald", "nguyen", "ngyuen", "garcia", "garza", "rodriguez", "rodrigues", "lee",
        "leigh", "o", "brown", "braun", "browne", "washington", "wahsington"]  # fmt: skip
LETTERS = "abcdehijklmnorstuy"


def _people(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    people = []
    for _ in range(count):
        middle = rng.choice(["", rng.choice(FIRST), rng.choice(LETTERS)])
        people.append(" ".join(p for p in (rng.choice(FIRST), middle, rng.choice(LAST)) if p))
    return people


def _index(path: Path, people: list[str]) -> TantivyEngine:
    engine = TantivyEngine(path)
    with engine.writer() as session:
        documents = []
        for number, name in enumerate(people, start=1):
            doc = SearchDocument(record_id=number, entity_index=0, entity_type="Person")
            doc.add("kind", "entity")
            _add_name(doc, "name", name)
            documents.append(doc)
        session.add(documents)
        session.commit(1)
    return engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> TantivyEngine:
    return _index(tmp_path_factory.mktemp("vocabulary"), _people(600, seed=11))


@contextmanager
def disjunction_max() -> Iterator[None]:
    """Name tokens compiled as before: each weighted way in a disjunction max, a fuzzy
    allowance as tantivy's fuzzy query."""

    def name_token(
        self: Compiler, token: str, part: str, nicknames: bool = True, vocabulary: VocabularyView | None = None
    ) -> tantivy.Query:
        ways, _ = self.name_ways(token, part, nicknames, None)
        return self.any_of([self.score(query, weight) for weight, query in ways])

    with patch.object(Compiler, "name_token", name_token):
        yield


def _found(searcher: tantivy.Searcher, query: tantivy.Query) -> tuple[int, set[tuple[float, int, int]]]:
    result = searcher.search(query, 10_000, count=True)
    count = int(getattr(result, "count", 0) or 0)  # asked for: count=True
    return count, {(round(s, 5), a.segment_ord, a.doc) for s, a in result.hits}


def _edit(word: str, edits: list[tuple[int, int, str]]) -> str:
    letters = list(word)
    for kind, where, letter in edits:
        if not letters:
            break
        at = where % len(letters)
        if kind == 0:
            letters[at] = letter
        elif kind == 1:
            letters.insert(at, letter)
        elif kind == 2 and len(letters) > 1:
            del letters[at]
        elif kind == 3 and at + 1 < len(letters):
            letters[at], letters[at + 1] = letters[at + 1], letters[at]
    return "".join(letters)


edits = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.sampled_from(LETTERS)), max_size=3)
tokens = st.builds(_edit, st.sampled_from(FIRST + LAST), edits)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=tokens, field=st.sampled_from(["n_all", "n_first", "n_last", "n_middle"]))
def test_spelled_out_terms_find_the_documents_of_tantivys_fuzzy_query(
    engine: TantivyEngine, token: str, field: str
) -> None:
    distance = fuzzy_distance(token)
    if not distance:
        return
    searcher, vocabulary = engine.snapshot()
    spelled = vocabulary.fuzzy_terms(field, token, distance)
    assert spelled is not None and token not in spelled
    terms = [tantivy.Query.term_query(engine.schema, field, term) for term in [token, *spelled]]
    union = tantivy.Query.boolean_query([(tantivy.Occur.Should, query) for query in terms])
    automaton = tantivy.Query.fuzzy_term_query(engine.schema, field, token, distance)
    spelled_out = {(segment, doc) for _, segment, doc in _found(searcher, union)[1]}
    assert spelled_out == {(segment, doc) for _, segment, doc in _found(searcher, automaton)[1]}


queries = st.tuples(tokens, st.sampled_from(["", *LETTERS, *FIRST]), tokens, st.booleans())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=queries)
def test_name_queries_find_and_score_as_the_disjunction_max_did(
    engine: TantivyEngine, parts: tuple[str, str, str, bool]
) -> None:
    first, middle, last, by_part = parts
    text = f'first:"{first}" last:"{last}"' if by_part else f'name:"{" ".join(p for p in (first, middle, last) if p)}"'
    node = parse(text)
    searcher, vocabulary = engine.snapshot()
    with disjunction_max():
        before = _found(searcher, engine.compiler.compile(node))
    assert _found(searcher, engine.compiler.compile(node, vocabulary)) == before


def test_a_field_with_too_many_terms_keeps_tantivys_fuzzy_query(
    engine: TantivyEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vocabulary_module, "VOCABULARY_LIMIT", 10)
    searcher, _ = engine.snapshot()
    vocabulary = NameVocabulary().at(searcher, engine.generation)
    assert vocabulary.fuzzy_terms("n_all", "jonathen", 2) is None
    node = parse('name:"jonathen smyth"')
    with disjunction_max():
        before = _found(searcher, engine.compiler.compile(node))
    assert before[0] > 0
    assert _found(searcher, engine.compiler.compile(node, vocabulary)) == before


def test_a_name_indexed_later_is_found_once_the_engine_reloads(tmp_path: Path) -> None:
    engine = _index(tmp_path / "index", ["jonathan smith"])
    node = parse('name:"jonathen smith"')
    searcher, vocabulary = engine.snapshot()
    assert vocabulary.fuzzy_terms("n_all", "jonathen", 2) == ["jonathan"]
    assert _found(searcher, engine.compiler.compile(node, vocabulary))[0] == 1

    with engine.writer() as session:  # leaving the writer reloads: a new generation
        doc = SearchDocument(record_id=2, entity_index=0, entity_type="Person")
        _add_name(doc, "name", "jonathon smith")
        session.add([doc])
        session.commit(2)

    searcher, fresh = engine.snapshot()
    assert fresh.generation > vocabulary.generation
    assert fresh.fuzzy_terms("n_all", "jonathen", 2) == ["jonathan", "jonathon"]
    assert _found(searcher, engine.compiler.compile(node, fresh))[0] == 2


@settings(max_examples=300, deadline=None)
@given(
    terms=st.lists(st.text(alphabet="abcdeéñ'-", min_size=1, max_size=9), max_size=60, unique=True),
    token=st.text(alphabet="abcdeéñ'-", min_size=1, max_size=9),
    distance=st.integers(1, 2),
)
def test_the_character_masks_rule_out_no_term_within_reach(terms: list[str], token: str, distance: int) -> None:
    by_length: dict[int, _Bucket] = {}
    for term in terms:
        by_length.setdefault(len(term), _Bucket()).add([term])  # added one by one: masks grow
    found = sorted(term for bucket in by_length.values() for term in bucket.near(token, distance))
    assert found == sorted(t for t in terms if t != token and OSA.distance(token, t) <= distance)


def test_the_generations_remembered_stay_few(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vocabulary_module, "GENERATIONS_KEPT", 4)
    engine = _index(tmp_path / "index", ["jonathan smith"])
    vocabulary = NameVocabulary()
    searcher, _ = engine.snapshot()
    for generation in range(1, 12):
        assert vocabulary.at(searcher, generation).fuzzy_terms("n_all", "jonathen", 2) == ["jonathan"]
    listed = vocabulary._fields["n_all"].listed
    assert len(listed) <= 4 and max(listed) == 11
