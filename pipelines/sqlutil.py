"""Quoting for the few SQL statements Python assembles (identifiers and literals only), the one
way Python groups statements into a DuckDB transaction, and whether a table exists yet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The statements of the block commit together or not at all (a table and the version that
    describes it, a file's rows and its manifest row)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def literal_list(values) -> str:
    """``('a', 'b')``: a list for ``IN``; never empty (an empty list is not valid SQL)."""
    items = [literal(v) for v in values] or ["NULL"]
    return "(" + ", ".join(items) + ")"


def array_literal(values) -> str:
    """``['a', 'b']::VARCHAR[]``: a DuckDB list of strings."""
    return "[" + ", ".join(literal(v) for v in values) + "]::VARCHAR[]"


def table_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """Whether ``relation`` (``schema.table``) exists: bookkeeping a first run has not written yet."""
    schema, table = relation.split(".")
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table]
        ).fetchone()[0]
    )
