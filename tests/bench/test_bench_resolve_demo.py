"""The scoring of bench/resolve.py's demo row: hand-checked, and against brute force on generated data."""

from __future__ import annotations

import itertools
from pathlib import Path

from bench.resolve_demo import NONE, Key, Truth, read_truth, score_clusters, score_edges
from fusionhub.demo.generator import GROUND_TRUTH, generate


def _t(person: str, *kinds: str) -> Truth:
    return Truth(person, frozenset(kinds))


def test_hand_checked_case() -> None:
    # P1 = a (clean), b (nickname), c (typo); P2 = d (clean), e (swap); P3 = f (clean).
    truth: dict[Key, Truth] = {
        ("s1", "a"): _t("P1"),
        ("s2", "b"): _t("P1", "nickname"),
        ("s3", "c"): _t("P1", "typo"),
        ("s1", "d"): _t("P2"),
        ("s2", "e"): _t("P2", "swap"),
        ("s3", "f"): _t("P3"),
    }
    # Clusters {a, b}, {c}, {d, e, f}: c split off P1, f wrongly joined to P2.
    clusters = {("s1", "a"): "X", ("s2", "b"): "X", ("s3", "c"): "Y"} | dict.fromkeys(
        [("s1", "d"), ("s2", "e"), ("s3", "f")], "Z"
    )
    scored = score_clusters(clusters, truth)
    # True pairs ab, ac, bc, de; predicted ab, de, df, ef; hits ab, de.
    assert (scored["true_pairs"], scored["predicted_pairs"], scored["missed"], scored["false"]) == (4, 4, 2, 2)
    assert scored["pairs"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert scored["errors_by_variation"] == {
        # missed ac (typo) and bc (nickname + typo); false df (neither varied) and ef (swap)
        "nickname": {"true_pairs": 2, "missed": 1, "false": 0},
        NONE: {"true_pairs": 0, "missed": 0, "false": 1},
        "swap": {"true_pairs": 1, "missed": 0, "false": 1},
        "typo": {"true_pairs": 2, "missed": 2, "false": 0},
    }
    # A record the store holds no cluster for stands alone: without c's singleton cluster
    # Y the figures are the same.
    assert score_clusters({k: v for k, v in clusters.items() if k != ("s3", "c")}, truth)["pairs"] == scored["pairs"]
    edges = [(("s1", "a"), ("s2", "b")), (("s2", "b"), ("s1", "a")), (("s1", "d"), ("s3", "f"))]
    assert score_edges(edges, truth) == {"precision": 0.5, "recall": 0.25, "f1": 0.33333}


def _brute(clusters: dict[Key, str], truth: dict[Key, Truth]) -> tuple[int, int, int, dict[str, list[int]]]:
    hits = predicted = true = 0
    split: dict[str, list[int]] = {}
    for a, b in itertools.combinations(truth, 2):
        same_person = truth[a].person == truth[b].person
        same_cluster = clusters[a] == clusters[b]
        hits += same_person and same_cluster
        predicted += same_cluster
        true += same_person
        for kind in (truth[a].kinds | truth[b].kinds) or {NONE}:
            counts = split.setdefault(kind, [0, 0, 0])
            counts[0] += same_person
            counts[1] += same_person and not same_cluster
            counts[2] += same_cluster and not same_person
    return hits, predicted, true, {k: v for k, v in split.items() if any(v)}


def test_scoring_matches_brute_force_on_generated_demo(tmp_path: Path) -> None:
    generate(tmp_path, size=240, seed=5)
    truth = read_truth(tmp_path / GROUND_TRUTH)
    # LPR reads name no person; every other record does.
    assert truth and all(source != "demo-chi-lpr" for source, _ in truth)
    perfect = {key: fact.person for key, fact in truth.items()}
    scored = score_clusters(perfect, truth)
    assert scored["pairs"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert scored["missed"] == scored["false"] == 0 and scored["true_pairs"] > 0
    # A wrong clustering: every third record split off, and persons merged in pairs.
    persons = sorted({fact.person for fact in truth.values()})
    merged = {p: persons[i - i % 2] for i, p in enumerate(persons)}
    wrong = {key: (f"alone{i}" if i % 3 == 0 else merged[fact.person]) for i, (key, fact) in enumerate(truth.items())}
    scored = score_clusters(wrong, truth)
    hits, predicted, true, split = _brute(wrong, truth)
    assert (scored["true_pairs"], scored["predicted_pairs"]) == (true, predicted)
    assert scored["missed"] == true - hits and scored["false"] == predicted - hits
    assert {k: [v["true_pairs"], v["missed"], v["false"]] for k, v in scored["errors_by_variation"].items()} == split
    assert {"nickname", "typo", "middle_missing", NONE} <= set(split)
