"""Raw ingestion: extract files of one contract table into ``raw.<source>__<table>``.

Every file is read by DuckDB's own reader (CSV, Parquet, JSON lines), never row by row in
Python. Each row is cast and checked against the contract in one SQL pass: valid rows go to the
raw table with their lineage (file, row number, load id), rows that break a rule go to
``raw.quarantine`` with the rule and their raw values, so that read = loaded + quarantined.

Loading is incremental and idempotent: ``raw.load_manifest`` remembers each file's content hash;
an unchanged file is skipped, a changed file replaces the rows of its earlier version. A table is
loaded in one transaction, so a file that cannot be read fails the asset and leaves the raw
layer as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.contract import CURRENCIES_TABLE, Column, Table
from pipelines.landing import LandedFile, table_files
from pipelines.sqlutil import ident, literal, literal_list

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = f"{RAW_SCHEMA}.quarantine"
MANIFEST_TABLE = f"{RAW_SCHEMA}.load_manifest"
LINEAGE_COLUMNS = ("_file", "_row", "_load_id")


class IngestionError(Exception):
    """A file that cannot be ingested at all: the message names the file and the problem."""


@dataclass
class FileReport:
    file: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    extra_columns: list[str]


@dataclass
class TableReport:
    """What one materialization of a raw table did."""

    table: str
    files_seen: int = 0
    files_skipped: int = 0
    loaded: list[FileReport] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.loaded)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.loaded)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.loaded)


def raw_table_name(table: Table) -> str:
    return f"{RAW_SCHEMA}.{table.qualified_name}"


def ensure_raw_schema(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Create the raw, quarantine and manifest tables if this is the first load."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    columns = ", ".join(f"{ident(c.name)} {c.type}" for c in table.columns)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {raw_table_name(table)} "
        f"(_file VARCHAR, _row BIGINT, _load_id VARCHAR, {columns})"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (table_name VARCHAR, _file VARCHAR, "
        "_row BIGINT, rule VARCHAR, raw_values JSON, _load_id VARCHAR)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {MANIFEST_TABLE} (table_name VARCHAR, _file VARCHAR, "
        "file_hash VARCHAR, rules_fingerprint VARCHAR, _load_id VARCHAR, "
        "loaded_at TIMESTAMP, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, "
        "extra_columns VARCHAR[])"
    )


def known_currencies(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Currencies of the staged ``finance/currencies`` table (the allowed set)."""
    rows = con.execute(
        f"SELECT currency FROM staging.{CURRENCIES_TABLE.staging_name} ORDER BY currency"
    ).fetchall()
    return [r[0] for r in rows]


def rules_fingerprint(currencies: list[str] | None) -> str:
    """What the quarantine rules of a load depended on besides the contract: the currency set.

    A file loaded under another currency set is re-validated (a newly added currency frees
    rows that were quarantined as unknown).
    """
    return hashlib.sha256(",".join(currencies or []).encode()).hexdigest()[:16]


def _reader_sql(con: duckdb.DuckDBPyConnection, landed: LandedFile) -> str:
    """A SELECT over the file, every column named in lower case, in file order.

    CSV is read all-VARCHAR with RFC 4180 quoting (casting is the contract's job, not the
    sniffer's); JSON lines are read as objects so that a value of an unexpected type becomes a
    quarantined row instead of a failed file.
    """
    path = literal(str(landed.path))
    suffix = landed.path.suffix.lower()
    if suffix == ".csv":
        source = (
            f"read_csv({path}, header = true, all_varchar = true, delim = ',', quote = '\"', "
            f"escape = '\"', encoding = 'utf-8', strict_mode = true)"
        )
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        columns = {n: ident(n) for n in names}
    elif suffix == ".parquet":
        source = f"read_parquet({path})"
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        columns = {n: ident(n) for n in names}
    else:
        source = f"read_json_objects({path}, format = 'newline_delimited')"
        keys = con.execute(
            f"SELECT DISTINCT unnest(json_keys(json)) FROM {source} ORDER BY 1"
        ).fetchall()
        columns = {k: f"json ->> {literal(k)}" for (k,) in keys}
    seen: set[str] = set()
    selected = []
    for name, expr in columns.items():
        lower = name.lower()
        if lower in seen:
            raise IngestionError(f"{landed.relative_path}: column {lower!r} appears twice")
        seen.add(lower)
        selected.append(f"{expr} AS {ident(lower)}")
    if not selected:
        raise IngestionError(f"{landed.relative_path}: no columns (empty file or no header)")
    return f"SELECT {', '.join(selected)} FROM {source}"


