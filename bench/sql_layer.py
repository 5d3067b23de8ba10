"""Time the SQL layer on an already ingested warehouse: Dagster vs the same SQL run directly.

    python bench/sql_layer.py --landing data/landing --warehouse data/warehouse

1. Dagster: materialize every SQL model asset (and, separately, with its blocking checks), in
   process, against a copy of the working database.
2. Floor: the same .sql files executed in dependency order in one DuckDB connection, no
   orchestration, no checks, against another copy.
The ratio Dagster / floor is the orchestration overhead of the SQL layer.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
from dagster import materialize

from assets.sql_assets import EXTERNAL_TABLES
from pipelines.definitions import sql_assets, sql_checks, suite_checks
from assets.settings_tables import read_engagement_weights, write_engagement_weights, write_run_settings
from pipelines.settings import DEFAULT_ENGAGEMENT_WEIGHTS_FILE, WORKING_DB_NAME, WarehouseResource
from pipelines.sql_models import SQL_DIR, build_model, dependency_order, load_models


def copy_warehouse(source: Path, scratch: Path, name: str) -> Path:
    target = scratch / name
    target.mkdir()
    shutil.copy(source / WORKING_DB_NAME, target / WORKING_DB_NAME)
    return target


def time_dagster(landing: str, warehouse_dir: Path, with_checks: bool) -> float:
    warehouse = WarehouseResource(landing_dir=landing, warehouse_dir=str(warehouse_dir))
    definitions = [*sql_assets, *((*sql_checks, *suite_checks) if with_checks else ())]
    started = time.perf_counter()
    result = materialize(definitions, resources={"warehouse": warehouse})
    assert result.success
    return time.perf_counter() - started


def time_direct(warehouse_dir: Path) -> float:
    models = load_models(SQL_DIR, {name: key.path[0] for name, key in EXTERNAL_TABLES.items()})
    started = time.perf_counter()
    with duckdb.connect(str(warehouse_dir / WORKING_DB_NAME)) as con:
        con.execute("SET TimeZone = 'UTC'")
        write_run_settings(con, "USD")
        write_engagement_weights(con, read_engagement_weights(Path(DEFAULT_ENGAGEMENT_WEIGHTS_FILE)))
        for model in dependency_order(models):
            build_model(con, model)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landing", required=True)
    parser.add_argument("--warehouse", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        direct = time_direct(copy_warehouse(args.warehouse, scratch, "direct"))
        dagster = time_dagster(args.landing, copy_warehouse(args.warehouse, scratch, "dagster"), False)
        checked = time_dagster(args.landing, copy_warehouse(args.warehouse, scratch, "checked"), True)
    print(f"direct SQL (floor):       {direct:7.1f}s")
    print(f"Dagster, models only:     {dagster:7.1f}s  ratio {dagster / direct:.2f}")
    print(f"Dagster, models + checks: {checked:7.1f}s  ratio {checked / direct:.2f}")


if __name__ == "__main__":
    main()
