"""Query the published marts read-only, as a BI client does, and print the result as a table.

    python -m cli.sql "select * from retention limit 5"   (bash scripts/ee sql "...")
    python -m cli.sql                                    the published tables

It opens ``$EE_WAREHOUSE_DIR/marts.duckdb`` by its path, read-only, so that a fresh clone needs no
DuckDB CLI and a query can never change a publication (a write statement is refused).
"""

from __future__ import annotations

import argparse
import sys

import duckdb

from assets.resources import warehouse_from_env
from cli.environment import ENVIRONMENT_HELP
from pipelines.sqlutil import ident, literal

TABLES_QUERY = """SELECT table_name, column_count FROM duckdb_tables()
WHERE database_name = current_database() ORDER BY table_name"""


def tables_with_row_counts(con: duckdb.DuckDBPyConnection) -> str:
    """A query listing every published table with its rows and columns."""
    tables = con.execute(TABLES_QUERY).fetchall()
    return (
        " UNION ALL ".join(
            f'SELECT {literal(name)} AS "table", count(*) AS rows, {columns} AS columns FROM {ident(name)}'
            for name, columns in tables
        )
        + " ORDER BY 1"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cli.sql",
        description=__doc__.split("\n\n")[0],
        epilog=ENVIRONMENT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("query", nargs="?", help="DuckDB SQL; without it, the published tables are listed")
    parser.add_argument("--max-rows", type=int, default=100, help="rows shown (default 100)")
    args = parser.parse_args(argv)

    path = warehouse_from_env().published_db_path
    if not path.exists():
        print(f"no published marts at {path}: run `bash scripts/ee run` first", file=sys.stderr)
        return 1
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            result = con.sql(args.query or tables_with_row_counts(con))
        except duckdb.Error as error:
            print(error, file=sys.stderr)
            return 1
        if result is not None:  # statements such as SET return no relation
            result.show(max_rows=args.max_rows, max_width=10_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
