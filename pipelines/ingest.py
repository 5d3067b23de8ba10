"""Raw ingestion: extract files of one contract table into ``raw.<source>__<table>``.

Every file is read by DuckDB's own readers (CSV, Parquet; JSON lines as lines of text), never row
by row in Python. Each row is cast and checked against the contract in one SQL pass: valid rows
go to the raw table with their lineage (file, row number, load id), rows that break a rule go to
``raw.quarantine`` with the rule and their raw values, so that read = loaded + quarantined.

Bad input, as contract revision 2 has it:

- a record that cannot be split into the file's columns (a CSV row with too many or too few
  fields or a broken quote, a JSON line that is not a JSON object) is quarantined as
  ``malformed_row`` with its raw text, ``{"line": "..."}``; the rest of the file loads;
- a field may be as large as 64 MiB; error messages quote at most a few hundred characters;
- extra columns are kept in the raw table under their (lower-case) name, except the names of
  the lineage columns, ``rowid`` and the empty name, which become ``_extra_<name>``; the SQL
  reads a file's columns under positional names, so that no name can shadow its own;
- a file that cannot be read at all (not UTF-8, not Parquet, empty, a required column missing)
  raises ``IngestionError`` naming the file and the reason; I/O errors are left to the caller's
  retries.

Row numbers (``_row``) count a file's records from 1 in file order, the malformed ones included:
for CSV without the header, for JSON lines the line number.

Loading is incremental and idempotent: ``raw.load_manifest`` remembers each file's content hash;
an unchanged file is skipped, a changed file replaces the rows of its earlier version. A table is
loaded in one transaction, so a file that cannot be read fails the asset and leaves the raw
layer as it was.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import mmap
from collections import Counter
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
# Names an extra column cannot keep in the raw table: the lineage columns, DuckDB's ``rowid``
# (a real column of that name would hide the pseudo-column) and the empty name. Such a column
# is stored as ``_extra_<name>``.
RESERVED_NAMES = frozenset({*LINEAGE_COLUMNS, "rowid", ""})
EXTRA_PREFIX = "_extra_"
MALFORMED_ROW = "malformed_row"  # a record that could not be split into the file's columns
# The contract allows fields of up to 64 MiB; a record may hold more than one large field.
MAX_LINE_BYTES = 128 * 1024 * 1024
MESSAGE_CHARS = 300  # the longest value quoted in an error message
READER_REVISION = 2  # the contract revision the readers implement (malformed rows, extra names)


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


def rules_fingerprint(table: Table, currencies: list[str] | None) -> str:
    """What the quarantine rules of a load depended on: the table's contract (columns, bounds,
    row rules), the reader's revision and the currency set.

    A file loaded under other rules is re-validated: a newly added currency frees rows that
    were quarantined as unknown, a new range quarantines rows that an earlier revision loaded.
    """
    rules = repr((READER_REVISION, table.columns, table.row_rules, currencies or []))
    return hashlib.sha256(rules.encode()).hexdigest()[:16]


def _clip(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters: a value quoted in a message may be a 64 MiB field."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,d} characters)"


def _duckdb_reason(error: duckdb.Error, landed: LandedFile) -> str:
    """DuckDB's reason in one short line (the lines after the first quote our SQL back)."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return _clip(lines[0].replace(str(landed.path), landed.relative_path))


# Options shared by the CSV and JSON-lines readers: no sniffing (the columns are given), strict
# RFC 4180, fields up to the contract's 64 MiB, and rejected records kept whole (not cut at
# DuckDB's default of 10,000 characters) to be quarantined.
_TEXT_READER = (
    f"auto_detect = false, encoding = 'utf-8', strict_mode = true, "
    f"max_line_size = {MAX_LINE_BYTES}, store_rejects = true, rejects_table = '_rejects', "
    "rejects_scan = '_reject_scans', rejects_line_size_limit = 0"
)

# The records of ``_read`` numbered 1, 2, ... in file order, skipping the numbers of the
# malformed records in ``_malformed`` (which join them): the i-th read record is preceded by k
# malformed ones, k the largest with fewer than i read records before it. Row ids follow file
# order (DuckDB keeps insertion order) but need not start at zero (transaction-local storage).
_RECORDS = """
SELECT r._i + coalesce(m.k, 0) AS _row, r.* EXCLUDE (_i)
FROM (SELECT rowid - (SELECT coalesce(min(rowid), 0) FROM _read) + 1 AS _i, * FROM _read) AS r
ASOF LEFT JOIN (
    SELECT read_before, max(k) AS k FROM (
        SELECT _row - row_number() OVER (ORDER BY _row) AS read_before,
            row_number() OVER (ORDER BY _row) AS k
        FROM _malformed
    ) GROUP BY read_before
) AS m ON r._i > m.read_before
UNION ALL BY NAME SELECT _row, _line FROM _malformed
"""


