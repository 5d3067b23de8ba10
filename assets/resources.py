"""Where the pipeline reads and writes, as one Dagster resource.

The three settings of the contract come from ``EE_*`` environment variables by default and can be
overridden in Dagster resource config. Assets never read globals: they get this resource.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Literal

import duckdb
from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipelines.landing import file_hash
from pipelines.spark_engine import ENGINES, EngineError, SparkEngine, SparkSettings
from pipelines.up_to_date import nothing_to_do

DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_WAREHOUSE_DIR = "data/warehouse"
DEFAULT_REPORTING_CURRENCY = "USD"
DEFAULT_SENSOR_INTERVAL_SECONDS = 60

WORKING_DB_NAME = "working.duckdb"
PUBLISHED_DB_NAME = "marts.duckdb"
DEFAULT_ENGAGEMENT_WEIGHTS_FILE = str(
    Path(__file__).resolve().parent.parent / "config" / "engagement_weights.yml"
)

# DuckDB allows one writing process per database file. Every asset and check that opens the
# working database is in this Dagster concurrency pool; the instance's dagster.yaml limits it to
# one step at a time across all runs, so two runs never open the file together.
WAREHOUSE_POOL = "duckdb_warehouse"

# Who answers for the tables built from the extract contract (the SQL models name their own).
PLATFORM_OWNER = "team:data-platform"


@functools.cache
def _shared_user_agent() -> str:
    """The user agent duckdb-engine (Great Expectations' driver) stamps on its connections.

    DuckDB refuses a second connection to a file in the same process unless its configuration is
    identical, and the user agent is part of it: Dagster's connections use the same one, so a
    validation can open the working database while a pipeline connection is still open.
    """
    import duckdb_engine
    import sqlalchemy
    import sqlalchemy.orm  # noqa: F401  (see below)

    # sqlalchemy.orm too: Dagster's event log queries (SQLAlchemy core, this thread) look up the
    # ORM's inspectors once it is imported, so a background import of it by Great Expectations
    # must never be half done while a step writes an event (seen: "partially initialized module
    # 'sqlalchemy.orm.exc'").
    return f"duckdb_engine/{duckdb_engine.__version__}(sqlalchemy/{sqlalchemy.__version__})"


DEFAULT_ENGINE = "duckdb"
DEFAULT_SPARK_MASTER = "local[*]"
DEFAULT_DUCKDB_MEMORY_LIMIT = "3GB"  # DuckDB's GB = 10^9 bytes; leaves ~1 GB of a 4 GB budget to Python


class WarehouseResource(ConfigurableResource):
    """Landing folder, warehouse folder, reporting currency and engagement weights file; opens
    the working DuckDB file."""

    landing_dir: str = DEFAULT_LANDING_DIR
    warehouse_dir: str = DEFAULT_WAREHOUSE_DIR
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY
    engagement_weights_file: str = DEFAULT_ENGAGEMENT_WEIGHTS_FILE
    # DuckDB's resources, set on every connection rather than left to its defaults (all cores,
    # 80% of the machine's memory, spill files beside the database): a run stays inside a known
    # budget on a shared machine. 0 threads = one per core; empty temp_dir = <warehouse>/tmp.
    duckdb_threads: int = 0
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_temp_dir: str = ""
    # Recompute everything, ignoring the data versions (pipelines.versions): for a suspected
    # stale table, or to measure a full run on an existing warehouse.
    full_rebuild: bool = False
    # The engine of the SQL layer (models and SQL checks): "duckdb", or "spark" with the same SQL
    # transpiled (pipelines.spark_engine); Spark runs in this process on spark_master, or on a
    # Spark Connect server when spark_remote (sc://host:15002) is set.
    engine: Literal["duckdb", "spark"] = DEFAULT_ENGINE
    spark_master: str = DEFAULT_SPARK_MASTER
    spark_remote: str = ""
    _run_database: ExitStack | None = PrivateAttr(default=None)  # in a run: closes its connection
    _database: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context) -> None:
        """At the start of a run: import the database driver modules Great Expectations shares
        with our connections, before a step may start GE's import in a background thread
        (``pipelines.background_imports``), so that two threads never import the same module at
        once. GE itself is imported only by a run that has something to validate.
        From here on ``connect`` shares one open database among the run's steps.
        """
        if context.run is None:  # a sensor's or schedule's evaluation, not a run
            return
        _shared_user_agent()
        self._run_database = ExitStack()

    @property
    def landing_path(self) -> Path:
        return Path(self.landing_dir)

    @property
    def working_db_path(self) -> Path:
        return Path(self.warehouse_dir) / WORKING_DB_NAME

    @property
    def published_db_path(self) -> Path:
        """The governed marts BI tools read: replaced whole by each publication."""
        return Path(self.warehouse_dir) / PUBLISHED_DB_NAME

    @property
    def parquet_dir(self) -> Path:
        return Path(self.warehouse_dir) / "parquet"

    @property
    def result_settings(self) -> dict[str, str]:
        """The settings a run's result depends on besides its files and code (the rest, threads
        or memory, change only how fast it comes): part of what a complete run records. The
        weights file counts by its content, wherever it is."""
        try:
            weights = file_hash(Path(self.engagement_weights_file))
        except OSError:
            weights = "unreadable"  # never recorded: a run with it fails
        return {
            "reporting_currency": self.reporting_currency,
            "engine": self.engine,
            "engagement_weights": weights,
        }

    def nothing_to_do(self) -> str | None:
        """The current publication's id when a run now would publish nothing new
        (``pipelines.up_to_date``); None when it has work to do or when forced to rebuild."""
        if self.full_rebuild:
            return None
        return nothing_to_do(
            self.working_db_path, Path(self.warehouse_dir), self.landing_path, self.result_settings
        )

    @property
    def spark_engine(self) -> SparkEngine | None:
        """The Spark engine when ``engine`` is "spark", None for DuckDB."""
        if self.engine == "duckdb":
            return None
        settings = SparkSettings(master=self.spark_master, remote=self.spark_remote)
        return SparkEngine(settings, Path(self.warehouse_dir) / "spark", refresh=self.full_rebuild)

    @property
    def validation_dir(self) -> Path:
        return Path(self.warehouse_dir) / "validation"

    @property
    def duckdb_config(self) -> dict[str, str]:
        """The configuration every connection to the working database is opened with.

        DuckDB refuses a second connection to a file in one process unless its configuration is
        identical, so Great Expectations' connections (``pipelines.ge_duckdb``) get the same
        settings, and ours carry the user agent GE's driver stamps on its own.
        """
        temp_dir = Path(self.duckdb_temp_dir) if self.duckdb_temp_dir else Path(self.warehouse_dir) / "tmp"
        return {
            "custom_user_agent": _shared_user_agent(),
            "threads": str(self.duckdb_threads or len(os.sched_getaffinity(0))),  # the cores we may use
            "memory_limit": self.duckdb_memory_limit,
            "temp_directory": str(temp_dir.absolute()),
        }

    def teardown_after_execution(self, context) -> None:
        """At the end of a run: close the run's database connection (see ``connect``)."""
        if self._run_database is not None:
            self._run_database.close()  # closes the connection opened by the run, if any
        self._run_database, self._database = None, None

    def _open(self, stack: ExitStack) -> duckdb.DuckDBPyConnection:
        """Open the working database until ``stack`` closes (Dagster's ``DuckDBResource`` retries
        while another process holds the file)."""
        self.working_db_path.parent.mkdir(parents=True, exist_ok=True)
        duck = DuckDBResource(database=str(self.working_db_path), connection_config=self.duckdb_config)
        con = stack.enter_context(duck.get_connection())
        stack.callback(con.close)  # DuckDBResource closes it only when no exception was raised
        return con

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the working database, with timestamps read in UTC.

        Within a run the database is opened once, by the first step that connects (inside the
        warehouse pool), and each step gets a connection of its own to it (a cursor: own
        transaction, temp tables and settings) until the run ends: opening the file for every
        step cost ~20 ms a step, more than a step with nothing to do costs otherwise. Outside a
        run (a sensor, a test, a script) each call opens and closes the file. The time zone is
        set per connection: the contract says an offset-less timestamp is UTC.
        """
        with ExitStack() as stack:
            if self._run_database is not None:
                if self._database is None:
                    self._database = self._open(self._run_database)
                con = self._database.cursor()
                stack.callback(con.close)
            else:
                con = self._open(stack)
            con.execute("SET TimeZone = 'UTC'")
            yield con


def warehouse_from_env() -> WarehouseResource:
    """The resource as configured by ``EE_LANDING_DIR``, ``EE_WAREHOUSE_DIR``,
    ``EE_REPORTING_CURRENCY``, ``EE_DUCKDB_THREADS``, ``EE_DUCKDB_MEMORY_LIMIT``, ``EE_DUCKDB_TEMP_DIR``,
    ``EE_FULL_REBUILD``, ``EE_ENGINE``, ``EE_SPARK_MASTER``, ``EE_SPARK_REMOTE``."""
    return WarehouseResource(
        landing_dir=os.environ.get("EE_LANDING_DIR", DEFAULT_LANDING_DIR),
        warehouse_dir=os.environ.get("EE_WAREHOUSE_DIR", DEFAULT_WAREHOUSE_DIR),
        reporting_currency=os.environ.get("EE_REPORTING_CURRENCY", DEFAULT_REPORTING_CURRENCY),
        duckdb_threads=int(os.environ.get("EE_DUCKDB_THREADS") or 0),
        duckdb_memory_limit=os.environ.get("EE_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT,
        duckdb_temp_dir=os.environ.get("EE_DUCKDB_TEMP_DIR", ""),
        full_rebuild=os.environ.get("EE_FULL_REBUILD", "") not in ("", "0"),
        engine=engine_from_env(),
        spark_master=os.environ.get("EE_SPARK_MASTER") or DEFAULT_SPARK_MASTER,
        spark_remote=os.environ.get("EE_SPARK_REMOTE", ""),
    )


def engine_from_env() -> str:
    """``EE_ENGINE``: the engine of the SQL layer, duckdb unless set."""
    engine = os.environ.get("EE_ENGINE") or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise EngineError(f"EE_ENGINE={engine!r} is not one of {', '.join(ENGINES)}")
    return engine
