"""Staging: the contract's change-data rule, applied to a raw table.

One row per primary key: the greatest ``updated_at`` wins; on a tie (and always for tables
without ``updated_at``) the row from the file whose path sorts last (byte order) wins, and within
one file the later row. Quarantined rows never reach the raw table, so they never win. Entities
whose winning row says ``is_deleted`` are removed. The result depends only on the set of rows,
never on the order in which files were loaded.

A daily run applies only what it loaded (a key merge): the keys of the rows in the files new
since the table was last staged are taken out of the staged table and their winners, chosen
among all their raw rows by the same rule, put back (a key whose winner now says ``is_deleted``
stays out). That is the full rule restricted to the keys that can have changed, so the table is
the one a rebuild gives. A key's staged row is the winner of all its earlier rows, and keeps the
``updated_at``, ``_file`` and ``_row`` the rule compares: the winner among the earlier rows and
the new ones is the winner between that staged row and the new rows, so the raw history is not
read again (it holds every version ever loaded and only grows). Only a table with
``is_deleted`` reads the touched keys' earlier raw rows: a key deleted so far has no staged row
to stand for them. A table with no new file is not touched. A file replaced in place (same
path, other content), a file gone from the manifest or a change of the staging rule itself (its
SQL) rebuilds the table: an earlier version's rows are no longer in the raw table, so the keys
they held cannot be known. A merge keeps the rows it changed (before and after) as the table's
changeset (``pipelines.changes``); a rebuild keeps none.

The staged table's version (``pipelines.versions``) changes only when a contract value changed:
a re-sent identical row may move a winner's lineage (``_file``, ``_row``), which no model reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.changes import differing_by_grain, forget_changes, record_changes
from pipelines.contract import Table
from pipelines.ingest import loaded_files, raw_table_name
from pipelines.sqlutil import ident, null_safe_match, transaction
from pipelines.versions import META_SCHEMA, ensure_meta, fingerprint, record_version, versions

STAGING_SCHEMA = "staging"
STAGED_FILES_TABLE = f"{META_SCHEMA}.staged_files"  # the manifest each staged table was built from


@dataclass(frozen=True)
class StagingReport:
    mode: str  # "unchanged" (no new file), "merged" (new files applied by key) or "rebuilt"
    rows: int
    files_applied: int  # the new files merged, every file on a rebuild, 0 when unchanged
    keys_touched: int
    version: str
    changed: bool  # whether a contract value of the table changed


def staging_table_name(table: Table) -> str:
    return f"{STAGING_SCHEMA}.{table.staging_name}"


def staging_sql(table: Table, source: str | None = None) -> str:
    """The SELECT that stages ``table`` (contract columns plus ``_file``/``_row`` lineage) from
    ``source``, by default the whole raw table.

    On the whole raw table only keys with more than one raw row go through the window that picks
    the winner: a key's only row is its own winner, and a grouping of the keys plus two hash
    joins cost about half the sort of every row (15 M transactions at scale 10: 8 s against
    4.7 s), as almost every key has one row."""
    keys = ", ".join(ident(k) for k in table.primary_key)
    order = "_file DESC, _row DESC"
    if table.has_updated_at:
        order = f"updated_at DESC, {order}"
    kept = [ident(c) for c in _contract_columns(table)]
    window = f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {order}) = 1"
    if source is None:
        raw, repeated = raw_table_name(table), null_safe_match(table.primary_key, "s", "r")
        latest = (
            f"WITH repeated AS (SELECT {keys} FROM {raw} GROUP BY ALL HAVING count(*) > 1) "
            f"SELECT * FROM {raw} AS s WHERE NOT EXISTS (SELECT 1 FROM repeated AS r WHERE {repeated}) "
            f"UNION ALL SELECT * FROM {raw} AS s WHERE EXISTS (SELECT 1 FROM repeated AS r WHERE {repeated}) "
            f"{window}"
        )
    else:
        latest = f"SELECT * FROM {source} {window}"
    where = "WHERE NOT is_deleted" if table.has_is_deleted else ""
    return f"SELECT {', '.join(kept)}, _file, _row FROM ({latest}) AS latest {where}"


def _staged_files(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, str]:
    """{file: content hash/rules fingerprint} of the files the staged table was built from."""
    sql = f"SELECT _file, file_key FROM {STAGED_FILES_TABLE} WHERE table_name = ?"
    return dict(con.execute(sql, [table.qualified_name]).fetchall())


def _contract_columns(table: Table) -> list[str]:
    """The columns a staged table keeps of the contract's (``is_deleted`` is applied, not kept)."""
    return [c for c in table.column_names if c != "is_deleted"]