def _read(con: duckdb.DuckDBPyConnection, landed: LandedFile) -> tuple[list[str], str]:
    """Read ``landed``; return its column names (lower case) and a SELECT of its records.

    The SELECT has ``_row`` (1-based, file order), ``_line`` (the raw text of a record that
    could not be split into columns, else NULL) and the values as ``_c0``, ``_c1``, ... in the
    order of the names: positional names keep the file's own names out of the SQL, so that no
    column name can shadow one the SQL uses (``rowid``, ``_row``, ``_rule``, aliases).
    """
    path = literal(str(landed.path))
    suffix = landed.path.suffix.lower()
    try:
        if suffix == ".parquet":
            return _read_parquet(con, path)
        if suffix == ".csv":
            return _read_csv(con, landed, path)
        return _read_json_lines(con, landed, path)
    except duckdb.IOException:
        raise  # the file system, not the file: the asset's retry policy reads it again
    except duckdb.Error as error:
        raise IngestionError(
            f"{landed.relative_path}: cannot be read: {_duckdb_reason(error, landed)}"
        ) from error


def _read_parquet(con: duckdb.DuckDBPyConnection, path: str) -> tuple[list[str], str]:
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _read AS "
        f"SELECT * FROM read_parquet({path}) AS f({', '.join(f'_c{i}' for i in range(len(names)))})"
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _malformed (_row BIGINT, _line VARCHAR)")
    return [n.lower() for n in names], _RECORDS


def _csv_header(landed: LandedFile) -> list[str]:
    """The header's column names, read with Python's csv module (one record).

    DuckDB then reads the records with these columns given: its sniffer would give up on a file
    with ragged rows, which the contract quarantines instead. Lines are decoded one at a time,
    so that a byte that is not UTF-8 further down is left to DuckDB, which names its row.
    """
    try:
        with landed.path.open("rb") as handle:
            header = next(csv.reader(line.decode("utf-8-sig") for line in handle), [])
    except UnicodeDecodeError:
        raise IngestionError(f"{landed.relative_path}: not UTF-8 encoded") from None
    except csv.Error as error:
        raise IngestionError(
            f"{landed.relative_path}: cannot read the header: {_clip(str(error))}"
        ) from error
    if not header:
        raise IngestionError(f"{landed.relative_path}: empty file (no header row)")
    return [name.lower() for name in header]


