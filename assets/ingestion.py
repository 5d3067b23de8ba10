"""Asset factory: one raw asset and one staging asset per contract table.

The contract (``pipelines.contract``) is the only list of tables; this module turns each into
Dagster assets and leaves the work to ``pipelines.ingest`` and ``pipelines.staging``.
"""

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    DataVersion,
    Failure,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    TableColumn,
    TableSchema,
    asset,
)

from assets.resources import PLATFORM_OWNER, WAREHOUSE_POOL, WarehouseResource
from pipelines.background_imports import import_in_background
from pipelines.contract import CURRENCIES_TABLE, TABLES, Table
from pipelines.ingest import IngestionError, load_table, raw_table_name, table_totals
from pipelines.staging import STAGING_SCHEMA, build_staging, staging_table_name

# Reading landing files is where transient failures happen (an extract still being copied in, a
# file system hiccup): retry those steps a few times before failing the run. A retried step is
# safe: loading a file is one transaction, and an already loaded file is skipped by content hash.
# A file that cannot be read at all is not retried (see raw_table).
LANDING_READ_RETRY = RetryPolicy(
    max_retries=3, delay=10, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)


def raw_key(table: Table) -> AssetKey:
    return AssetKey(["raw", table.qualified_name])


def staging_key(table: Table) -> AssetKey:
    return AssetKey([STAGING_SCHEMA, table.staging_name])


def table_schema(con: duckdb.DuckDBPyConnection, relation: str) -> TableSchema:
    """Dagster column-schema metadata read from the table as DuckDB built it."""
    rows = con.execute(f"DESCRIBE {relation}").fetchall()
    return TableSchema(columns=[TableColumn(name=r[0], type=r[1]) for r in rows])


def _raw_asset(table: Table) -> AssetsDefinition:
    # Currency codes are checked against the staged currencies table, so it must come first.
    deps = [staging_key(CURRENCIES_TABLE)] if table.checks_currency else []

    @asset(
        key=raw_key(table),
        group_name="raw",
        deps=deps,
        kinds={"duckdb"},
        owners=[PLATFORM_OWNER],
        tags={"source": table.source},
        pool=WAREHOUSE_POOL,
        retry_policy=LANDING_READ_RETRY,
        description=(
            f"{table.description} Every valid row of `{table.source}/{table.name}` extracts with "
            "its lineage (_file, _row, _load_id); rows breaking the contract go to raw.quarantine."
        ),
    )
    def raw_table(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.connect() as con:
            try:
                report = load_table(
                    con, table, warehouse.landing_path, load_id=context.run.run_id,
                    trust_stat=not warehouse.full_rebuild,
                )  # fmt: skip
            except IngestionError as error:
                # A file that will never read (bad encoding, not Parquet, empty, missing
                # columns): fail at once, naming the file, instead of retrying like an I/O error.
                raise Failure(description=str(error), allow_retries=False) from error
            totals = table_totals(con, table)
            schema = table_schema(con, raw_table_name(table))
        if report.loaded:
            import_in_background()  # new rows: the expectation suites will validate again
        for file_report in report.loaded:
            context.log.info(
                f"{file_report.file}: read {file_report.rows_read}, loaded "
                f"{file_report.rows_loaded}, quarantined {file_report.rows_quarantined}"
            )
        return MaterializeResult(
            metadata={
                "files_seen": report.files_seen,
                "files_loaded": len(report.loaded),
                "files_skipped_unchanged": report.files_skipped,
                "rows_read": report.rows_read,
                "rows_loaded": report.rows_loaded,
                "rows_quarantined": report.rows_quarantined,
                "quarantined_rows_total": totals["quarantined_rows"],
                "dagster/row_count": totals["raw_rows"],
                "dagster/column_schema": schema,
                "extra_columns": MetadataValue.json(
                    sorted({c for f in report.loaded for c in f.extra_columns})
                ),
            }
        )

    return raw_table


def _staging_asset(table: Table) -> AssetsDefinition:
    @asset(
        key=staging_key(table),
        group_name="staging",
        deps=[raw_key(table)],
        kinds={"duckdb"},
        owners=[PLATFORM_OWNER],
        pool=WAREHOUSE_POOL,
        description=(
            f"{table.description} One row per {', '.join(table.primary_key)}: latest updated_at "
            "wins (tie: later file, later row); deleted entities removed. New files are applied "
            "by key; a table with no new file is not touched."
        ),
    )
    def staging_table(warehouse: WarehouseResource) -> MaterializeResult:
        with warehouse.connect() as con:
            report = build_staging(con, table, rebuild=warehouse.full_rebuild)
            schema = table_schema(con, staging_table_name(table))
        return MaterializeResult(
            metadata={
                "dagster/row_count": report.rows,
                "dagster/column_schema": schema,
                "staging": report.mode,
                "files_applied": report.files_applied,
                "keys_touched": report.keys_touched,
                "changed": report.changed,
            },
            data_version=DataVersion(report.version),
        )

    return staging_table


ingestion_assets: list[AssetsDefinition] = [
    factory(table) for table in TABLES for factory in (_raw_asset, _staging_asset)
]
