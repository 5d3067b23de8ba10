"""Time a full pipeline run by stage, and Great Expectations in DuckDB against GE on pandas.

    python bench/stages.py --landing data/landing --warehouse /tmp/bench-warehouse

1. A full run of the ``everything`` job (in process, fresh warehouse): wall time, the sum of step
   durations per stage (ingest, staging, SQL models, checks, publish) and peak RSS.
2. The account_month_economics suite through GE's SQL datasource on DuckDB, against GE's pandas
   datasource on the same table (loading it into pandas counted separately). Expectations GE
   runs only as SQL (unexpected_rows_expectation) are left out of both sides.
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import time
from pathlib import Path

import duckdb
import great_expectations as gx
from dagster import DagsterInstance

from assets.quality_checks import suite_parameters
from pipelines.definitions import all_checks, defs
from pipelines.ge_duckdb import Suite, load_suites, validate_suites
from pipelines.settings import WarehouseResource

CHECK_STEPS = {check.node_def.name for check in all_checks}


def stage_of(step_key: str) -> str:
    if step_key in CHECK_STEPS:
        return "checks"
    if step_key.startswith("raw__"):
        return "ingest"
    if step_key.startswith("staging__"):
        return "staging"
    if step_key.startswith("published__"):
        return "publish"
    return "sql models"


def full_run(warehouse: WarehouseResource) -> None:
    shutil.rmtree(warehouse.warehouse_dir, ignore_errors=True)
    started = time.perf_counter()
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("everything").execute_in_process(
            instance=instance, resources={"warehouse": warehouse},
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )  # fmt: skip
    wall = time.perf_counter() - started
    assert result.success
    stages: dict[str, float] = {}
    steps: dict[str, float] = {}
    for event in result.get_step_success_events():
        seconds = event.event_specific_data.duration_ms / 1000
        stages[stage_of(event.step_key)] = stages.get(stage_of(event.step_key), 0.0) + seconds
        steps[event.step_key] = seconds
    print(f"full run wall time {wall:.1f}s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    for stage in ("ingest", "staging", "sql models", "checks", "publish"):
        print(f"  {stage:12s} {stages.get(stage, 0):7.1f}s")
    print("steps, slowest first:")
    for step, seconds in sorted(steps.items(), key=lambda item: -item[1])[:25]:
        print(f"  {step:60s} {seconds:6.1f}s")


def ge_sql_vs_pandas(warehouse: WarehouseResource, table: str = "account_month_economics") -> None:
    suite = next(s for s in load_suites() if s.schema == "marts" and s.table == table)
    pushable = [e for e in suite.definition["expectations"] if e["type"] != "unexpected_rows_expectation"]
    comparable = Suite(suite.path, suite.schema, suite.table, {"name": f"{suite.name}.comparable", "expectations": pushable})
    parameters = suite_parameters(warehouse)

    started = time.perf_counter()
    (sql_outcome,) = validate_suites(warehouse.working_db_path, [comparable], parameters)
    sql_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        frame = con.execute(f"SELECT * FROM marts.{table}").df()
    load_seconds = time.perf_counter() - started
    context = gx.get_context(mode="ephemeral")
    batch = context.data_sources.add_pandas("frames").add_dataframe_asset(table).add_batch_definition_whole_dataframe("all")
    pandas_suite = context.suites.add(gx.ExpectationSuite(name="pandas", expectations=pushable))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="pandas", data=batch, suite=pandas_suite))
    started = time.perf_counter()
    pandas_result = definition.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
    pandas_seconds = time.perf_counter() - started
    print(f"GE on {table} ({len(frame):,d} rows, {len(pushable)} expectations):")
    print(f"  SQL on DuckDB   {sql_seconds:6.2f}s  success={sql_outcome.success}")
    print(f"  pandas          {pandas_seconds:6.2f}s  (+ {load_seconds:.2f}s to load the table)  success={pandas_result.success}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landing", required=True)
    parser.add_argument("--warehouse", required=True)
    args = parser.parse_args()
    warehouse = WarehouseResource(landing_dir=args.landing, warehouse_dir=args.warehouse)
    full_run(warehouse)
    ge_sql_vs_pandas(warehouse)


if __name__ == "__main__":
    main()
