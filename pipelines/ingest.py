"""Raw ingestion: extract files of one contract table into ``raw.<source>__<table>``.

Every file is read by DuckDB's own readers (CSV, Parquet; JSON lines as lines of text), never row
by row in Python. Each row is cast and checked against the contract in one SQL pass: valid rows
go to the raw table with their lineage (file, row number, load id), rows that break a rule go to
``raw.quarantine`` with the rule and their raw values, so that read = loaded + quarantined.

Each file is read once, by the statement that casts and checks its rows into one temporary table
(``_checked``); the raw table and the quarantine are written from there, and only a row that
breaks a rule has its raw values turned into JSON. The CSV reader keeps the records it rejects
(``store_rejects``) for the quarantine. Parquet files with the same columns are read by one
statement, so that DuckDB scans them in parallel (it scans a file of one row group on one thread).

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

Loading is incremental and idempotent: ``raw.load_manifest`` remembers each file's content hash
(and the size and modification time it had, so that an untouched file is not read again to hash
it); an unchanged file is skipped, a changed file replaces the rows of its earlier version. A table is
loaded in one transaction, so a file that cannot be read fails the asset and leaves the raw
layer as it was.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import mmap
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.contract import CURRENCIES_TABLE, Column, Table
from pipelines.landing import LandedFile, landing_fingerprint, listing_fingerprint, table_files
from pipelines.sqlutil import ident, literal, literal_list, table_exists, transaction

RAW_SCHEMA = "raw"
QUARANTINE_TABLE = f"{RAW_SCHEMA}.quarantine"
MANIFEST_TABLE = f"{RAW_SCHEMA}.load_manifest"
# Each table's files as its last load listed them (pipelines.landing.listing_fingerprint).
LISTINGS_TABLE = f"{RAW_SCHEMA}.landing_listings"
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
    _add_new_contract_columns(con, table)
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
    for column in ("file_size", "file_mtime_ns"):  # added later: a manifest of before gets them empty
        con.execute(f"ALTER TABLE {MANIFEST_TABLE} ADD COLUMN IF NOT EXISTS {column} BIGINT")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {LISTINGS_TABLE} (table_name VARCHAR PRIMARY KEY, listing VARCHAR)"
    )


def _add_new_contract_columns(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Bring a raw table created under an earlier contract revision up to this one.

    A column the contract added (e.g. ``quantity`` in revision 2) is added; if earlier files
    carried it, it was kept as an extra text column and is retyped. The files still in the landing
    folder are validated again anyway, since the rules fingerprint changed with the contract.
    """
    existing = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
            [RAW_SCHEMA, table.qualified_name],
        ).fetchall()
    )
    target = raw_table_name(table)
    for column in table.columns:
        name = ident(column.name)
        if column.name not in existing:
            con.execute(f"ALTER TABLE {target} ADD COLUMN {name} {column.type}")
        elif existing[column.name] != column.type:
            con.execute(
                f"ALTER TABLE {target} ALTER {name} TYPE {column.type} USING TRY_CAST({name} AS {column.type})"
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
_DROP_REJECTS = "DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _reject_scans"
_GLOB_CHARACTERS = frozenset("*?[")  # a path with one is read alone, as the reader would expand it

# ``_checked`` with the row number ``_row`` of each record: ``_n`` numbers the records the reader
# could split (1, 2, ... in file order); the malformed records of ``_malformed`` take the numbers
# in between. The n-th read record is preceded by k malformed ones, k the largest with fewer than
# n read records before it.
_RENUMBERED = """(
SELECT c._n + coalesce(m.k, 0) AS _row, c.* FROM _checked AS c
ASOF LEFT JOIN (
    SELECT read_before, max(k) AS k FROM (
        SELECT _row - row_number() OVER (ORDER BY _row) AS read_before,
            row_number() OVER (ORDER BY _row) AS k
        FROM _malformed
    ) GROUP BY read_before
) AS m ON c._n > m.read_before
)"""
_NUMBERED = "(SELECT _n AS _row, * FROM _checked)"


@dataclass
class _Batch:
    """Files read by one statement into ``_checked``: one text file, or Parquet files that share
    their columns (names and types), which DuckDB then scans in parallel.

    ``source`` is a SELECT of the records with ``_n`` (see ``_RENUMBERED``), ``_f`` (the index of
    the record's file in ``files``) when there are several files, ``_line`` (the raw text of a
    JSON line that is not an object, else NULL) when ``has_line``, and the values as ``_c0``,
    ``_c1``, ... in the order of ``names``: positional names keep the file's own names out of the
    SQL, so that no column name can shadow one the SQL uses (``rowid``, ``_row``, ``_rule``).
    """

    files: list[LandedFile]
    names: list[str]
    source: str
    has_line: bool = False
    malformed: int = 0  # records in ``_malformed`` (one text file only)
    types: list[str] | None = None  # the DuckDB type of each column (Parquet; text is VARCHAR)


def _read_failure(landed: LandedFile, error: duckdb.Error) -> IngestionError:
    return IngestionError(f"{landed.relative_path}: cannot be read: {_duckdb_reason(error, landed)}")


@contextmanager
def _reading(landed: LandedFile) -> Iterator[None]:
    """A DuckDB error while reading ``landed`` is its ``IngestionError``, except an I/O error
    (the file system, not the file: the asset's retry policy reads it again)."""
    try:
        yield
    except duckdb.IOException:
        raise
    except duckdb.Error as error:
        raise _read_failure(landed, error) from error


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


def _take_rejects(con: duckdb.DuckDBPyConnection, landed: LandedFile, header_records: int) -> int:
    """The records the last ``read_csv`` rejected, as ``_malformed`` (their number and raw text);
    returns how many. A record that is not UTF-8 fails the whole file instead (wrong encoding).

    DuckDB rejects the records it cannot split into the columns (too many or too few fields, a
    broken quote, a line over the size limit); ``line`` counts records (a quoted field may span
    lines) from 1, header included.
    """
    not_utf8, rejected = con.execute(
        "SELECT min(line) FILTER (WHERE CAST(error_type AS VARCHAR) LIKE 'INVALID%'), count(*) FROM _rejects"
    ).fetchone()
    if not_utf8 is not None:
        raise IngestionError(f"{landed.relative_path}: not UTF-8 encoded (row {not_utf8 - header_records})")
    malformed = 0
    if rejected:
        malformed = con.execute(
            f"CREATE OR REPLACE TEMP TABLE _malformed AS SELECT line - {header_records} AS _row, "
            "trim(any_value(csv_line), E'\\r\\n') AS _line FROM _rejects GROUP BY line"
        ).fetchone()[0]
    con.execute(_DROP_REJECTS)
    return malformed


def _discount_blank_lines(con: duckdb.DuckDBPyConnection, landed: LandedFile) -> None:
    """Renumber the malformed records of a CSV file as if its blank lines were not there.

    DuckDB skips blank lines yet counts them in a rejected record's number, while the records
    it reads are numbered without them. Only for a file with a malformed record and a blank
    line: Python's csv module finds the blank records before the last malformed one.
    """
    last = con.execute("SELECT max(_row) FROM _malformed").fetchone()[0]
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


def _load_csv(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    landed: LandedFile,
    load_id: str,
    currencies: list[str] | None,
) -> FileReport:
    """CSV: RFC 4180, every value VARCHAR (casting is the contract's job, not the reader's),
    read once, straight into ``_checked``."""
    names = _csv_header(landed)
    columns = "{" + ", ".join(f"'_c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
    source = (
        f"SELECT ordinality AS _n, * EXCLUDE (ordinality) FROM read_csv({literal(str(landed.path))}, "
        f"header = true, columns = {columns}, delim = ',', quote = '\"', escape = '\"', {_TEXT_READER}) "
        "WITH ORDINALITY"
    )
    batch = _Batch([landed], names, source)
    con.execute(_DROP_REJECTS)
    with _reading(landed):
        _check(con, table, batch, currencies)
    batch.malformed = _take_rejects(con, landed, header_records=1)
    if batch.malformed:
        _discount_blank_lines(con, landed)
    _check_columns(table, landed, names)
    return _write(con, table, batch, load_id)[0]


def _load_json_lines(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    landed: LandedFile,
    load_id: str,
    currencies: list[str] | None,
) -> FileReport:
    """JSON lines, read as lines of text so that a line that is not a JSON object is a record
    to quarantine rather than a failed file; each object is parsed once for all its keys.

    The line reader is DuckDB's CSV reader with one column, no quoting and a control character
    as delimiter (never in valid JSON: a line holding one is rejected, hence malformed). Blank
    lines count as lines but are not records.
    """
    con.execute(_DROP_REJECTS)
    with _reading(landed):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _read AS SELECT ordinality AS _n, _line, "
            "CASE WHEN json_valid(_line) THEN json_type(_line) = 'OBJECT' ELSE false END AS _object "
            f"FROM read_csv({literal(str(landed.path))}, header = false, columns = {{'_line': 'VARCHAR'}}, "
            f"delim = E'\\x01', quote = '', escape = '', {_TEXT_READER}) WITH ORDINALITY"
        )
    malformed = _take_rejects(con, landed, header_records=0)
    record = "_object OR trim(coalesce(_line, '')) <> ''"  # an object is never blank
    keys, lines = con.execute(
        "SELECT (SELECT list(k ORDER BY k) FROM (SELECT DISTINCT unnest(json_keys(_line)) AS k "
        f"FROM _read WHERE _object)), (SELECT count(*) FROM _read WHERE {record})"
    ).fetchone()
    keys = keys or []
    if lines + malformed == 0:
        raise IngestionError(f"{landed.relative_path}: empty file (no JSON lines)")
    # JSON pointers (not JSONPath) so that a key like "$x" or "a.b" is taken literally.
    pointers = [literal("/" + k.replace("~", "~0").replace("/", "~1")) for k in keys]
    values = "".join(f", _v[{i + 1}] AS _c{i}" for i in range(len(keys)))
    source = (
        f"SELECT _n, _line{values} FROM (SELECT _n, CASE WHEN _object THEN NULL ELSE _line END AS _line, "
        f"json_extract_string(CASE WHEN _object THEN _line END, [{', '.join(pointers)}]::VARCHAR[]) AS _v "
        f"FROM _read WHERE {record})"
    )
    names = [k.lower() for k in keys]
    batch = _Batch([landed], names, source, has_line=True, malformed=malformed)
    _check_columns(table, landed, names)
    _check(con, table, batch, currencies)
    con.execute("DROP TABLE _read")
    return _write(con, table, batch, load_id)[0]


def _parquet_columns(reader: duckdb.DuckDBPyConnection, landed: LandedFile) -> list[tuple[str, str]]:
    """(name, type) of each column of a Parquet file, from its footer (not its data)."""
    with _reading(landed):
        return [
            (r[0], r[1])
            for r in reader.execute(
                f"DESCRIBE SELECT * FROM read_parquet({literal(str(landed.path))})"
            ).fetchall()
        ]


def _parquet_scan(files: list[LandedFile], width: int) -> str:
    paths = [literal(str(f.path)) for f in files]
    paths_sql = paths[0] if len(paths) == 1 else f"[{', '.join(paths)}]"
    return f"read_parquet({paths_sql}) AS f({', '.join(f'_c{i}' for i in range(width))})"


_Described = tuple[LandedFile, list[tuple[str, str]]]  # a Parquet file and its (name, type) columns


def _load_parquet(
    con: duckdb.DuckDBPyConnection,
    reader: duckdb.DuckDBPyConnection,
    table: Table,
    pending: list[_Described],
    load_id: str,
    currencies: list[str] | None,
) -> list[FileReport]:
    """Parquet files, those with the same columns (names and types) read by one statement:
    DuckDB scans a file of one row group on one thread, several files in parallel.

    ``reader`` is a second connection to the database, to find which file failed a statement
    that read several (the transaction of ``con`` is void after an error)."""
    groups: dict[object, list[LandedFile]] = {}
    columns: dict[str, list[tuple[str, str]]] = {}
    for landed, described in pending:
        alone = _GLOB_CHARACTERS & set(str(landed.path))
        groups.setdefault(landed.relative_path if alone else tuple(described), []).append(landed)
        columns[landed.relative_path] = described
    reports = []
    for files in groups.values():
        described = columns[files[0].relative_path]
        several = len(files) > 1
        source = (
            f"SELECT {'CAST(file_index AS BIGINT) AS _f, ' if several else ''}file_row_number + 1 AS _n, * "
            f"FROM {_parquet_scan(files, len(described))}"
        )
        batch = _Batch(
            files, [name.lower() for name, _ in described], source, types=[t for _, t in described]
        )
        try:
            _check(con, table, batch, currencies)
        except duckdb.IOException:
            raise
        except duckdb.Error as error:
            if not several:
                raise _read_failure(files[0], error) from error
            culprit = _culprit(reader, pending)
            if culprit is None:
                raise
            raise culprit from error
        reports += _write(con, table, batch, load_id)
    return reports


def _culprit(reader: duckdb.DuckDBPyConnection, pending: list[_Described]) -> Exception | None:
    """The error of the first file of ``pending`` that cannot be read alone, if any, as a load
    one file at a time would have met it."""
    for landed, described in pending:
        try:
            scan = _parquet_scan([landed], len(described))
            reader.execute(f"CREATE OR REPLACE TEMP TABLE _probe AS SELECT * FROM {scan}")
        except duckdb.IOException as error:
            return error
        except duckdb.Error as error:
            return _read_failure(landed, error)
    reader.execute("DROP TABLE IF EXISTS _probe")
    return None


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


def _typed(column: Column, raw: str, raw_type: str = "VARCHAR", utc: bool = False) -> str:
    """SQL that casts a raw value to its contract type (NULL when it cannot)."""
    if column.type == "TIMESTAMP" and raw_type == "TIMESTAMP" and utc:
        # A TIMESTAMP (Parquet) in a UTC session: the way through TIMESTAMPTZ below is the
        # identity there, every value included, and costs more than reading the file.
        return raw
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


def _violations(column: Column, raw: str, currencies: list[str] | None) -> list[tuple[str, str]]:
    """(condition, rule) pairs, one per rule of the column: the row breaks ``rule`` when the
    SQL ``condition`` is true.

    ``raw`` is the value as read; the typed value is the column of the contract's name.
    """
    name, typed = column.name, ident(column.name)
    rules = []
    if column.required:
        rules.append((f"{raw} IS NULL", f"null_required({name})"))
    rules.append((f"{raw} IS NOT NULL AND {typed} IS NULL", f"unparseable({name})"))
    if column.enum is not None:
        rules.append((f"{typed} NOT IN {literal_list(column.enum)}", f"bad_enum({name})"))
    if column.currency and currencies is not None:
        rules.append((f"{typed} NOT IN {literal_list(currencies)}", f"unknown_currency({name})"))
    if column.min is not None:
        below = "<=" if column.min_exclusive else "<"
        rules.append((f"{typed} {below} {column.min}", f"out_of_range({name})"))
    if column.max is not None:
        rules.append((f"{typed} > {column.max}", f"out_of_range({name})"))
    return rules


def _extras(table: Table, names: list[str]) -> list[str]:
    return [n for n in names if n not in table.column_names]


def _check(con: duckdb.DuckDBPyConnection, table: Table, batch: _Batch, currencies: list[str] | None) -> None:
    """One pass over ``batch.source`` into ``_checked``: cast, check, and keep the raw values
    (as JSON) of the rows that break a rule, and of those only.

    ``_checked`` has ``_n`` (and ``_f``), ``_rule`` ('' for a valid row), the typed contract
    columns, the extra columns as text under their positional names and ``_raw_values``.
    """
    raw = {name: f"_c{i}" for i, name in enumerate(batch.names)}
    types = dict(zip(batch.names, batch.types or []))
    utc = "TIMESTAMP" in types.values() and (
        con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"
    )
    typed = [
        f"{_typed(c, raw.get(c.name, 'NULL'), types.get(c.name, 'VARCHAR'), utc)} AS {ident(c.name)}"
        for c in table.columns
    ]
    rules = [v for c in table.columns for v in _violations(c, raw.get(c.name, "NULL"), currencies)]
    rules += [(r.violation, r.rule) for r in table.row_rules]
    # Every rule the row breaks, in rule order; the list is assembled only for a row that breaks one.
    broken = " OR ".join(f"({condition})" for condition, _ in rules)
    named = ", ".join(f"CASE WHEN {condition} THEN {literal(name)} END" for condition, name in rules)
    rule = f"CASE WHEN {broken} THEN concat_ws('; ', {named}) ELSE '' END"
    raw_values = f"json_object({', '.join(f'{literal(name)}, {raw[name]}' for name in batch.names)})"
    if batch.has_line:
        rule = f"CASE WHEN _line IS NOT NULL THEN {literal(MALFORMED_ROW)} ELSE {rule} END"
        raw_values = f"CASE WHEN _line IS NOT NULL THEN json_object('line', _line) ELSE {raw_values} END"
    kept = ["_f"] if len(batch.files) > 1 else []
    kept += ["_n", "_rule", *(ident(c) for c in table.column_names)]
    # Once each: a name given twice fails the file, but only after its data was read.
    kept += [f"CAST({raw[e]} AS VARCHAR) AS {raw[e]}" for e in dict.fromkeys(_extras(table, batch.names))]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _checked AS SELECT {', '.join(kept)}, "
        f"CASE WHEN _rule = '' THEN NULL ELSE {raw_values} END AS _raw_values "
        f"FROM (SELECT *, {rule} AS _rule FROM (SELECT *, {', '.join(typed)} FROM ({batch.source})))"
    )


