"""Where the model runs: Splink on DuckDB (the product default) or on Spark (the scale path).

An engine loads person rows (a tab-separated file from ``features.rows_to_tsv``) into
its backend, measures how full each column is, trains or loads a model and scores
pairs. Both engines run the very same Splink settings; only the table loading differs.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from splink import Linker

from fusionhub.resolve import model as m
from fusionhub.resolve.features import COLUMNS

log = logging.getLogger(__name__)


@dataclass
class ScoredPair:
    left: str
    right: str
    probability: float
    weight: float
    #: Match weight each comparison added (positive) or took away (negative).
    weights: dict[str, float]


class Engine:
    """Common flow; subclasses load tables and read results for their backend."""

    dialect = "duckdb"

    def load(self, tsv: Path, name: str) -> None:
        raise NotImplementedError

    def db_api(self) -> Any:
        raise NotImplementedError

    def fill(self, name: str) -> dict[str, float]:
        raise NotImplementedError

    def fetch(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
        raise NotImplementedError

    def close(self) -> None:
        return None

    # -- the Splink flow, the same on every backend --------------------------------
    def linker(self, tables: list[str], settings: Any) -> Linker:
        api = self.db_api()
        frames = [api.register(t) for t in tables]
        return Linker(frames if len(frames) > 1 else frames[0], settings, log_level=logging.WARNING)

    def train(self, tables: list[str], link_type: m.LinkType = "dedupe_only") -> dict[str, Any]:
        fill = self._combined_fill(tables)
        settings = m.settings_for(fill, link_type, self.dialect)
        linker = self.linker(tables, settings)
        started = time.perf_counter()
        m.train(linker, fill)
        trained: dict[str, Any] = linker.misc.save_model_to_json()
        trained["fusionhub"] = {"fill": fill, "training_seconds": round(time.perf_counter() - started, 2)}
        return trained

    def _combined_fill(self, tables: list[str]) -> dict[str, float]:
        fills = [self.fill(t) for t in tables]
        return {c: min(f.get(c, 0.0) for f in fills) for c in COLUMNS}

    def predict(self, tables: list[str], model: dict[str, Any], threshold: float) -> Iterator[ScoredPair]:
        settings = scoring_settings(model, self.dialect)
        linker = self.linker(tables, settings)
        frame = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        yield from self._scored(frame.physical_name, model)

    def predict_between(self, existing: str, new: str, model: dict[str, Any], threshold: float) -> Iterator[ScoredPair]:
        """Pairs between the new rows and the existing ones, and within the new ones."""
        settings = scoring_settings(model, self.dialect)
        linker = self.linker([existing], settings)
        api = linker._db_api
        new_frame = api.register(new, table_name=f"{new}_role_new")
        old_frame = api.register(existing, table_name=f"{existing}_role_old")
        between = linker.inference.predict_between(
            old_frame, new_frame, threshold_match_probability=threshold, warning_mode="never"
        )
        yield from self._scored(between.physical_name, model)
        within = linker.inference.predict_within(new_frame, threshold_match_probability=threshold, warning_mode="never")
        yield from self._scored(within.physical_name, model)

    def _scored(self, table: str, model: dict[str, Any]) -> Iterator[ScoredPair]:
        names = [str(c.get("output_column_name")) for c in model.get("comparisons", [])]
        columns = ["unique_id_l", "unique_id_r", "match_probability", "match_weight", *[f"mw_{n}" for n in names]]
        for row in self.fetch(table, columns):
            yield ScoredPair(
                str(row[0]),
                str(row[1]),
                float(row[2]),
                float(row[3]),
                {n: float(w) for n, w in zip(names, row[4:], strict=True)},
            )


def scoring_settings(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The trained model as Splink settings for this backend that keep each comparison's weight."""
    settings = {k: v for k, v in m.port(model, dialect).items() if k != "fusionhub"}
    settings["retain_intermediate_calculation_columns"] = True
    return settings


