"""Great Expectations suites validated inside DuckDB, through GE's SQL datasource.

Every expectation is pushed down to DuckDB as SQL by GE's SQLAlchemy execution engine (via
duckdb-engine): no table is pulled into pandas. GE 1.24.1 needs one shim for that, kept here and
only here: it fetches results after its pooled connection is closed, so every DuckDB
expectation fails with ``MetricResolutionError: list index out of range`` (upstream
great_expectations issues #10738 and #11579; PR #12084 adds a native DuckDB engine). Treating
duckdb as a dialect that keeps its connection open (``_PERSISTED_CONNECTION_DIALECTS``, as GE
does for SQLite) fixes it. ``tests/test_ge_duckdb.py`` fails loudly when GE changes under it.

The validation opens its own connection to the working database, with the configuration the
caller passes (DuckDB requires every connection of a process to a file to be configured alike),
and closes it before returning.

Great Expectations takes seconds to import: a run imports it in the background
(``pipelines.background_imports``), and the first validation waits for that import.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.background_imports import await_imports

GE_VERSION_SHIMMED = "1.24.1"
EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"

logging.getLogger("great_expectations").setLevel(logging.WARNING)


class _DuckDBDialect:
    """Stands for 'duckdb' where GE lists dialects (GXSqlDialect has no DuckDB member)."""

    value = "duckdb"

    def __eq__(self, other: object) -> bool:
        return str(getattr(other, "value", other)).lower() == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def install_duckdb_shim() -> None:
    """Make GE keep its DuckDB connection open between metric computations (idempotent)."""
    import great_expectations as gx
    from great_expectations.execution_engine import sqlalchemy_execution_engine

    if gx.__version__ != GE_VERSION_SHIMMED:
        raise RuntimeError(
            f"pipelines/ge_duckdb.py shims great-expectations {GE_VERSION_SHIMMED}, found "
            f"{gx.__version__}: re-check the DuckDB workaround before upgrading"
        )
    dialects = sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS
    if "duckdb" not in dialects:
        sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialect())


@dataclass(frozen=True)
class Suite:
    """One expectation suite file: ``expectations/<schema>/<table>.json``."""

    path: Path
    schema: str
    table: str
    definition: dict[str, Any]

    @property
    def name(self) -> str:
        return self.definition["name"]


def load_suites(directory: Path = EXPECTATIONS_DIR) -> list[Suite]:
    return [
        Suite(path, path.parent.name, path.stem, json.loads(path.read_text()))
        for path in sorted(directory.glob("*/*.json"))
    ]


BLOCKING_SEVERITY = "critical"  # GE's default severity; the others (warning, info) only report


ERROR_PREFIX = "error: "  # an expectation's observed value when it could not be computed


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    kwargs: dict[str, Any]
    success: bool
    severity: str  # GE's: critical (blocks publishing), warning or info
    observed: Any

    @property
    def blocking(self) -> bool:
        return self.severity == BLOCKING_SEVERITY

    @property
    def errored(self) -> bool:
        """The expectation could not be computed (see ``_observed``): not an outcome to keep."""
        return isinstance(self.observed, str) and self.observed.startswith(ERROR_PREFIX)


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    relation: str
    outcomes: list[ExpectationOutcome]
    # GE's validation result as GE serialises it (``to_json_dict``): its Data Docs page is
    # rendered from it (``pipelines.validation_report``), also when the outcome is reused.
    ge_result: dict[str, Any] | None = None

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.blocking and not o.success]


class _Validator:
    """An ephemeral GE context (writes no state files) with a SQL datasource on one file.

    Building a context costs about half a second, so one is kept per database file and reused;
    its DuckDB connection is closed after every validation (``release``).
    """

    def __init__(self, database: Path, config: dict[str, str]) -> None:
        await_imports()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        install_duckdb_shim()
        self.context = gx.get_context(mode="ephemeral")
        # GE draws a tqdm bar per validation on stderr: noise in run logs and the CLI.
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.datasource = self.context.data_sources.add_sql(
            name="warehouse",
            connection_string=f"duckdb:///{database}",
            # duckdb-engine puts its own user agent in front of one it is given: it gets none, and
            # stamps exactly the one our connections carry (assets.resources).
            kwargs={
                "connect_args": {"config": {k: v for k, v in config.items() if k != "custom_user_agent"}}
            },
        )
        self.definitions: dict[str, Any] = {}

    def definition(self, suite: Suite) -> Any:
        import great_expectations as gx

        if suite.name not in self.definitions:
            relation = f"{suite.schema}.{suite.table}"
            asset = self.datasource.add_query_asset(name=suite.name, query=f"select * from {relation}")
            expectation_suite = self.context.suites.add(
                gx.ExpectationSuite(name=suite.name, expectations=suite.definition["expectations"])
            )
            self.definitions[suite.name] = self.context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=suite.name,
                    data=asset.add_batch_definition_whole_table("all rows"),
                    suite=expectation_suite,
                )
            )
        return self.definitions[suite.name]

    def release(self) -> None:
        """Close every DuckDB connection GE holds, so the file is free for other processes."""
        engine = self.datasource.get_execution_engine()
        if getattr(engine, "_connection", None) is not None:
            engine._connection.close()
            engine._connection = None
        engine.engine.dispose()
        self.datasource.get_engine().dispose()


_VALIDATORS: dict[tuple, _Validator] = {}


def exception_entries(info: dict | None) -> list[dict]:
    """The entries of a GE result's ``exception_info``: GE gives either one entry (keys
    ``raised_exception``, ``exception_message``, ``exception_traceback``) or one per metric."""
    info = info or {}
    return [entry for entry in (info, *info.values()) if isinstance(entry, dict)]


def _observed(result: Any) -> Any:
    details = result.result or {}
    for key in ("observed_value", "unexpected_count", "unexpected_percent"):
        if key in details:
            return details[key]
    errors = [e for e in exception_entries(result.exception_info) if e.get("raised_exception")]
    if errors:  # the expectation could not be computed: it fails, and says why
        return f"{ERROR_PREFIX}{str(errors[0].get('exception_message'))[:300]}"
    return None


def validate_suites(
    database: Path,
    suites: list[Suite],
    parameters: dict[str, Any],
    config: dict[str, str] | None = None,
    run_name: str | None = None,
) -> list[SuiteOutcome]:
    """Validate each suite against its table in ``database``; every expectation runs as SQL.

    ``config`` is the DuckDB configuration of the caller's connections to the same file (GE's
    connections get the same, so both can be open at once). ``run_name`` (the Dagster run id)
    is the run name GE records in its results.
    """
    config = config or {}
    key = (database, tuple(sorted(config.items())))
    validator = _VALIDATORS.get(key) or _VALIDATORS.setdefault(key, _Validator(database, config))
    from great_expectations.core.run_identifier import RunIdentifier  # GE: awaited by _Validator

    outcomes = []
    try:
        for suite in suites:
            # BASIC holds what an outcome keeps (observed value, unexpected count and share);
            # SUMMARY's value counts of the unexpected values cost GE a query more per column.
            result = validator.definition(suite).run(
                expectation_parameters=parameters,
                result_format="BASIC",
                run_id=RunIdentifier(run_name=run_name),
            )
            outcomes.append(
                SuiteOutcome(
                    suite.name,
                    f"{suite.schema}.{suite.table}",
                    [
                        ExpectationOutcome(
                            r.expectation_config.type,
                            {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"},
                            bool(r.success),
                            str(getattr(r.expectation_config.severity, "value", BLOCKING_SEVERITY)),
                            _observed(r),
                        )
                        for r in result.results
                    ],
                    result.to_json_dict(),
                )
            )
    finally:
        validator.release()
    return outcomes