def _merge(
    con: duckdb.DuckDBPyConnection, table: Table, new_files: list[str], version: str, next_version: str
) -> tuple[int, bool]:
    """Apply the rows of ``new_files`` by key; returns (keys touched, whether a value changed).
    The rows that changed are kept as the changeset from ``version`` to ``next_version``
    (``pipelines.changes``): the models that read the table recompute only what they touch."""
    keys = [ident(k) for k in table.primary_key]
    staged, raw = staging_table_name(table), raw_table_name(table)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT {', '.join(keys)} FROM {raw} "
        "WHERE _file IN (SELECT unnest(?::VARCHAR[]))",
        [new_files],
    )
    match = null_safe_match(table.primary_key, "s", "k")
    touched = f"EXISTS (SELECT 1 FROM _touched AS k WHERE {match})"
    contract = _contract_columns(table)
    columns = ", ".join(ident(c) for c in contract)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _before AS SELECT {columns}, _file, _row FROM {staged} AS s WHERE {touched}"
    )
    if table.has_is_deleted:  # a key deleted so far has no staged row: its earlier raw rows are read
        candidates, parameters = f"(SELECT * FROM {raw} AS s WHERE {touched})", []
    else:  # a key's staged row stands for its earlier rows (module doc)
        candidates = (
            f"(SELECT {columns}, _file, _row FROM {raw} WHERE _file IN (SELECT unnest(?::VARCHAR[])) "
            "UNION ALL SELECT * FROM _before)"
        )
        parameters = [new_files]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _winners AS {staging_sql(table, candidates)}", parameters)
    # The key is the staged table's grain (one row per key): joined on it, not two EXCEPT ALLs.
    changed_rows = differing_by_grain(
        f"(SELECT {columns} FROM _before)",
        f"(SELECT {columns} FROM _winners)",
        list(table.primary_key),
        contract,
    )
    changed = record_changes(con, staged, version, next_version, changed_rows) > 0
    con.execute(f"DELETE FROM {staged} AS s USING _touched AS k WHERE {match}")
    con.execute(f"INSERT INTO {staged} SELECT * FROM _winners")
    keys_touched = con.execute("SELECT count(*) FROM _touched").fetchone()[0]
    con.execute("DROP TABLE _touched; DROP TABLE _winners; DROP TABLE _before")
    return keys_touched, changed


def build_staging(con: duckdb.DuckDBPyConnection, table: Table, rebuild: bool = False) -> StagingReport:
    """Bring the staged table of ``table`` up to date with its raw table (see the module doc);
    ``rebuild``: from all raw rows, even when a merge or nothing would do."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}")
    ensure_meta(con)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STAGED_FILES_TABLE} "
        "(table_name VARCHAR, _file VARCHAR, file_key VARCHAR, rule VARCHAR, PRIMARY KEY (table_name, _file))"
    )
    staged = staging_table_name(table)
    rule = fingerprint(staging_sql(table))
    loaded, before = loaded_files(con, table), _staged_files(con, table)
    version = versions(con, [staged])[staged]
    recorded_rule = con.execute(
        f"SELECT any_value(rule) FROM {STAGED_FILES_TABLE} WHERE table_name = ?", [table.qualified_name]
    ).fetchone()[0]
    new_files = sorted(set(loaded) - set(before))
    loaded_version = fingerprint(rule, sorted(loaded.items()))
    can_merge = (
        not rebuild
        and version is not None
        and recorded_rule == rule  # never recorded for a table with no file: rebuilt (cheaply)
        and all(loaded.get(file) == key for file, key in before.items())
    )
    with transaction(con):
        if can_merge and not new_files:
            mode, touched, changed = "unchanged", 0, False
        elif can_merge:
            mode = "merged"
            touched, changed = _merge(con, table, new_files, version, loaded_version)
        else:
            mode, touched = "rebuilt", 0
            con.execute(f"CREATE OR REPLACE TABLE {staged} AS {staging_sql(table)}")
            forget_changes(con, staged)
            # Not compared row by row: the version is a function of the files and the rule, so
            # an equal token (an empty table, the same files again) means equal content.
            changed = version != loaded_version
        if mode != "unchanged":
            con.execute(f"DELETE FROM {STAGED_FILES_TABLE} WHERE table_name = ?", [table.qualified_name])
        if changed:
            version = loaded_version
            record_version(con, staged, version)
        if mode != "unchanged" and loaded:
            con.executemany(
                f"INSERT INTO {STAGED_FILES_TABLE} VALUES (?, ?, ?, ?)",
                [[table.qualified_name, file, key, rule] for file, key in sorted(loaded.items())],
            )
    rows = con.execute(f"SELECT count(*) FROM {staged}").fetchone()[0]
    applied = {"unchanged": 0, "merged": len(new_files), "rebuilt": len(loaded)}[mode]
    return StagingReport(mode, rows, applied, touched, version, changed)