def _fill_sql(name: str) -> str:
    parts = ", ".join(f"count({c})" for c in COLUMNS)
    return f"SELECT count(*), {parts} FROM {name}"


class DuckDBEngine(Engine):
    dialect = "duckdb"

    def __init__(self, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="fusionhub-resolve-")
        self.con = duckdb.connect(str(Path(self.tmp.name) / "resolve.duckdb"))
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute(f"SET temp_directory = '{Path(self.tmp.name) / 'spill'}'")
        self._api: Any = None

    def db_api(self) -> Any:
        if self._api is None:
            from splink import DuckDBAPI

            self._api = DuckDBAPI(self.con)
        return self._api

    def load(self, tsv: Path, name: str) -> None:
        selects = [
            f"CASE WHEN {c} IS NULL THEN NULL ELSE string_split({c}, '|') END AS {c}" if c in m.ARRAY_COLUMNS else c
            for c in COLUMNS
        ]
        types = ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS)
        self.con.execute(
            f"CREATE OR REPLACE TABLE {name} AS SELECT {', '.join(selects)} FROM read_csv("
            f"'{tsv}', delim='\t', header=true, quote='', escape='', nullstr='', columns={{{types}}})"
        )

    def fill(self, name: str) -> dict[str, float]:
        row = self.con.execute(_fill_sql(name)).fetchall()[0]
        total = int(row[0])
        return m.fill_rates({c: int(v) for c, v in zip(COLUMNS, row[1:], strict=True)}, total)

    def fetch(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
        cursor = self.con.cursor().execute(f"SELECT {', '.join(columns)} FROM {table}")
        while True:
            batch = cursor.fetchmany(50_000)
            if not batch:
                return
            yield from batch

    def close(self) -> None:
        self.con.close()
        self.tmp.cleanup()


class SparkEngine(Engine):
    """Splink on Spark. ``spark`` is a SparkSession: local mode in tests, a cluster in production."""

    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._api: Any = None

    def db_api(self) -> Any:
        if self._api is None:
            from splink import SparkAPI

            partitions = int(self.spark.conf.get("spark.sql.shuffle.partitions", "200"))
            self._api = SparkAPI(  # type: ignore[no-untyped-call]
                spark_session=self.spark, break_lineage_method="persist", num_partitions_on_repartition=partitions
            )
        return self._api

    def load(self, tsv: Path, name: str) -> None:
        from pyspark.sql import functions as F

        frame = self.spark.read.csv(str(tsv), sep="\t", header=True, quote="", escape="", nullValue="")
        for column in m.ARRAY_COLUMNS:
            frame = frame.withColumn(column, F.split(F.col(column), r"\|"))
        frame.createOrReplaceTempView(name)

    def fill(self, name: str) -> dict[str, float]:
        row = self.spark.sql(_fill_sql(name)).collect()[0]
        total = int(row[0])
        return m.fill_rates({c: int(v) for c, v in zip(COLUMNS, list(row)[1:], strict=True)}, total)

    def fetch(self, table: str, columns: list[str]) -> Iterator[tuple[Any, ...]]:
        for row in self.spark.sql(f"SELECT {', '.join(columns)} FROM {table}").toLocalIterator():
            yield tuple(row)


def local_spark(cores: int = 2, shuffle_partitions: int = 4, app: str = "fusionhub-resolve") -> Any:
    """A local-mode SparkSession sized for a small machine (the scale path's test bed)."""
    from pyspark.sql import SparkSession
    from splink.internals.spark.jar_location import similarity_jar_location

    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app)
        # Splink's string-similarity UDFs (Jaro-Winkler, Damerau-Levenshtein) ship as a jar.
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.adaptive.enabled", "true")
        .getOrCreate()
    )


def model_json(model: dict[str, Any]) -> str:
    return json.dumps(model, sort_keys=True)
