"""The person-matching model: Splink (Fellegi–Sunter) settings, unsupervised training,
prediction with a per-comparison weight breakdown, on DuckDB or Spark.

The model is trained on the deployment's own data and never on labels:

* lambda (the prior that two random records match) from deterministic rules that
  admit almost no false positives (same identifier and birth date; same full name and
  birth date), corrected for their assumed recall;
* u probabilities by random sampling of record pairs (pairs of random records are
  almost all non-matches);
* m probabilities by expectation maximisation on two blocking rules, each of which
  leaves the other's comparisons free to be estimated.

The trained model is Splink's own settings JSON; ``fusionhub.resolve.store`` saves
it with a version number and training time. Comparisons are included only for the
columns a data set actually fills, so the FEBRL files and an RMS with phones get
models that fit them; the saved JSON says which.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator

from fusionhub.resolve.features import COLUMNS

log = logging.getLogger(__name__)
LinkType = Literal["link_only", "link_and_dedupe", "dedupe_only"]

#: A pair at or above this match probability is the same person. Chosen once on the
#: model's own calibration (it is a probability, not a tuned score); never from labels.
DEFAULT_THRESHOLD = 0.9
SEED = 7
#: A column filled in fewer rows than this share gets no comparison (it would train on noise).
MIN_FILL = 0.01
#: The smallest prior match probability the model will use (1 in 10 million pairs).
LAMBDA_FLOOR = 1e-7
#: Columns kept as arrays in the backend table ("a|b|c" in the person rows).
ARRAY_COLUMNS = ("given_nick", "surname_tokens")


#: SQL function names per Splink backend (the only place the dialects differ here).
FUNCTIONS = {
    "duckdb": {"lev": "levenshtein", "dl": "damerau_levenshtein", "jw": "jaro_winkler_similarity"},
    "spark": {"lev": "levenshtein", "dl": "damerau_levenshtein", "jw": "jaro_winkler"},
}
_DIALECT = "duckdb"


def _fn(name: str) -> str:
    return FUNCTIONS[_DIALECT][name]


def dl_level(col: str, k: int, label: str) -> Any:
    """Damerau-Levenshtein <= k, computed only where plain Levenshtein is already close.

    Damerau-Levenshtein is several times dearer than Levenshtein in DuckDB and a pair
    within k transpositions is within 2k plain edits, so the CASE (which SQL evaluates
    lazily, unlike AND) skips the dear function for the vast majority of pairs.
    """
    a, b = f"{col}_l", f"{col}_r"
    sql = f"(CASE WHEN {_fn('lev')}({a}, {b}) <= {2 * k} THEN {_fn('dl')}({a}, {b}) ELSE {2 * k + 1} END) <= {k}"
    return cll.CustomLevel(sql, label_for_charts=label)


def _name_levels(col: str, mp: str) -> list[Any]:
    return [
        cll.NullLevel(col),
        cll.ExactMatchLevel(col).configure(label_for_charts="exact"),
        dl_level(col, 1, "one typo or transposition"),
        cll.JaroWinklerLevel(col, 0.92).configure(label_for_charts="Jaro-Winkler >= 0.92"),
    ]


def given_name_comparison() -> ComparisonCreator:
    levels = _name_levels("given", "given_mp")
    levels[2:2] = [
        cll.CustomLevel(
            f"{_fn('jw')}(given_l, surname_r) >= 0.9 AND {_fn('jw')}(surname_l, given_r) >= 0.9",
            label_for_charts="given name and surname swapped",
        )
    ]
    levels += [
        cll.ArrayIntersectLevel("given_nick", 1).configure(label_for_charts="nickname of the same name"),
        cll.CustomLevel("given_mp_l = given_mp_r", label_for_charts="sounds alike (Metaphone)"),
        cll.JaroWinklerLevel("given", 0.8).configure(label_for_charts="Jaro-Winkler >= 0.8"),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="given", comparison_description="given name")


def surname_comparison() -> ComparisonCreator:
    levels = _name_levels("surname", "surname_mp")
    levels += [
        cll.CustomLevel("surname_mp_l = surname_mp_r", label_for_charts="sounds alike (Metaphone)"),
        cll.ArrayIntersectLevel("surname_tokens", 1).configure(label_for_charts="shares a part of a compound surname"),
        cll.JaroWinklerLevel("surname", 0.8).configure(label_for_charts="Jaro-Winkler >= 0.8"),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(levels, output_column_name="surname", comparison_description="surname")


def dob_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        [
            cll.NullLevel("dob_digits"),
            cll.ExactMatchLevel("dob_digits").configure(label_for_charts="exact"),
            cll.CustomLevel("dob_l = dob_swap_r", label_for_charts="day and month swapped"),
            dl_level("dob_digits", 1, "one digit wrong or transposed"),
            dl_level("dob_digits", 2, "two digits wrong"),
            cll.CustomLevel(
                "substr(dob_digits_l, 1, 4) = substr(dob_digits_r, 1, 4)", label_for_charts="same year of birth"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="dob",
        comparison_description="date of birth",
    )


def _fuzzy_id(col: str, description: str) -> ComparisonCreator:
    return cl.CustomComparison(
        [
            cll.NullLevel(col),
            cll.ExactMatchLevel(col).configure(label_for_charts="exact"),
            dl_level(col, 1, "one character wrong or transposed"),
            dl_level(col, 2, "two characters wrong"),
            cll.ElseLevel(),
        ],
        output_column_name=col,
        comparison_description=description,
    )


def _text(col: str, description: str, thresholds: Sequence[float]) -> ComparisonCreator:
    levels: list[Any] = [cll.NullLevel(col), cll.ExactMatchLevel(col).configure(label_for_charts="exact")]
    levels += [cll.JaroWinklerLevel(col, t).configure(label_for_charts=f"Jaro-Winkler >= {t}") for t in thresholds]
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(levels, output_column_name=col, comparison_description=description)


def _exact(col: str, description: str) -> ComparisonCreator:
    return cl.CustomComparison(
        [cll.NullLevel(col), cll.ExactMatchLevel(col).configure(label_for_charts="exact"), cll.ElseLevel()],
        output_column_name=col,
        comparison_description=description,
    )


def phone_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        [
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone").configure(label_for_charts="exact"),
            cll.CustomLevel(
                "substr(phone_l, length(phone_l) - 6, 7) = substr(phone_r, length(phone_r) - 6, 7)",
                label_for_charts="same last seven digits",
            ),
            dl_level("phone", 1, "one digit wrong or transposed"),
            cll.ElseLevel(),
        ],
        output_column_name="phone",
        comparison_description="phone",
    )


def middle_comparison() -> ComparisonCreator:
    return cl.CustomComparison(
        [
            cll.NullLevel("middle"),
            cll.ExactMatchLevel("middle").configure(label_for_charts="exact"),
            cll.CustomLevel("substr(middle_l, 1, 1) = substr(middle_r, 1, 1)", label_for_charts="same initial"),
            cll.ElseLevel(),
        ],
        output_column_name="middle",
        comparison_description="middle name",
    )


def address_comparison() -> ComparisonCreator:
    # House number and street are one address: compared apart, a shared address would
    # count twice (their agreements are not independent, as Fellegi-Sunter assumes).
    return cl.CustomComparison(
        [
            cll.NullLevel("street"),
            cll.CustomLevel(
                "street_l = street_r AND street_number_l = street_number_r",
                label_for_charts="same house number and street",
            ),
            cll.ExactMatchLevel("street").configure(label_for_charts="same street"),
            cll.JaroWinklerLevel("street", 0.9).configure(label_for_charts="street Jaro-Winkler >= 0.9"),
            cll.JaroWinklerLevel("street", 0.75).configure(label_for_charts="street Jaro-Winkler >= 0.75"),
            cll.ElseLevel(),
        ],
        output_column_name="street",
        comparison_description="house number and street",
    )


#: Comparison per feature column (the column whose fill decides whether it is used).
COMPARISONS: dict[str, Any] = {
    "given": given_name_comparison,
    "surname": surname_comparison,
    "middle": middle_comparison,
    "dob_digits": dob_comparison,
    "sex": lambda: _exact("sex", "sex"),
    "ident": lambda: _fuzzy_id("ident", "identifier (SSN or other)"),
    "street": address_comparison,
    "locality": lambda: _text("locality", "neighbourhood or building", (0.9, 0.75)),
    "city": lambda: _text("city", "city or suburb", (0.9,)),
    "postcode": lambda: _fuzzy_id("postcode", "postal code"),
    "state": lambda: _exact("state", "state"),
    "phone": phone_comparison,
}

#: Candidate pairs are the union of these blocks; a true pair needs to agree on one.
PREDICTION_BLOCKS: list[tuple[str, ...]] = [
    ("given_mp", "surname_mp"),
    ("given", "dob_digits"),
    ("surname", "dob_digits"),
    ("dob_digits", "postcode"),
    ("ident",),
    ("phone",),
    ("postcode", "street_number"),
    ("dob_digits", "street_number"),
    ("dob_digits", "city"),
    ("street", "street_number", "city"),
    ("given", "street"),
    ("surname", "street"),
    ("street", "street_number", "surname_mp"),
    ("given_mp", "postcode"),
    ("surname_mp", "postcode"),
]
SWAP_BLOCK = "l.given = r.surname AND l.surname = r.given"


def blocking_rules(fill: dict[str, float]) -> list[BlockingRuleCreator | dict[str, Any]]:
    rules: list[BlockingRuleCreator | dict[str, Any]] = [
        block_on(*cols) for cols in PREDICTION_BLOCKS if all(fill.get(c, 0) >= MIN_FILL for c in cols)
    ]
    rules.append({"blocking_rule": SWAP_BLOCK, "sql_dialect": None})
    return rules


def settings_for(
    fill: dict[str, float], link_type: LinkType = "dedupe_only", dialect: str = "duckdb"
) -> SettingsCreator:
    global _DIALECT
    _DIALECT = dialect
    comparisons = [make() for col, make in COMPARISONS.items() if fill.get(col, 0) >= MIN_FILL]
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking_rules(fill),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
    )


def port(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The trained model for another backend: the same comparisons written in that
    backend's SQL, with the trained m and u probabilities and prior carried over."""
    if model.get("sql_dialect") == dialect:
        return model
    meta = model.get("fusionhub", {})
    creator = settings_for(meta.get("fill", {}), model.get("link_type", "dedupe_only"), dialect)
    ported: dict[str, Any] = creator.create_settings_dict(dialect)
    for target, trained in zip(ported["comparisons"], model["comparisons"], strict=True):
        for level, trained_level in zip(target["comparison_levels"], trained["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if key in trained_level:
                    level[key] = trained_level[key]
    ported["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    ported["sql_dialect"] = dialect
    ported["fusionhub"] = meta
    return ported


@dataclass
class TrainingReport:
    pairs_for_u: float
    em_rules: list[str]
    seconds: float = 0.0
    fill: dict[str, float] = field(default_factory=dict)


def train(linker: Linker, fill: dict[str, float], *, max_pairs_u: float = 1e6, em_max_pairs: float = 2e6) -> None:
    """Unsupervised estimation: lambda by deterministic rules, u by sampling, m by EM."""
    deterministic: list[str | BlockingRuleCreator] = [
        "l.given = r.given AND l.surname = r.surname AND l.dob_digits = r.dob_digits"
    ]
    if fill.get("ident", 0) >= MIN_FILL:
        deterministic.append("l.ident = r.ident AND l.dob_digits = r.dob_digits")
    settings = linker._settings_obj
    try:
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    except ValueError as exc:
        log.warning("lambda from deterministic rules failed (%s); using the floor", exc)
    if not 0 < settings._probability_two_random_records_match < 1:
        # No sure matches at all (a first load without duplicates): a small prior, not zero.
        settings._probability_two_random_records_match = LAMBDA_FLOOR
    settings._probability_two_random_records_match = max(settings._probability_two_random_records_match, LAMBDA_FLOOR)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_u, seed=SEED)
    # Each EM pass fixes the comparisons in its blocking rule and estimates the others.
    em_rules: list[BlockingRuleCreator] = []
    if fill.get("dob_digits", 0) >= MIN_FILL:
        em_rules.append(block_on("dob_digits"))
    em_rules.append(block_on("given", "surname"))
    if fill.get("postcode", 0) >= MIN_FILL and fill.get("street_number", 0) >= MIN_FILL:
        em_rules.append(block_on("postcode", "street_number"))
    for rule in em_rules:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True, max_pairs=em_max_pairs
            )
        except (ValueError, ZeroDivisionError) as exc:
            # Too few pairs in this block to estimate from (tiny or duplicate-free data):
            # the comparisons keep their other passes' or Splink's default m values.
            log.warning("EM on %s could not converge (%s); skipped", rule, exc)
    if not LAMBDA_FLOOR <= settings._probability_two_random_records_match < 1:
        settings._probability_two_random_records_match = LAMBDA_FLOOR


# -- reading the trained model: why a pair scored what it did ------------------------


@dataclass
class LevelInfo:
    label: str
    weight: float  # log2(m/u); 0 for the null level (no evidence either way)


def level_table(model: dict[str, Any]) -> dict[str, list[LevelInfo]]:
    """comparison output name -> its levels with label and match weight."""
    table: dict[str, list[LevelInfo]] = {}
    for comparison in model.get("comparisons", []):
        name = str(comparison.get("output_column_name") or comparison.get("comparison_description"))
        levels = []
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                levels.append(LevelInfo("missing on one side", 0.0))
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else 0.0
            levels.append(LevelInfo(str(level.get("label_for_charts") or level.get("sql_condition")), weight))
        table[name] = levels
    return table


def prior_weight(model: dict[str, Any]) -> float:
    p = float(model.get("probability_two_random_records_match") or 1e-6)
    return math.log2(p / (1 - p))


def breakdown(weights: dict[str, float], levels: dict[str, list[LevelInfo]], prior: float) -> dict[str, Any]:
    """The weight each comparison added or took away for one scored pair, with the
    level it fell in (the level whose trained weight it carries)."""
    parts = []
    for name, weight in weights.items():
        candidates = levels.get(name, [])
        label = min(candidates, key=lambda lv: abs(lv.weight - weight)).label if candidates else "?"
        parts.append({"comparison": name, "level": label, "weight": round(weight, 3)})
    total = prior + sum(weight for weight in weights.values())
    return {"prior": round(prior, 3), "comparisons": parts, "match_weight": round(total, 3)}


def probability(weight: float) -> float:
    return float(1.0 / (1.0 + 2.0 ** (-weight)))


def fill_rates(counts: dict[str, int], total: int) -> dict[str, float]:
    return {c: (counts.get(c, 0) / total if total else 0.0) for c in COLUMNS}