def _read_csv(con: duckdb.DuckDBPyConnection, landed: LandedFile, path: str) -> tuple[list[str], str]:
    """CSV: RFC 4180, every value VARCHAR (casting is the contract's job, not the reader's)."""
    names = _csv_header(landed)
    columns = "{" + ", ".join(f"'_c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
    _read_text(
        con,
        landed,
        f"SELECT * FROM read_csv({path}, header = true, columns = {columns}, delim = ',', "
        f"quote = '\"', escape = '\"', {_TEXT_READER})",
        header_records=1,
    )
    _discount_blank_lines(con, landed)
    return names, _RECORDS


def _discount_blank_lines(con: duckdb.DuckDBPyConnection, landed: LandedFile) -> None:
    """Renumber the malformed records of a CSV file as if its blank lines were not there.

    DuckDB skips blank lines yet counts them in a rejected record's number, while the records
    it reads are numbered without them. Only for a file with a malformed record and a blank
    line: Python's csv module finds the blank records before the last malformed one.
    """
    last = con.execute("SELECT max(_row) FROM _malformed").fetchone()[0]
    if last is None:
        return
    with landed.path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as bytes_:
        if bytes_.find(b"\n\n") < 0 and bytes_.find(b"\n\r\n") < 0:
            return  # no blank line anywhere
    limit = csv.field_size_limit(MAX_LINE_BYTES)  # the module's default is 128 KiB a field
    try:
        with landed.path.open(newline="", encoding="utf-8-sig") as handle:
            records = itertools.islice(csv.reader(handle), 1, last + 1)  # after the header
            blanks = [number for number, record in enumerate(records, start=1) if not record]
    finally:
        csv.field_size_limit(limit)
    con.execute(
        "UPDATE _malformed SET _row = _row - (SELECT count(*) FROM unnest(?::BIGINT[]) AS b(n) "
        "WHERE b.n < _malformed._row)",
        [blanks],
    )


def _read_json_lines(con: duckdb.DuckDBPyConnection, landed: LandedFile, path: str) -> tuple[list[str], str]:
    """JSON lines, read as lines of text so that a line that is not a JSON object is a record
    to quarantine rather than a failed file; each object is parsed once for all its keys.

    The line reader is DuckDB's CSV reader with one column, no quoting and a control character
    as delimiter (never in valid JSON: a line holding one is rejected, hence malformed). Blank
    lines count as lines but are not records.
    """
    _read_text(
        con,
        landed,
        "SELECT _line, CASE WHEN json_valid(_line) THEN json_type(_line) = 'OBJECT' "
        f"ELSE false END AS _object FROM read_csv({path}, header = false, "
        f"columns = {{'_line': 'VARCHAR'}}, delim = E'\\x01', quote = '', escape = '', "
        f"{_TEXT_READER})",
        header_records=0,
    )
    keys = [k for (k,) in con.execute(
        "SELECT DISTINCT unnest(json_keys(_line)) FROM _read WHERE _object ORDER BY 1"
    ).fetchall()]  # fmt: skip
    lines, malformed = con.execute(
        "SELECT (SELECT count(*) FROM _read WHERE trim(coalesce(_line, '')) <> ''), "
        "(SELECT count(*) FROM _malformed)"
    ).fetchone()
    if lines + malformed == 0:
        raise IngestionError(f"{landed.relative_path}: empty file (no JSON lines)")
    # JSON pointers (not JSONPath) so that a key like "$x" or "a.b" is taken literally.
    pointers = [literal("/" + k.replace("~", "~0").replace("/", "~1")) for k in keys]
    values = ", ".join(f"_v[{i + 1}] AS _c{i}" for i in range(len(keys)))
    records = (
        f"SELECT _row, _line{', ' + values if values else ''} FROM ("
        "SELECT _row, CASE WHEN _object THEN NULL ELSE _line END AS _line, "
        f"json_extract_string(CASE WHEN _object THEN _line END, [{', '.join(pointers)}]::VARCHAR[]) AS _v "
        f"FROM ({_RECORDS}) WHERE _object OR trim(coalesce(_line, '')) <> '')"
    )
    return [k.lower() for k in keys], records


def _read_text(con: duckdb.DuckDBPyConnection, landed: LandedFile, select: str, header_records: int) -> None:
    """Run ``select`` (a ``read_csv`` storing its rejects) into ``_read``.

    The records DuckDB could not split into the columns (too many or too few fields, a broken
    quote, a line over the size limit) go to ``_malformed`` with their number and raw text; a
    record that is not UTF-8 fails the whole file instead (wrong encoding).
    """
    for rejects in ("_rejects", "_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {rejects}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _read AS {select}")
    # ``line`` counts records (a quoted field may span lines) from 1, header included.
    not_utf8 = con.execute(
        "SELECT min(line) FROM _rejects WHERE CAST(error_type AS VARCHAR) LIKE 'INVALID%'"
    ).fetchone()[0]
    if not_utf8 is not None:
        raise IngestionError(f"{landed.relative_path}: not UTF-8 encoded (row {not_utf8 - header_records})")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _malformed AS SELECT line - {header_records} AS _row, "
        "trim(any_value(csv_line), E'\\r\\n') AS _line FROM _rejects GROUP BY line"
    )
    for rejects in ("_rejects", "_reject_scans"):
        con.execute(f"DROP TABLE {rejects}")


def _check_columns(table: Table, landed: LandedFile, names: list[str]) -> None:
    """Every required column is there (the first problem of a file without a header), once."""
    missing = [c.name for c in table.columns if c.required and c.name not in names]
    if names and missing:  # no names at all: a JSON-lines file whose every line is malformed
        raise IngestionError(
            f"{landed.relative_path}: missing required column(s) {', '.join(missing)} "
            f"(table {table.qualified_name})"
        )
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise IngestionError(
            f"{landed.relative_path}: column(s) named more than once (names are "
            f"case-insensitive): {_clip(', '.join(map(repr, repeated)))}"
        )


def _stored_names(table: Table, extras: list[str]) -> dict[str, str]:
    """The raw-table column of each extra column: its own name, unless that name is reserved
    (lineage, ``rowid``, empty); then ``_extra_<name>``, prefixed again while that is taken."""
    taken = {*table.column_names, *extras}
    stored = {}
    for name in extras:
        column = name
        while column in RESERVED_NAMES or (column != name and column in taken):
            column = EXTRA_PREFIX + column
        taken.add(column)
        stored[name] = column
    return stored


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


