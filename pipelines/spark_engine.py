"""The Spark engine: the same SQL models and checks, run on Apache Spark instead of DuckDB.

Ingestion, staging, the expectation suites and the publication stay on DuckDB; only the SQL layer
(``sql/intermediate``, ``sql/marts``, ``sql/checks``) moves. Tables cross between the two engines
as Parquet in ``<warehouse>/spark/<layer>.<table>/``:
- a table a query reads is exported from the working database once per data version (a
  ``_version`` file beside the Parquet says which), unless Spark wrote it itself;
- Spark writes a model's result there, and the working database loads it back into
  ``<layer>.<table>``, cast to the mart's contract, so that the grain checks, the expectation
  suites, the month-end close and the publication read the same table whichever engine built it.

Each query is transpiled from DuckDB's dialect by ``pipelines.spark_sql``. The Spark session
(``local[*]`` by default, a cluster through Spark Connect when a remote is set) starts at the
first query of a process and serves every later one; pyspark is imported only then.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.spark_sql import spark_type, to_spark
from pipelines.sql_models import SqlModel, use_model_schemas
from pipelines.sqlutil import ident, literal

ENGINES = ("duckdb", "spark")
VERSION_FILE = "_version"


class EngineError(Exception):
    """An engine that cannot be used: the message says what to set or install."""


@dataclass(frozen=True)
class SparkSettings:
    """Where Spark runs: ``master`` for a session in this process (``local[*]``, ``local[2]``),
    or ``remote`` (``sc://host:15002``) for a Spark Connect server, which then wins."""

    master: str = "local[*]"
    remote: str = ""
    driver_memory: str = "2g"


_session: dict[str, object] = {}  # the process's one session: {"settings": ..., "session": ...}


def spark_session(settings: SparkSettings):
    """The process's Spark session for ``settings``, started on first use; a process has one, so
    a session with other settings is stopped first (Spark would silently keep the old master).

    The session time zone is UTC (the contract's timestamps are UTC), ANSI mode is on, so that an
    overflow or a bad cast fails the query as it does on DuckDB instead of giving NULL, and
    timestamps are written as Parquet's microsecond timestamps, which DuckDB reads as it wrote them.
    """
    if _session.get("settings") == settings:
        return _session["session"]
    if _session:
        _session.pop("session").stop()
        _session.clear()
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # the optional dependency group
        raise EngineError(
            "the spark engine needs pyspark: `uv sync --group spark` (bash scripts/ee does it when "
            "EE_ENGINE=spark) and Java 17 (apt install openjdk-17-jre-headless)"
        ) from error
    builder = SparkSession.builder.appName("engagement-economics")
    if settings.remote:
        builder = builder.remote(settings.remote)
    else:
        builder = (
            builder.master(settings.master)
            .config("spark.driver.memory", settings.driver_memory)
            .config("spark.ui.enabled", "false")
            # no catalog tables are created, only temporary views: keep Spark's warehouse folder
            # out of the working directory
            .config("spark.sql.warehouse.dir", str(Path(tempfile.gettempdir()) / "ee-spark-warehouse"))
            # a model's tables are small next to Spark's default of 200 shuffle partitions
            .config("spark.sql.shuffle.partitions", "8")
        )
    session = (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")  # not the legacy INT96
        .getOrCreate()
    )
    if not settings.remote:
        session.sparkContext.setLogLevel("ERROR")
        atexit.register(session.stop)
    _session.update(settings=settings, session=session)
    return session


class SparkEngine:
    """Runs models and checks on Spark, with ``handover_dir`` as the Parquet between the engines.

    ``refresh``: export every table a query reads again, whatever its ``_version`` says (a full
    rebuild). The folder is given to Spark as an absolute ``file:`` URI: a Spark Connect server
    must see the same folder at the same path (a shared mount).
    """

    def __init__(self, settings: SparkSettings, handover_dir: Path, refresh: bool = False):
        self.settings = settings
        self.handover_dir = Path(handover_dir).absolute()
        self.refresh = refresh

    @property
    def session(self):
        return spark_session(self.settings)

    def _handed_over(self, con: duckdb.DuckDBPyConnection, relation: str, version: str | None) -> Path:
        """The Parquet folder of ``relation`` at ``version``, exported from the working database
        unless a folder of that version is already there."""
        folder = self.handover_dir / relation
        if not self.refresh and version is not None and _version_of(folder) == version:
            return folder
        staging = self._staging_folder(relation)
        try:
            con.execute(
                f"COPY (SELECT {_exported_columns(con, relation)} FROM {relation}) "
                f"TO {literal(str(staging / 'part-0.parquet'))} (FORMAT parquet)"
            )
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return _replace(staging, folder, version)

    def _staging_folder(self, relation: str) -> Path:
        folder = self.handover_dir / f".{relation}.{uuid.uuid4().hex}.tmp"
        folder.mkdir(parents=True)
        return folder

    def _query(self, con: duckdb.DuckDBPyConnection, sql: str, reads: dict[str, str | None]):
        """A Spark DataFrame of ``sql``, every table it reads (``relation → version``) handed over
        and registered as a temporary view named after the table."""
        spark = self.session
        for relation, version in reads.items():
            folder = self._handed_over(con, relation, version)
            spark.read.parquet(folder.as_uri()).createOrReplaceTempView(relation.rsplit(".", 1)[-1])
        return spark.sql(to_spark(sql))

    def build_model(
        self,
        con: duckdb.DuckDBPyConnection,
        model: SqlModel,
        reads: dict[str, str | None],
        version: str | None,
    ) -> None:
        """Run ``model`` on Spark and load its result into ``<layer>.<name>``. A mart's columns
        are cast to its contract on Spark already, so that the marts other models read have the
        same types on both engines."""
        staging = self._staging_folder(model.relation)
        try:
            with _failing_query_named(model.path):
                frame = self._query(con, model.sql, reads)
                if model.column_types:
                    frame = frame.selectExpr(*(
                        f"CAST({_quoted(c)} AS {spark_type(model.column_types[c])}) AS {_quoted(c)}"
                        if c in model.column_types else _quoted(c)
                        for c in frame.columns
                    ))  # fmt: skip
                frame.write.mode("overwrite").parquet(staging.as_uri())  # replaces the empty folder
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # no half-written folder is left behind
            raise
        folder = _replace(staging, self.handover_dir / model.relation, version)
        use_model_schemas(con)
        con.execute(
            f"CREATE OR REPLACE TABLE {model.relation} AS SELECT {_contract_casts(con, folder, model)} "
            f"FROM read_parquet({literal(str(folder / '*.parquet'))})"
        )

    def failing_rows(
        self, con: duckdb.DuckDBPyConnection, path: Path, sql: str, reads: dict[str, str | None]
    ):
        """What the check query of ``path`` returns on Spark: (column names, row count, the first
        10 rows)."""
        with _failing_query_named(path):
            frame = self._query(con, sql, reads)
            return frame.columns, frame.count(), [tuple(row) for row in frame.limit(10).collect()]


@contextmanager
def _failing_query_named(path: Path) -> Iterator[None]:
    """A query that cannot be transpiled, or that Spark refuses or fails, fails the step with the
    file it comes from and the first lines of the error (Spark's: error class, position in the
    transpiled SQL), not a Java stack trace."""
    try:
        yield
    except Exception as error:
        if (
            not type(error).__module__.startswith(("pyspark", "py4j", "sqlglot"))
            and type(error) is not ValueError
        ):
            raise
        lines = [line for line in str(error).splitlines() if line.strip()][:4]
        raise EngineError(f"{path}: failed on Spark: " + "\n".join(lines)) from error


def _quoted(column: str) -> str:
    return "`" + column.replace("`", "``") + "`"


def _exported_columns(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """A table's columns for Spark: a 128-bit integer (DuckDB's sum of integers) as DECIMAL(38, 0),
    which Parquet and Spark hold exactly (DuckDB would write it as a DOUBLE)."""
    columns = con.execute(f"DESCRIBE {relation}").fetchall()
    return ", ".join(
        f"CAST({ident(name)} AS DECIMAL(38, 0)) AS {ident(name)}"
        if data_type in ("HUGEINT", "UHUGEINT")
        else ident(name)
        for name, data_type, *_ in columns
    )


def _version_of(folder: Path) -> str | None:
    marker = folder / VERSION_FILE
    return marker.read_text() if marker.exists() else None


def _replace(staging: Path, folder: Path, version: str | None) -> Path:
    """Put the finished ``staging`` folder in place of ``folder``; a reader of the old folder, or
    a run killed half-way, never sees a folder whose ``_version`` does not match its Parquet."""
    if version is not None:
        (staging / VERSION_FILE).write_text(version)
    if folder.exists():
        retired = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.old")
        folder.rename(retired)
        shutil.rmtree(retired, ignore_errors=True)
    staging.rename(folder)
    return folder


def _contract_casts(con: duckdb.DuckDBPyConnection, folder: Path, model: SqlModel) -> str:
    """The select list that loads Spark's Parquet: a mart's columns cast to its contract (Spark
    types some expressions differently, e.g. DECIMAL(28,6) for a sum DuckDB types (38,6)), other
    models' columns as Spark wrote them."""
    columns = [
        row[0]
        for row in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({literal(str(folder / '*.parquet'))})"
        ).fetchall()
    ]
    return ", ".join(
        f"CAST({ident(c)} AS {model.column_types[c]}) AS {ident(c)}" if c in model.column_types else ident(c)
        for c in columns
    )
