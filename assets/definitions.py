"""The Dagster code location: assembles what is defined elsewhere.

Raw and staging assets come from the extract contract, model assets and their checks from the
``sql/`` files, expectation checks from ``expectations/``, and the publish asset closes the
write-audit-publish loop over every mart; the executive report follows each publication.
"""

from dagster import Definitions, in_process_executor

from assets.automation import daily_schedule, everything_job, ingestion_jobs, landing_sensor
from assets.closing import build_pending_restatement_checks, build_period_close_asset, month_end_close_job
from assets.ingestion import ingestion_assets
from assets.publish import build_publish_asset
from assets.quality_checks import build_suite_checks
from assets.report import published_report
from assets.resources import warehouse_from_env
from assets.sql_assets import build_sql_definitions, load_sql_models

sql_models = load_sql_models()
marts = [m for m in sql_models.values() if m.layer == "marts"]
sql_assets, sql_checks = build_sql_definitions(sql_models)
suite_checks = build_suite_checks({key for a in [*ingestion_assets, *sql_assets] for key in a.keys})
all_checks = [*sql_checks, *suite_checks, *build_pending_restatement_checks(marts)]
publish_asset = build_publish_asset(marts, [key for check in all_checks for key in check.check_keys])
all_assets = [
    *ingestion_assets,
    build_period_close_asset(marts),
    *sql_assets,
    publish_asset,
    published_report,
]

defs = Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[everything_job, month_end_close_job, *ingestion_jobs],
    schedules=[daily_schedule],
    sensors=[landing_sensor],
    resources={"warehouse": warehouse_from_env()},
    # DuckDB allows one writing process per database file: the steps of a run share one process.
    executor=in_process_executor,
)
