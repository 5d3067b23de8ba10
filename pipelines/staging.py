"""Staging: the contract's change-data rule, applied to a raw table.

One row per primary key: the greatest ``updated_at`` wins; on a tie (and always for tables
without ``updated_at``) the row from the file whose path sorts last (byte order) wins, and within
one file the later row. Quarantined rows never reach the raw table, so they never win. Entities
whose winning row says ``is_deleted`` are removed. The result depends only on the set of rows,
never on the order in which files were loaded.
"""

from __future__ import annotations

import duckdb

from pipelines.contract import Table
from pipelines.ingest import raw_table_name
from pipelines.sqlutil import ident

STAGING_SCHEMA = "staging"


def staging_table_name(table: Table) -> str:
    return f"{STAGING_SCHEMA}.{table.staging_name}"


def staging_sql(table: Table) -> str:
    """The SELECT that stages ``table`` (contract columns plus ``_file``/``_row`` lineage)."""
    keys = ", ".join(ident(k) for k in table.primary_key)
    order = "_file DESC, _row DESC"
    if table.has_updated_at:
        order = f"updated_at DESC, {order}"
    kept = [ident(c) for c in table.column_names if c != "is_deleted"]
    latest = (
        f"SELECT * FROM {raw_table_name(table)} "
        f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {order}) = 1"
    )
    where = "WHERE NOT is_deleted" if table.has_is_deleted else ""
    return f"SELECT {', '.join(kept)}, _file, _row FROM ({latest}) AS latest {where}"


def build_staging(con: duckdb.DuckDBPyConnection, table: Table) -> int:
    """(Re)build the staging table of ``table``; returns its row count."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}")
    con.execute(f"CREATE OR REPLACE TABLE {staging_table_name(table)} AS {staging_sql(table)}")
    return con.execute(f"SELECT count(*) FROM {staging_table_name(table)}").fetchone()[0]
