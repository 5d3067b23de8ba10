"""Two publications compared cell by cell: what "both engines give the same marts" means.

Money, counts, text, dates and flags must be equal; a DOUBLE (a ratio, a correlation) may differ by
1e-9 of its size, since two engines may add floating-point numbers in a different order. Rows are
matched on each mart's grain (``sql/marts/_models.yml``), so a difference names the row and the
column it is in.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from assets.sql_assets import load_sql_models
from pipelines.closing import RATIO_TOLERANCE  # the same "a ratio moved" as a restatement's
from pipelines.sqlutil import ident, literal

# Tables of a publication that describe the run (ids, times, fingerprints), not the data.
RUN_RECORDS = {"publish_log"}


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND table_name = ? ORDER BY column_index",
        [catalog, table],
    ).fetchall()


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [catalog]).fetchall()
    return {r[0] for r in rows} - RUN_RECORDS


def _same(column: str, data_type: str) -> str:
    a, b = f"a.{ident(column)}", f"b.{ident(column)}"
    if data_type in ("DOUBLE", "FLOAT"):
        return f"({a} IS NOT DISTINCT FROM {b} OR abs({a} - {b}) <= {RATIO_TOLERANCE} * greatest(abs({a}), abs({b})))"
    return f"{a} IS NOT DISTINCT FROM {b}"


def differences(expected: Path, actual: Path) -> list[str]:
    """What differs between the published ``marts.duckdb`` files ``expected`` and ``actual``
    (empty when they agree): tables, column types, rows missing on either side, cells."""
    grains = {name: m.grain for name, m in load_sql_models().items() if m.layer == "marts"}
    con = duckdb.connect()
    con.execute(f"ATTACH {literal(str(expected))} AS a (READ_ONLY)")
    con.execute(f"ATTACH {literal(str(actual))} AS b (READ_ONLY)")
    found = []
    tables_a, tables_b = _tables(con, "a"), _tables(con, "b")
    if tables_a != tables_b:
        found.append(
            f"tables: only in expected {sorted(tables_a - tables_b)}, only in actual {sorted(tables_b - tables_a)}"
        )
    for table in sorted(tables_a & tables_b):
        columns = _columns(con, "a", table)
        if columns != _columns(con, "b", table):
            found.append(f"{table}: columns {columns} != {_columns(con, 'b', table)}")
            continue
        grain = grains.get(table) or tuple(c for c, _ in columns)
        on = " AND ".join(f"a.{ident(c)} IS NOT DISTINCT FROM b.{ident(c)}" for c in grain)
        for side, other in (("a", "b"), ("b", "a")):
            missing = con.execute(
                f"SELECT count(*) FROM {side}.{ident(table)} AS {side} "
                f"ANTI JOIN {other}.{ident(table)} AS {other} ON {on}"
            ).fetchone()[0]
            if missing:
                found.append(f"{table}: {missing} row(s) only in {'expected' if side == 'a' else 'actual'}")
        for column, data_type in columns:
            if column in grain:
                continue
            rows = con.execute(
                f"SELECT {', '.join(f'a.{ident(c)}' for c in grain)}, a.{ident(column)}, b.{ident(column)} "
                f"FROM a.{ident(table)} AS a JOIN b.{ident(table)} AS b ON {on} "
                f"WHERE NOT {_same(column, data_type)} LIMIT 3"
            ).fetchall()
            if rows:
                found.append(f"{table}.{column} ({data_type}) differs, e.g. {rows}")
    return found
