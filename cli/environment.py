"""The environment variables the commands read, as their --help prints them."""

from __future__ import annotations

from assets.resources import (
    DEFAULT_DUCKDB_MEMORY_LIMIT,
    DEFAULT_ENGINE,
    DEFAULT_LANDING_DIR,
    DEFAULT_REPORTING_CURRENCY,
    DEFAULT_SENSOR_INTERVAL_SECONDS,
    DEFAULT_SPARK_MASTER,
    DEFAULT_WAREHOUSE_DIR,
)
from cli.instance import DEFAULT_DAGSTER_HOME

# What the commands print under --help (`bash scripts/ee help` lists the same in bash, with the
# variables of the script itself; tests/test_commands.py checks that both name every EE_* read).
ENVIRONMENT_HELP = f"""environment variables:
  EE_LANDING_DIR              the extract files to read (default {DEFAULT_LANDING_DIR})
  EE_WAREHOUSE_DIR            working.duckdb, the published marts.duckdb and parquet/, the check
                              reports (default {DEFAULT_WAREHOUSE_DIR})
  EE_REPORTING_CURRENCY       currency of every amount in the marts (default {DEFAULT_REPORTING_CURRENCY})
  EE_DUCKDB_THREADS           DuckDB threads of every connection (default 0 = one per core)
  EE_DUCKDB_MEMORY_LIMIT      DuckDB memory limit of every connection; beyond it DuckDB spills
                              to disk (default {DEFAULT_DUCKDB_MEMORY_LIMIT}; GB = 10^9 bytes)
  EE_DUCKDB_TEMP_DIR          where DuckDB spills (default <warehouse>/tmp)
  EE_FULL_REBUILD             1: restage every table, recompute every model, run every check,
                              whatever the data versions say (default unset)
  EE_ENGINE                   the engine of the SQL models and checks: duckdb or spark (default
                              {DEFAULT_ENGINE}; README, "Running on Spark")
  EE_SPARK_MASTER             where the spark engine runs Spark in this process (default {DEFAULT_SPARK_MASTER})
  EE_SPARK_REMOTE             a Spark Connect server (sc://host:15002) to run on instead (default unset)
  EE_SAMPLE_SCALE             the --sample-scale `bash scripts/ee run` passes (default 1)
  EE_SENSOR_INTERVAL_SECONDS  how often the UI's daemon polls EE_LANDING_DIR for the landing
                              sensor (default {DEFAULT_SENSOR_INTERVAL_SECONDS})
  DAGSTER_HOME                the Dagster instance shared with the UI: run history, queue, pools
                              (default {DEFAULT_DAGSTER_HOME.name}/ at the repository root)"""