def _typed(column: Column, raw: str) -> str:
    """SQL that casts a raw value to its contract type (NULL when it cannot)."""
    if column.enum is not None:
        return f"lower(trim(CAST({raw} AS VARCHAR)))"
    if column.currency:
        return f"upper(trim(CAST({raw} AS VARCHAR)))"
    if column.type == "VARCHAR":
        return f"CAST({raw} AS VARCHAR)"
    if column.type == "TIMESTAMP":
        # Via TIMESTAMPTZ so that an explicit offset is honoured; no offset means UTC.
        return f"CAST(TRY_CAST({raw} AS TIMESTAMPTZ) AS TIMESTAMP)"
    return f"TRY_CAST({raw} AS {column.type})"


def _violations(column: Column, raw: str, typed: str, currencies: list[str] | None) -> list[str]:
    """``CASE`` expressions, one per rule of the column, each naming the rule it breaks."""
    name = column.name
    rules = []
    if column.required:
        rules.append(f"WHEN {raw} IS NULL THEN 'null_required({name})'")
    rules.append(f"WHEN {raw} IS NOT NULL AND {typed} IS NULL THEN 'unparseable({name})'")
    if column.enum is not None:
        rules.append(f"WHEN {typed} NOT IN {literal_list(column.enum)} THEN 'bad_enum({name})'")
    if column.currency and currencies is not None:
        rules.append(
            f"WHEN {typed} NOT IN {literal_list(currencies)} THEN 'unknown_currency({name})'"
        )
    if column.min is not None:
        rules.append(f"WHEN {typed} < {column.min} THEN 'out_of_range({name})'")
    if column.max is not None:
        rules.append(f"WHEN {typed} > {column.max} THEN 'out_of_range({name})'")
    return [f"CASE {rule} END" for rule in rules]


def _load_file(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    landed: LandedFile,
    load_id: str,
    currencies: list[str] | None,
) -> FileReport:
    try:
        reader = _reader_sql(con, landed)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _landed AS {reader}")
    except duckdb.Error as error:
        raise IngestionError(f"{landed.relative_path}: cannot be read: {error}") from error

    landed_columns = [r[0] for r in con.execute("DESCRIBE _landed").fetchall()]
    missing = [
        c.name for c in table.columns if c.required and c.name not in landed_columns
    ]
    if missing:
        raise IngestionError(
            f"{landed.relative_path}: missing required column(s) {', '.join(missing)} "
            f"(table {table.qualified_name})"
        )
    extras = [c for c in landed_columns if c not in table.column_names and c not in LINEAGE_COLUMNS]

    typed_columns, checks = [], []
    for column in table.columns:
        raw = ident(column.name) if column.name in landed_columns else "NULL"
        typed = _typed(column, raw)
        typed_columns.append(f"{typed} AS {ident(column.name)}")
        checks.extend(_violations(column, raw, typed, currencies))
    extra_columns = [f"CAST({ident(e)} AS VARCHAR) AS {ident(e)}" for e in extras]
    # Row numbers come from the landed table's row ids, which follow file order (DuckDB keeps
    # insertion order) but need not start at zero (transaction-local storage).
    first_rowid = con.execute("SELECT coalesce(min(rowid), 0) FROM _landed").fetchone()[0]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _checked AS SELECT rowid - {first_rowid} + 1 AS _row, "
        f"concat_ws('; ', {', '.join(checks)}) AS _rule, "
        f"{', '.join(typed_columns + extra_columns)} FROM _landed"
    )

    target = raw_table_name(table)
    for extra in extras:
        con.execute(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {ident(extra)} VARCHAR")
    kept = ", ".join(ident(c) for c in (*table.column_names, *extras))
    file_sql, load_sql = literal(landed.relative_path), literal(load_id)
    con.execute(
        f"INSERT INTO {target} BY NAME SELECT {file_sql} AS _file, _row, {load_sql} AS _load_id, "
        f"{kept} FROM _checked WHERE _rule = ''"
    )
    con.execute(
        f"INSERT INTO {QUARANTINE_TABLE} SELECT {literal(table.qualified_name)}, {file_sql}, "
        f"c._row, c._rule, l.raw_values, {load_sql} FROM _checked c "
        f"JOIN (SELECT rowid - {first_rowid} + 1 AS _row, to_json(landed) AS raw_values "
        "FROM _landed landed) l "
        "ON c._row = l._row WHERE c._rule <> ''"
    )
    rows_read, rows_quarantined = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE _rule <> '') FROM _checked"
    ).fetchone()
    con.execute("DROP TABLE _landed")
    con.execute("DROP TABLE _checked")
    return FileReport(
        landed.relative_path, rows_read, rows_read - rows_quarantined, rows_quarantined, extras
    )


