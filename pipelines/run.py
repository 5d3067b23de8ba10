"""Run the whole pipeline once, in this process, and print what it built.

    python -m pipelines.run [--sample-scale 1] [--seed 7]

With ``--sample-scale`` a sample landing folder is generated first if ``EE_LANDING_DIR`` does
not exist yet (an existing folder is never touched). The run itself is the ``everything`` job of
the code location, the same job that ``dagster job execute -m pipelines.definitions -j
everything`` and ``dagster asset materialize -m pipelines.definitions --select '*'`` run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from pipelines.contract import TABLES
from pipelines.generate import generate
from pipelines.ingest import QUARANTINE_TABLE, raw_table_name
from pipelines.settings import WarehouseResource, warehouse_from_env
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


def published_summary(warehouse: WarehouseResource) -> tuple[str, list[tuple[str, int]]]:
    """The latest publication's id and (mart, rows), read from marts.duckdb as a BI client would."""
    with duckdb.connect(str(warehouse.published_db_path), read_only=True) as con:
        publish_id, row_counts = con.execute(
            "SELECT publish_id, row_counts FROM publish_log ORDER BY published_at DESC LIMIT 1"
        ).fetchall()[0]
    return publish_id, sorted(json.loads(row_counts).items())


def print_summary(
    warehouse: WarehouseResource, seconds: float, checks_passed: int, checks_failed: int
) -> None:
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        rows = summary_rows(con)
    publish_id, marts = published_summary(warehouse)
    print(f"\n{'table':32s} {'raw rows':>12s} {'quarantined':>12s} {'staged rows':>12s}")
    for name, raw, quarantined, staged in rows:
        print(f"{name:32s} {raw:>12,d} {quarantined:>12,d} {staged:>12,d}")
    print(f"\n{'published mart':32s} {'rows':>12s}")
    for name, count in marts:
        print(f"{name:32s} {count:>12,d}")
    print(
        f"\n{len(rows)} tables, {sum(r[1] for r in rows):,d} rows loaded, "
        f"{sum(r[2] for r in rows):,d} quarantined; checks passed {checks_passed}, failed "
        f"{checks_failed}; publication {publish_id}; {seconds:.1f}s\n"
        f"published marts: {warehouse.published_db_path} and {warehouse.parquet_dir}/<mart>/\n"
        f"check report:    {warehouse.validation_dir / 'index.html'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample-scale", type=float, help="generate a sample first if missing")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    warehouse = warehouse_from_env()
    started = time.perf_counter()
    landing = Path(warehouse.landing_dir)
    if args.sample_scale is not None and not landing.exists():
        print(f"generating a sample (scale {args.sample_scale}, seed {args.seed}) in {landing}")
        generate(landing, args.sample_scale, args.seed)

    from pipelines.definitions import defs

    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("everything").execute_in_process(
            instance=instance,
            resources={"warehouse": warehouse},
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    evaluations = result.get_asset_check_evaluations()
    for evaluation in evaluations:
        if not evaluation.passed:
            print(f"CHECK FAILED {evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                print(f"FAILED {event.step_key}: {event.step_failure_data.error.message.strip()}")
        return 1
    passed = sum(e.passed for e in evaluations)
    print_summary(warehouse, time.perf_counter() - started, passed, len(evaluations) - passed)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter finalization: duckdb 2.0's bindings print "nanobind: leaked ..." noise at
    # exit once SQLAlchemy (Great Expectations' driver) has held a connection. Nothing is lost:
    # every connection is closed and every file written before this point.
    os._exit(code)
