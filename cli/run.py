"""Run the whole pipeline once, in this process, and print what it built.

    python -m cli.run [--sample-scale 1] [--seed 7]
    python -m cli.run --close 2026-09 --reason "September signed off"
    python -m cli.run --reopen 2026-08 --reason "late invoices of August"

With ``--sample-scale`` a sample landing folder is generated first if ``EE_LANDING_DIR`` does
not exist yet (an existing folder is never touched). ``--close`` closes a month and every
earlier one, ``--reopen`` reopens a month and every later one (README, "Month-end close"); the
run that records the action publishes, and that publication freezes or releases the months.
The run itself is the ``everything`` job of the code location, the same job that ``dagster job
execute -m assets.definitions -j everything`` and ``dagster asset materialize -m
assets.definitions --select '*'`` run.

The run is recorded in the Dagster instance that the UI shows ($DAGSTER_HOME), and it waits for
its turn behind any run of that instance in progress or queued (see cli/instance.py).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
from dagster import DagsterInstance, JobDefinition

from assets.automation import EVERYTHING_JOB
from assets.closing import STEP_NAME as PERIOD_CLOSE_STEP
from assets.resources import WarehouseResource, warehouse_from_env
from cli.environment import ENVIRONMENT_HELP
from cli.instance import command_line_tags, dagster_home, wait_for_turn
from cli.progress import CHECKS_STAGE, stage_progress_logger
from pipelines.closing import ClosingError, PeriodAction
from pipelines.contract import TABLES
from pipelines.ingest import QUARANTINE_TABLE, raw_table_name
from pipelines.publish import current_publication
from pipelines.report import PAGE, REPORT_DIR
from pipelines.staging import staging_table_name


def summary_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int, int]]:
    """(table, raw rows, quarantined rows, staged rows) for every contract table."""
    quarantined = dict(
        con.execute(f"SELECT table_name, count(*) FROM {QUARANTINE_TABLE} GROUP BY 1").fetchall()
    )
    rows = []
    for table in TABLES:
        raw = con.execute(f"SELECT count(*) FROM {raw_table_name(table)}").fetchone()[0]
        staged = con.execute(f"SELECT count(*) FROM {staging_table_name(table)}").fetchone()[0]
        rows.append((table.qualified_name, raw, quarantined.get(table.qualified_name, 0), staged))
    return rows


def published_summary(warehouse: WarehouseResource) -> tuple[str, list[tuple[str, int]], str]:
    """The latest publication's id, (mart, rows) and its closed months, read from marts.duckdb as
    a BI client would."""
    with duckdb.connect(str(warehouse.published_db_path), read_only=True) as con:
        publish_id, row_counts = con.execute(
            "SELECT publish_id, row_counts FROM publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchall()[0]
        closed = con.execute(
            "SELECT (SELECT strftime(closed_through, '%Y-%m') FROM period_closes ORDER BY event_id DESC LIMIT 1), "
            "(SELECT count(*) FROM restatements WHERE status = 'pending')"
        ).fetchone()
    months = f"closed through {closed[0]}, pending restatements {closed[1]}" if closed[0] else "none closed"
    return publish_id, sorted(json.loads(row_counts).items()), months


def recomputation(result) -> str:
    """What the run redid: models recomputed, check results reused, publication new or kept."""
    metadata = [
        e.event_specific_data.materialization.metadata for e in result.get_asset_materialization_events()
    ]
    models = [m["recomputed"].value for m in metadata if "recomputed" in m]
    by_key = sum(m["recompute"].value == "incremental" for m in metadata if "recompute" in m)
    evaluations = result.get_asset_check_evaluations()
    reused = sum("reused_from_run" in e.metadata for e in evaluations)
    new = [m["new_publication"].value for m in metadata if "new_publication" in m]
    return (
        f"models recomputed {sum(models)} of {len(models)}"
        + (f" ({by_key} only for the keys the new data touches)" if by_key else "")
        + f"; check results reused {reused} of "
        f"{len(evaluations)}; " + ("new publication" if any(new) else "nothing changed: no new publication")
    )


def print_summary(warehouse: WarehouseResource, seconds: float, evaluations: list) -> None:
    """Tables loaded, then each published mart with its rows and checks, then where things are."""
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        rows = summary_rows(con)
    publish_id, marts, months = published_summary(warehouse)
    checks: dict[tuple[str, bool], int] = Counter(
        (e.asset_key.path[-1], e.passed) for e in evaluations if e.asset_key.path[0] == "marts"
    )
    print(f"\n{'table':32s} {'raw rows':>12s} {'quarantined':>12s} {'staged rows':>12s}")
    for name, raw, quarantined, staged in rows:
        print(f"{name:32s} {raw:>12,d} {quarantined:>12,d} {staged:>12,d}")
    print(f"\n{'published mart':32s} {'rows':>12s} {'checks passed':>14s} {'failed':>7s}")
    for name, count in marts:
        print(f"{name:32s} {count:>12,d} {checks[name, True]:>14d} {checks[name, False]:>7d}")
    passed = sum(e.passed for e in evaluations)
    print(
        f"\n{len(rows)} tables, {sum(r[1] for r in rows):,d} rows loaded, "
        f"{sum(r[2] for r in rows):,d} quarantined; checks passed {passed}, failed "
        f"{len(evaluations) - passed} (non-blocking); publication {publish_id}; {seconds:.1f}s\n"
        f"{published_marts_line(warehouse)}\n"
        f"months:          {months}\n"
        f"check report:    {warehouse.validation_dir / 'index.html'}\n"
        f"{exec_report_line(warehouse)} (open it in a browser)"
    )


def published_marts_line(warehouse: WarehouseResource) -> str:
    return f"published marts: {warehouse.published_db_path} and {warehouse.parquet_dir}/<mart>/"


def exec_report_line(warehouse: WarehouseResource) -> str:
    return f"exec report:     {Path(warehouse.warehouse_dir) / REPORT_DIR / PAGE}"


def stage_totals(job: JobDefinition) -> Counter[str]:
    """How many assets each layer has in ``job``, and how many checks."""
    totals = Counter(key.path[0] for key in job.asset_layer.executable_asset_keys)
    totals[CHECKS_STAGE] = len(job.asset_layer.asset_graph.asset_check_keys)
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cli.run",
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[-1].strip(),
        epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sample-scale", type=float, help="generate a sample first if missing")
    parser.add_argument("--seed", type=int, default=7)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--close", metavar="YYYY-MM", help="close this month and every earlier one")
    action.add_argument("--reopen", metavar="YYYY-MM", help="reopen this month and every later one")
    parser.add_argument("--reason", default="", help="why (required with --close or --reopen)")
    args = parser.parse_args(argv)
    run_config = {"loggers": {"progress": {}}}
    if args.reason and not (args.close or args.reopen):
        parser.error("--reason goes with --close or --reopen")
    if args.close or args.reopen:
        name, month = ("close", args.close) if args.close else ("reopen", args.reopen)
        try:
            PeriodAction.parse(name, month, args.reason, getpass.getuser())
        except ClosingError as error:
            parser.error(str(error))
        config = {"action": name, "month": month, "reason": args.reason, "requested_by": getpass.getuser()}
        run_config["ops"] = {PERIOD_CLOSE_STEP: {"config": config}}

    warehouse = warehouse_from_env()
    started = time.perf_counter()
    landing = Path(warehouse.landing_dir)
    if args.sample_scale is not None and not landing.exists():
        from sample.generate import generate  # numpy and polars: paid only when generating

        print(f"generating a sample (scale {args.sample_scale}, seed {args.seed}) in {landing}")
        generate(landing, args.sample_scale, args.seed)

    current = None if args.close or args.reopen else warehouse.nothing_to_do()
    if current is not None:
        print(
            f"nothing new: publication {current} is the result of the files in {landing}, this code "
            "and these settings; no run started (EE_FULL_REBUILD=1 runs every step again)\n"
            f"{published_marts_line(warehouse)}\n{exec_report_line(warehouse)}"
        )
        return 0

    from assets.definitions import defs

    job = defs.resolve_job_def(EVERYTHING_JOB)
    job = job.with_logger_defs({"progress": stage_progress_logger(stage_totals(job))})
    with DagsterInstance.from_config(str(dagster_home())) as instance:
        wait_for_turn(instance)
        before = current_publication(Path(warehouse.warehouse_dir))
        print(f"running the pipeline on {landing} into {warehouse.warehouse_dir}")
        result = job.execute_in_process(
            instance=instance,
            resources={"warehouse": warehouse},
            raise_on_error=False,
            run_config=run_config,
            tags=command_line_tags(),
        )
    evaluations = result.get_asset_check_evaluations()
    after = current_publication(Path(warehouse.warehouse_dir))
    if not result.success and after != before:  # a step after the switch failed
        print(f"run failed after publishing {after.name}: it is the current publication")
    elif not result.success:  # the failed steps and checks were printed as they happened
        print("run failed: nothing was published; the previous publication is untouched")
    else:
        print_summary(warehouse, time.perf_counter() - started, evaluations)
        print(f"this run:        {recomputation(result)}")
    print(f"dagster run:     {result.run_id} in {instance.root_directory} (bash scripts/ee ui)")
    return 0 if result.success else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter finalization: duckdb 2.0's bindings print "nanobind: leaked ..." noise at
    # exit once SQLAlchemy (Great Expectations' driver) has held a connection. Nothing is lost:
    # every connection is closed and every file written before this point.
    os._exit(code)