def load_table(
    con: duckdb.DuckDBPyConnection, table: Table, landing_dir: Path, load_id: str
) -> TableReport:
    """Load every new or changed file of ``table``; all or nothing (one transaction)."""
    ensure_raw_schema(con, table)
    currencies = known_currencies(con) if table.checks_currency else None
    fingerprint = rules_fingerprint(currencies)
    already = dict(
        con.execute(
            f"SELECT _file, file_hash || '/' || rules_fingerprint FROM {MANIFEST_TABLE} "
            "WHERE table_name = ?",
            [table.qualified_name],
        ).fetchall()
    )
    report = TableReport(table.qualified_name)
    files = table_files(landing_dir, table)
    report.files_seen = len(files)
    con.execute("BEGIN TRANSACTION")
    try:
        for landed in files:
            if already.get(landed.relative_path) == f"{landed.content_hash}/{fingerprint}":
                report.files_skipped += 1
                continue
            _forget_file(con, table, landed.relative_path)
            file_report = _load_file(con, table, landed, load_id, currencies)
            con.execute(
                f"INSERT INTO {MANIFEST_TABLE} VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?)",
                [
                    table.qualified_name,
                    landed.relative_path,
                    landed.content_hash,
                    fingerprint,
                    load_id,
                    file_report.rows_read,
                    file_report.rows_loaded,
                    file_report.rows_quarantined,
                    file_report.extra_columns,
                ],
            )
            report.loaded.append(file_report)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return report


def _forget_file(con: duckdb.DuckDBPyConnection, table: Table, relative_path: str) -> None:
    """Remove an earlier version of a file: its rows, its quarantined rows, its manifest entry."""
    con.execute(f"DELETE FROM {raw_table_name(table)} WHERE _file = ?", [relative_path])
    for bookkeeping in (QUARANTINE_TABLE, MANIFEST_TABLE):
        con.execute(
            f"DELETE FROM {bookkeeping} WHERE table_name = ? AND _file = ?",
            [table.qualified_name, relative_path],
        )


def manifest_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """One hash over every extract file loaded (table, path, content hash), from the manifest.

    It ties a publication to its inputs without reading the files again: ingestion already
    hashed each one.
    """
    digest = hashlib.sha256()
    for table_name, file, content_hash in con.execute(
        f"SELECT table_name, _file, file_hash FROM {MANIFEST_TABLE} ORDER BY table_name, _file"
    ).fetchall():
        digest.update(f"{table_name}\0{file}\0{content_hash}\n".encode())
    return digest.hexdigest()


def table_totals(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, int]:
    """Rows now in the raw table and in quarantine for it, over every file ever loaded."""
    loaded = con.execute(f"SELECT count(*) FROM {raw_table_name(table)}").fetchone()[0]
    quarantined = con.execute(
        f"SELECT count(*) FROM {QUARANTINE_TABLE} WHERE table_name = ?", [table.qualified_name]
    ).fetchone()[0]
    return {"raw_rows": loaded, "quarantined_rows": quarantined}
