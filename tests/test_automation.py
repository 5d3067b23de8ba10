"""The landing sensor and the jobs, evaluated for real against a landing folder."""

from __future__ import annotations

import os

from dagster import RunRequest, SkipReason, build_sensor_context

from assets.automation import landing_sensor
from assets.definitions import defs
from assets.resources import WarehouseResource
from tests.conftest import write


def evaluate(warehouse: WarehouseResource, cursor: str | None):
    with build_sensor_context(cursor=cursor, resources={"warehouse": warehouse}) as context:
        return landing_sensor(context), context.cursor


def test_a_new_or_changed_file_triggers_exactly_one_run(landing, warehouse):
    first, cursor = evaluate(warehouse, None)
    assert isinstance(first, RunRequest)
    again, same_cursor = evaluate(warehouse, cursor)
    assert isinstance(again, SkipReason) and same_cursor == cursor  # nothing new: nothing runs

    path = write(landing, "crm/accounts/2026-10-25/accounts.csv", "account_id\nA1\n")
    added, cursor_after_add = evaluate(warehouse, cursor)
    assert isinstance(added, RunRequest) and added.run_key == cursor_after_add != cursor
    assert isinstance(evaluate(warehouse, cursor_after_add)[0], SkipReason)

    path.write_text("account_id\nA1\nA2\n")  # a re-sent file with new content
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    changed, _ = evaluate(warehouse, cursor_after_add)
    assert isinstance(changed, RunRequest) and changed.run_key != added.run_key


def test_the_code_location_has_its_jobs_schedule_and_sensor():
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"everything", "ingest_crm", "ingest_billing", "ingest_support", "ingest_finance"} <= jobs
    assert defs.resolve_schedule_def("daily_everything").cron_schedule == "0 6 * * *"
    assert defs.resolve_sensor_def("landing_sensor").job_name == "everything"
    billing = defs.resolve_job_def("ingest_billing")
    assert all(key.path[0] in ("raw", "staging") for key in billing.asset_layer.executable_asset_keys)
