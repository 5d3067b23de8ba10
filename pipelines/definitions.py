"""The Dagster code location: assembles what is defined elsewhere."""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from assets.ingestion import ingestion_assets
from assets.sql_assets import sql_assets, sql_checks
from pipelines.settings import warehouse_from_env

# DuckDB allows one writing process per database file: run the steps of a run in one process.
everything_job = define_asset_job(
    "everything", selection=AssetSelection.all(), description="Ingest, stage and build every model."
)

defs = Definitions(
    assets=[*ingestion_assets, *sql_assets],
    asset_checks=sql_checks,
    jobs=[everything_job],
    resources={"warehouse": warehouse_from_env()},
    executor=in_process_executor,
)