def _write(con: duckdb.DuckDBPyConnection, table: Table, batch: _Batch, load_id: str) -> list[FileReport]:
    """``_checked`` (and ``_malformed``) to the raw table and the quarantine; one report a file."""
    raw = {name: f"_c{i}" for i, name in enumerate(batch.names)}
    extras = list(dict.fromkeys(_extras(table, batch.names)))  # once each, as in _check
    stored = _stored_names(table, extras)
    target = raw_table_name(table)
    for extra in extras:
        con.execute(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {ident(stored[extra])} VARCHAR")
    paths = [literal(f.relative_path) for f in batch.files]
    file_sql = f"[{', '.join(paths)}][_f + 1]" if len(paths) > 1 else paths[0]
    records = _RENUMBERED if batch.malformed else _NUMBERED
    kept = [ident(c) for c in table.column_names] + [f"{raw[e]} AS {ident(stored[e])}" for e in extras]
    load_sql, table_sql = literal(load_id), literal(table.qualified_name)
    (loaded,) = con.execute(
        f"INSERT INTO {target} BY NAME SELECT {file_sql} AS _file, _row, {load_sql} AS _load_id, "
        f"{', '.join(kept)} FROM {records} WHERE _rule = ''"
    ).fetchone()
    (quarantined,) = con.execute(
        f"INSERT INTO {QUARANTINE_TABLE} SELECT {table_sql}, {file_sql}, _row, _rule, _raw_values, "
        f"{load_sql} FROM {records} WHERE _rule <> ''"
    ).fetchone()
    if batch.malformed:
        con.execute(
            f"INSERT INTO {QUARANTINE_TABLE} SELECT {table_sql}, {paths[0]}, _row, "
            f"{literal(MALFORMED_ROW)}, json_object('line', _line), {load_sql} FROM _malformed"
        )
        con.execute("DROP TABLE _malformed")
    if len(batch.files) == 1:
        counts = {0: (loaded, quarantined + batch.malformed)}
    else:
        counts = {
            f: (n - bad, bad)
            for f, n, bad in con.execute(
                "SELECT _f, count(*), count(*) FILTER (WHERE _rule <> '') FROM _checked GROUP BY _f"
            ).fetchall()
        }
    con.execute("DROP TABLE _checked")
    reports = []
    for index, landed in enumerate(batch.files):
        loaded, quarantined = counts.get(index, (0, 0))
        reports.append(
            FileReport(
                landed.relative_path, loaded + quarantined, loaded, quarantined, [stored[e] for e in extras]
            )
        )
    return reports


def _load_files(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    files: list[LandedFile],
    load_id: str,
    currencies: list[str] | None,
) -> list[FileReport]:
    """Load ``files`` (in the transaction of ``con``); the reports in the order of ``files``.

    Text files are loaded one at a time; Parquet files are collected and read together, before
    the next text file. A file that cannot be read fails as in a load one file at a time: the
    first such file in path order is the one reported.
    """
    reports: dict[str, FileReport] = {}
    pending: list[_Described] = []
    reader = None  # a second connection: describing a file that is not Parquet voids nothing
    failure = None
    try:
        for landed in files:
            suffix = landed.path.suffix.lower()
            if suffix != ".parquet":
                if pending:
                    reports.update(
                        (r.file, r) for r in _load_parquet(con, reader, table, pending, load_id, currencies)
                    )
                    pending = []
                load = _load_csv if suffix == ".csv" else _load_json_lines
                reports[landed.relative_path] = load(con, table, landed, load_id, currencies)
                continue
            if reader is None:
                reader = con.cursor()
            try:
                described = _parquet_columns(reader, landed)
            except IngestionError as error:
                failure = error
                break
            pending.append((landed, described))
            try:
                _check_columns(table, landed, [name.lower() for name, _ in described])
            except IngestionError as error:
                failure = error  # after the data of the files before it and of its own
                break
        if pending:
            reports.update(
                (r.file, r) for r in _load_parquet(con, reader, table, pending, load_id, currencies)
            )
    finally:
        if reader is not None:
            reader.close()
    if failure is not None:
        raise failure
    return [reports[f.relative_path] for f in files]


def _unchanged_files(
    con: duckdb.DuckDBPyConnection, table: Table, files: list[LandedFile], fingerprint: str, trust_stat: bool
) -> tuple[list[LandedFile], list[LandedFile]]:
    """(files already loaded as they are, of which those only touched since).

    A file is identified by its content hash. Hashing reads the whole file, so a file whose size
    and modification time are those recorded when it was loaded is not read again (``trust_stat``;
    the check rsync and git make): a daily run then costs what the drop costs, not what the
    history weighs. A file touched since (another time stamp) is hashed; if its content is the
    same it is not loaded again, and its new time stamp is recorded.
    """
    known = _manifest(con, table)
    unchanged, touched = [], []
    for landed in files:
        if landed.relative_path not in known:
            continue  # new: load it
        content_hash, rules, stat = known[landed.relative_path]
        if rules != fingerprint:
            continue  # loaded under other rules: load it again
        if trust_stat and stat == (landed.size, landed.mtime_ns):
            unchanged.append(landed)
        elif content_hash == landed.content_hash:
            unchanged.append(landed)
            touched.append(landed)
    return unchanged, touched


def load_table(
    con: duckdb.DuckDBPyConnection, table: Table, landing_dir: Path, load_id: str, trust_stat: bool = True
) -> TableReport:
    """Load every new or changed file of ``table``; all or nothing (one transaction).

    ``trust_stat=False`` hashes every file, whatever its size and modification time say.
    """
    ensure_raw_schema(con, table)
    currencies = known_currencies(con) if table.checks_currency else None
    fingerprint = rules_fingerprint(table, currencies)
    report = TableReport(table.qualified_name)
    files = table_files(landing_dir, table)
    report.files_seen = len(files)
    unchanged, touched = _unchanged_files(con, table, files, fingerprint, trust_stat)
    skipped = {f.relative_path for f in unchanged}
    changed = [f for f in files if f.relative_path not in skipped]
    report.files_skipped = len(unchanged)
    with transaction(con):
        con.execute(
            f"INSERT OR REPLACE INTO {LISTINGS_TABLE} VALUES (?, ?)",
            [table.qualified_name, listing_fingerprint(files)],
        )
        if touched:
            con.executemany(
                f"UPDATE {MANIFEST_TABLE} SET file_size = ?, file_mtime_ns = ? WHERE table_name = ? AND _file = ?",
                [[f.size, f.mtime_ns, table.qualified_name, f.relative_path] for f in touched],
            )
        if changed:
            _forget_files(con, table, [landed.relative_path for landed in changed])
            report.loaded = _load_files(con, table, changed, load_id, currencies)
            con.executemany(
                f"INSERT INTO {MANIFEST_TABLE} (table_name, _file, file_hash, rules_fingerprint, _load_id, "
                "loaded_at, rows_read, rows_loaded, rows_quarantined, extra_columns, file_size, file_mtime_ns) "
                "VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?)",
                [
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
                        landed.size,
                        landed.mtime_ns,
                    ]
                    for landed, file_report in zip(changed, report.loaded)
                ],
            )
    return report


