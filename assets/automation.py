"""Jobs, the daily schedule and the landing-folder sensor.

The sensor launches the whole pipeline when extract files are added or changed. Its cursor is a
fingerprint of the landing folder's file list (path, size and modification time of each contract
table's files, ``pipelines.landing.listed_landing``): cheap to compute every poll, while
ingestion itself still identifies files by content hash, so a file touched without a change
costs one run that loads nothing. The fingerprint is also the run key: Dagster never launches
two runs for the same landing state. The schedule skips its tick when nothing changed since the
last complete run (``pipelines.up_to_date``).
"""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from assets.ingestion import raw_key, staging_key
from assets.resources import DEFAULT_SENSOR_INTERVAL_SECONDS, WarehouseResource
from pipelines.contract import SOURCES, TABLES
from pipelines.landing import listed_landing

EVERYTHING_JOB = "everything"  # the run command's, the schedule's and the sensor's job
everything_job = define_asset_job(
    EVERYTHING_JOB, selection=AssetSelection.all(), description="Ingest, stage, build, check and publish."
)

ingestion_jobs = [
    define_asset_job(
        f"ingest_{source}",
        selection=AssetSelection.assets(
            *[raw_key(t) for t in TABLES if t.source == source],
            *[staging_key(t) for t in TABLES if t.source == source],
        ),
        description=f"Load and stage the {source} extracts only.",
    )
    for source in SOURCES
]


@schedule(
    name="daily_everything",
    job=everything_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="The whole pipeline every day at 06:00 UTC, after the nightly extract drops; skipped "
    "when nothing changed since the last complete run (same files, code and settings).",
)
def daily_schedule(context: ScheduleEvaluationContext, warehouse: WarehouseResource):
    current = warehouse.nothing_to_do()
    if current is not None:
        return SkipReason(f"nothing new since publication {current}: the same files, code and settings")
    return RunRequest()


# How often the daemon looks at the landing folder (a folder listing: cheap).
SENSOR_INTERVAL_SECONDS = int(os.environ.get("EE_SENSOR_INTERVAL_SECONDS", DEFAULT_SENSOR_INTERVAL_SECONDS))


@sensor(
    job=everything_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.STOPPED,
    description="Runs the whole pipeline when extract files arrive or change in EE_LANDING_DIR.",
)
def landing_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    state = listed_landing(warehouse.landing_path)
    if state == context.cursor:
        return SkipReason(f"no new or changed extract file in {warehouse.landing_dir}")
    context.update_cursor(state)
    return RunRequest(run_key=state)
