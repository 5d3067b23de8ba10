"""The measured tasks of the benchmark, one per process (so peak memory is the task's own).

    python -m bench.tasks generate LANDING SCALE SEED       the sample data
    python -m bench.tasks pipeline LANDING WAREHOUSE [close|reopen YYYY-MM]   a run of `everything`
    python -m bench.tasks run_command LANDING WAREHOUSE  `python -m cli.run` (DAGSTER_HOME: its instance)
    python -m bench.tasks floor LANDING DATABASE         the same code and SQL, one connection
    python -m bench.tasks pandas LANDING OUT_DIR         vectorized pandas (bench.pandas_baseline)
    python -m bench.tasks polars LANDING OUT_DIR         lazy polars (bench.polars_baseline)
    python -m bench.tasks ge WAREHOUSE                   GE via SQL on DuckDB vs GE on pandas
    python -m bench.tasks spark_start MASTER             the spark engine's start-up alone

Each prints one JSON object on its last line; bench.run reads it and samples the process
tree's memory from outside.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import duckdb


def generate(landing: str, scale: str, seed: str) -> dict:
    from sample.generate import generate as generate_sample

    started = time.perf_counter()
    generate_sample(Path(landing), float(scale), int(seed))
    return {"seconds": time.perf_counter() - started}


def pipeline(landing: str, warehouse_dir: str, action: str = "", month: str = "") -> dict:
    """The `everything` job in process, as `python -m cli.run` runs it (the ``EE_*`` settings of
    the environment apply, the engine among them); time per stage. With
    ``action`` (close or reopen) and ``month``, the run closes or reopens months as
    `bash scripts/ee close|reopen` does."""
    from dagster import DagsterInstance

    from assets.definitions import all_checks, defs
    from assets.resources import warehouse_from_env

    check_steps = {check.node_def.name for check in all_checks}
    stage_of = {
        "raw": "ingest",
        "staging": "staging",
        "intermediate": "sql_models",
        "marts": "sql_models",
        "published": "publish",
        "period_close": "staging",
    }
    close = (
        {"action": action, "month": month, "reason": "benchmark", "requested_by": "bench"} if action else {}
    )
    os.environ.update(EE_LANDING_DIR=landing, EE_WAREHOUSE_DIR=warehouse_dir)
    warehouse = warehouse_from_env()  # as the run command configures it (engine, DuckDB settings)
    started = time.perf_counter()
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("everything").execute_in_process(
            instance=instance, resources={"warehouse": warehouse},
            run_config={
                "loggers": {"console": {"config": {"log_level": "ERROR"}}},
                "ops": {"period_close": {"config": close}},
            },
        )  # fmt: skip
    wall = time.perf_counter() - started
    if not result.success:
        raise SystemExit("pipeline run failed")
    stages: dict[str, float] = {}
    for event in result.get_step_success_events():
        # Dagster splits the one multi-asset check of the suites into several steps (name_2, ...)
        # where blocking checks sit between layers.
        is_check = re.sub(r"_\d+$", "", event.step_key) in check_steps or event.step_key in check_steps
        stage = "checks" if is_check else stage_of[event.step_key.split("__")[0]]
        stages[stage] = stages.get(stage, 0.0) + event.event_specific_data.duration_ms / 1000
    return {"seconds": wall, "stages": stages}


def run_command(landing: str, warehouse_dir: str) -> dict:
    """``python -m cli.run`` as cron or a person starts it, in this process (its Dagster
    instance is ``DAGSTER_HOME``); whether it started a run (it does not when nothing is new)."""
    import contextlib
    import io

    from cli.run import main

    os.environ.update(EE_LANDING_DIR=landing, EE_WAREHOUSE_DIR=warehouse_dir)
    started = time.perf_counter()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main([])
    if code != 0:
        raise SystemExit(f"run command failed:\n{printed.getvalue()[-3000:]}")
    return {
        "seconds": time.perf_counter() - started,
        "stages": {},
        "started_a_run": not printed.getvalue().startswith("nothing new:"),
    }


def spark_start(master: str) -> dict:
    """What the spark engine pays before its first model: the JVM, the session, a one-row query."""
    from pipelines.spark_engine import SparkSettings, spark_session

    started = time.perf_counter()
    spark_session(SparkSettings(master=master)).sql("SELECT 1").collect()
    return {"seconds": time.perf_counter() - started}


def floor(landing: str, database: str) -> dict:
    """Ingestion, staging and every SQL model by the pipeline's own functions, in one DuckDB
    connection configured as the pipeline's (threads, memory limit, spill folder), in dependency
    order: no Dagster, no checks, no publication."""
    from assets.resources import DEFAULT_ENGAGEMENT_WEIGHTS_FILE, WarehouseResource
    from assets.settings_tables import (
        CODE_TABLES,
        read_engagement_weights,
        write_code_table,
        write_engagement_weights,
        write_run_settings,
    )
    from assets.sql_assets import EXTERNAL_TABLES
    from pipelines import closing
    from pipelines.contract import CURRENCIES_TABLE, TABLES
    from pipelines.ingest import load_table
    from pipelines.sql_models import SQL_DIR, build_model, dependency_order, load_models
    from pipelines.staging import build_staging

    models = load_models(SQL_DIR, {name: key.path[0] for name, key in EXTERNAL_TABLES.items()})
    stages = {}
    started = time.perf_counter()
    config = WarehouseResource(warehouse_dir=str(Path(database).parent)).duckdb_config
    with duckdb.connect(database, config=config) as con:
        con.execute("SET TimeZone = 'UTC'")
        stages["ingest"] = stages["staging"] = 0.0
        for table in [CURRENCIES_TABLE, *[t for t in TABLES if t != CURRENCIES_TABLE]]:
            step = time.perf_counter()
            load_table(con, table, Path(landing), load_id="floor")
            stages["ingest"] += time.perf_counter() - step
            step = time.perf_counter()
            build_staging(con, table)
            stages["staging"] += time.perf_counter() - step
        step = time.perf_counter()
        write_run_settings(con, "USD")
        write_engagement_weights(con, read_engagement_weights(Path(DEFAULT_ENGAGEMENT_WEIGHTS_FILE)))
        for name, (columns, rows) in CODE_TABLES.items():
            write_code_table(con, name, columns, rows)
        # No publication beside the floor's database: nothing is closed (the tables are empty).
        closing.prepare(con, Path(database).parent, [m for m in models.values() if m.layer == "marts"], None)
        for model in dependency_order(models):
            build_model(con, model)
    stages["sql_models"] = time.perf_counter() - step
    return {"seconds": time.perf_counter() - started, "stages": stages}


def pandas(landing: str, out_dir: str) -> dict:
    from bench.pandas_baseline import Extracts, both_marts

    started = time.perf_counter()
    extracts = Extracts(Path(landing))
    read_seconds = time.perf_counter() - started
    economics, movements = both_marts(extracts)
    seconds = time.perf_counter() - started
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    economics.to_parquet(Path(out_dir) / "account_month_economics.parquet")
    movements.to_parquet(Path(out_dir) / "mrr_movements.parquet")
    return {"seconds": seconds, "stages": {"read": read_seconds, "compute": seconds - read_seconds}}


def polars(landing: str, out_dir: str) -> dict:
    from bench.polars_baseline import both_marts

    started = time.perf_counter()
    economics, movements = both_marts(Path(landing))
    seconds = time.perf_counter() - started
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    economics.write_parquet(Path(out_dir) / "account_month_economics.parquet")
    movements.write_parquet(Path(out_dir) / "mrr_movements.parquet")
    return {"seconds": seconds}


def ge(warehouse_dir: str, table: str = "account_month_economics") -> dict:
    """The mart's suite through GE's SQL datasource on DuckDB, and through GE's pandas datasource
    on the same table (loading it into pandas timed apart). Expectations GE runs only as SQL
    (unexpected_rows_expectation) are left out of both sides."""
    import great_expectations as gx

    from assets.quality_checks import suite_parameters
    from assets.resources import WarehouseResource
    from pipelines.ge_duckdb import Suite, load_suites, validate_suites

    warehouse = WarehouseResource(warehouse_dir=warehouse_dir)
    suite = next(s for s in load_suites() if s.schema == "marts" and s.table == table)
    pushable = [e for e in suite.definition["expectations"] if e["type"] != "unexpected_rows_expectation"]
    comparable = Suite(
        suite.path, suite.schema, suite.table, {"name": f"{suite.name}.comparable", "expectations": pushable}
    )
    parameters = suite_parameters(warehouse)

    started = time.perf_counter()
    (sql_outcome,) = validate_suites(
        warehouse.working_db_path, [comparable], parameters, warehouse.duckdb_config
    )
    sql_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        frame = con.execute(f"SELECT * FROM marts.{table}").df()
    load_seconds = time.perf_counter() - started
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("all")
    )
    pandas_suite = context.suites.add(gx.ExpectationSuite(name="pandas", expectations=pushable))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="pandas", data=batch, suite=pandas_suite)
    )
    started = time.perf_counter()
    pandas_result = definition.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
    pandas_seconds = time.perf_counter() - started
    return {
        "table": table, "rows": len(frame), "expectations": len(pushable),
        "sql_seconds": sql_seconds, "pandas_seconds": pandas_seconds, "pandas_load_seconds": load_seconds,
        "agree": sql_outcome.success == pandas_result.success,
    }  # fmt: skip


TASKS = {
    "generate": generate,
    "pipeline": pipeline,
    "run_command": run_command,
    "floor": floor,
    "pandas": pandas,
    "polars": polars,
    "ge": ge,
    "spark_start": spark_start,
}

if __name__ == "__main__":
    outcome = TASKS[sys.argv[1]](*sys.argv[2:])
    print(json.dumps(outcome), flush=True)
    sys.stderr.flush()
    os._exit(0)  # skip duckdb 2.0's "nanobind: leaked" noise at interpreter exit (see cli.run)