def _manifest(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, tuple[str, str, tuple]]:
    """{file: (content hash, rules fingerprint, (size, mtime_ns))} of every file of ``table`` in
    the manifest (size and mtime are None for a file loaded before they were recorded)."""
    rows = con.execute(
        f"SELECT _file, file_hash, rules_fingerprint, file_size, file_mtime_ns FROM {MANIFEST_TABLE} "
        "WHERE table_name = ?",
        [table.qualified_name],
    ).fetchall()
    return {file: (content_hash, rules, (size, mtime)) for file, content_hash, rules, size, mtime in rows}


def loaded_files(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, str]:
    """{file: content hash/rules fingerprint} of every file of ``table`` in the manifest: what
    staging compares to know which files it has not applied yet."""
    return {
        file: f"{content_hash}/{rules}" for file, (content_hash, rules, _) in _manifest(con, table).items()
    }


def _forget_files(con: duckdb.DuckDBPyConnection, table: Table, relative_paths: list[str]) -> None:
    """Remove the earlier versions of files: their rows, their quarantined rows, their manifest
    entries."""
    files = "_file IN (SELECT unnest(?::VARCHAR[]))"
    con.execute(f"DELETE FROM {raw_table_name(table)} WHERE {files}", [relative_paths])
    for bookkeeping in (QUARANTINE_TABLE, MANIFEST_TABLE):
        con.execute(
            f"DELETE FROM {bookkeeping} WHERE table_name = ? AND {files}",
            [table.qualified_name, relative_paths],
        )


def loaded_landing(con: duckdb.DuckDBPyConnection) -> str:
    """``pipelines.landing.landing_fingerprint`` of the landing folder as the last load of each
    table listed it: equal to ``listed_landing`` of the folder while no file was added, changed
    or removed since."""
    exists = table_exists(con, LISTINGS_TABLE)
    rows = con.execute(f"SELECT table_name, listing FROM {LISTINGS_TABLE}").fetchall() if exists else []
    return landing_fingerprint(dict(rows))


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