def _violations(column: Column, raw: str, currencies: list[str] | None) -> list[str]:
    """``CASE`` expressions, one per rule of the column, each naming the rule it breaks.

    ``raw`` is the value as read; the typed value is the column of the contract's name.
    """
    name, typed = column.name, ident(column.name)
    rules = []
    if column.required:
        rules.append(f"WHEN {raw} IS NULL THEN 'null_required({name})'")
    rules.append(f"WHEN {raw} IS NOT NULL AND {typed} IS NULL THEN 'unparseable({name})'")
    if column.enum is not None:
        rules.append(f"WHEN {typed} NOT IN {literal_list(column.enum)} THEN 'bad_enum({name})'")
    if column.currency and currencies is not None:
        rules.append(f"WHEN {typed} NOT IN {literal_list(currencies)} THEN 'unknown_currency({name})'")
    if column.min is not None:
        below = "<=" if column.min_exclusive else "<"
        rules.append(f"WHEN {typed} {below} {column.min} THEN 'out_of_range({name})'")
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
    names, records = _read(con, landed)
    _check_columns(table, landed, names)
    raw = {name: f"_c{i}" for i, name in enumerate(names)}
    extras = [n for n in names if n not in table.column_names]
    stored = _stored_names(table, extras)

    typed = [f"{_typed(c, raw.get(c.name, 'NULL'))} AS {ident(c.name)}" for c in table.columns]
    checks = [v for c in table.columns for v in _violations(c, raw.get(c.name, "NULL"), currencies)]
    checks += [f"CASE WHEN {r.violation} THEN {literal(r.rule)} END" for r in table.row_rules]
    raw_values = ", ".join(f"{literal(name)}, {raw[name]}" for name in names)
    contract = ", ".join(ident(c) for c in table.column_names)
    # One pass: cast, check, and keep the raw values of the rows that break a rule.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _checked AS SELECT _row, _rule, {contract}"
        f"{''.join(', ' + raw[e] for e in extras)}, CASE WHEN _rule = '' THEN NULL "
        f"WHEN _line IS NOT NULL THEN json_object('line', _line) "
        f"ELSE json_object({raw_values}) END AS _raw_values "
        f"FROM (SELECT *, CASE WHEN _line IS NOT NULL THEN {literal(MALFORMED_ROW)} "
        f"ELSE concat_ws('; ', {', '.join(checks)}) END AS _rule "
        f"FROM (SELECT *, {', '.join(typed)} FROM ({records})))"
    )

    target = raw_table_name(table)
    for extra in extras:
        con.execute(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {ident(stored[extra])} VARCHAR")
    kept = [ident(c) for c in table.column_names]
    kept += [f"CAST({raw[e]} AS VARCHAR) AS {ident(stored[e])}" for e in extras]
    file_sql, load_sql = literal(landed.relative_path), literal(load_id)
    con.execute(
        f"INSERT INTO {target} BY NAME SELECT {file_sql} AS _file, _row, {load_sql} AS _load_id, "
        f"{', '.join(kept)} FROM _checked WHERE _rule = ''"
    )
    con.execute(
        f"INSERT INTO {QUARANTINE_TABLE} SELECT {literal(table.qualified_name)}, {file_sql}, "
        f"_row, _rule, _raw_values, {load_sql} FROM _checked WHERE _rule <> ''"
    )
    rows_read, rows_quarantined = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE _rule <> '') FROM _checked"
    ).fetchone()
    for temporary in ("_read", "_malformed", "_checked"):
        con.execute(f"DROP TABLE {temporary}")
    return FileReport(
        landed.relative_path,
        rows_read,
        rows_read - rows_quarantined,
        rows_quarantined,
        [stored[e] for e in extras],
    )


def load_table(con: duckdb.DuckDBPyConnection, table: Table, landing_dir: Path, load_id: str) -> TableReport:
    """Load every new or changed file of ``table``; all or nothing (one transaction)."""
    ensure_raw_schema(con, table)
    currencies = known_currencies(con) if table.checks_currency else None
    fingerprint = rules_fingerprint(table, currencies)
    already = dict(
        con.execute(
            f"SELECT _file, file_hash || '/' || rules_fingerprint FROM {MANIFEST_TABLE} WHERE table_name = ?",
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
