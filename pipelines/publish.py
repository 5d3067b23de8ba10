"""Write-audit-publish: the audited marts of the working database become ``marts.duckdb``.

The marts are built and checked in ``working.duckdb`` (the audit stage). Publishing then:
1. enforces each mart's contract (``sql/marts/_models.yml``: columns in order with their data
   types, PII class) and refuses personal data (the contract's PII columns of the extracts, or a
   value that looks like an e-mail address in any text column);
2. writes a complete new DuckDB file next to the published one (tables in its default schema,
   plus ``publish_log``) and Parquet exports into a new folder;
3. swaps them in by rename. A reader holding the old file open keeps reading the old file (the
   rename does not touch it) and never sees half a publication; a failure before the swap leaves
   the previous publication byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from pipelines.contract import TABLES
from pipelines.sql_models import SqlModel
from pipelines.sqlutil import array_literal, ident, literal

PUBLISH_LOG = "publish_log"
PII_COLUMNS = frozenset(c for table in TABLES for c in table.pii_columns)
CODE_DIRS = ("pipelines", "assets", "sql", "expectations", "config")


class PublishError(Exception):
    """A publication refused: the message says which mart and which rule."""


@dataclass(frozen=True)
class Publication:
    publish_id: str
    published_at: datetime
    row_counts: dict[str, int]
    path: Path


def code_version(root: Path = Path(__file__).resolve().parent.parent) -> str:
    """A fingerprint of the code that computed the numbers (rules, checks and configuration)."""
    digest = hashlib.sha256()
    for folder in CODE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".sql", ".yml", ".json"}:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def contract_violations(con: duckdb.DuckDBPyConnection, mart: SqlModel) -> list[str]:
    """How the built mart differs from its contract (empty: it complies)."""
    built = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {mart.relation}").fetchall()]
    promised = list(mart.column_types.items())
    problems = []
    built_names, promised_names = [n for n, _ in built], [n for n, _ in promised]
    for name in built_names:
        if name not in promised_names:
            problems.append(f"column {name!r} is not in the contract")
    for name in promised_names:
        if name not in built_names:
            problems.append(f"contract column {name!r} is missing")
    for name, data_type in built:
        if mart.column_types.get(name, data_type) != data_type:
            problems.append(f"column {name!r} is {data_type}, the contract says {mart.column_types[name]}")
    if not problems and built_names != promised_names:
        problems.append(f"column order {built_names} differs from the contract {promised_names}")
    if mart.pii_class != "none":
        problems.append(f"pii_class is {mart.pii_class!r}: only pii_class none is published")
    pii = sorted(PII_COLUMNS & set(built_names))
    if pii:
        problems.append(f"personal data column(s) {', '.join(pii)}")
    text_columns = [n for n, t in built if t == "VARCHAR"]
    if text_columns:
        looks_like_email = " OR ".join(f"regexp_matches({ident(c)}, '[^@ ]+@[^@ ]+\\.[a-z]+')" for c in text_columns)
        count = con.execute(f"SELECT count(*) FROM {mart.relation} WHERE {looks_like_email}").fetchall()[0][0]
        if count:
            problems.append(f"{count} row(s) hold a value that looks like an e-mail address")
    return problems


def _previous_log(con: duckdb.DuckDBPyConnection, published: Path) -> str:
    """SQL selecting the publish_log rows of the current publication (none before the first)."""
    if not published.exists():
        return ""
    con.execute(f"ATTACH {literal(str(published))} AS previous (READ_ONLY)")
    return f"SELECT * FROM previous.main.{PUBLISH_LOG}"


def publish(
    con: duckdb.DuckDBPyConnection,
    marts: list[SqlModel],
    warehouse_dir: Path,
    published: Path,
    parquet_dir: Path,
    input_fingerprint: str,
    checks_passed: int,
    checks_failed: int,
) -> Publication:
    """Enforce the contracts, write the new publication beside the old one, swap it in."""
    violations = {m.name: contract_violations(con, m) for m in marts}
    violations = {name: problems for name, problems in violations.items() if problems}
    if violations:
        raise PublishError(
            "publish refused, contract violations: "
            + "; ".join(f"{name}: {', '.join(problems)}" for name, problems in violations.items())
        )
    now = datetime.now(timezone.utc)
    publish_id = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    candidate = warehouse_dir / f".{published.name}.{publish_id}.tmp"
    parquet_candidate = warehouse_dir / f".parquet.{publish_id}.tmp"
    try:
        previous = _previous_log(con, published)
        con.execute(f"ATTACH {literal(str(candidate))} AS candidate")
        row_counts = {}
        for mart in marts:
            order = ", ".join(ident(c) for c in mart.grain) or "ALL"
            con.execute(f"CREATE TABLE candidate.main.{ident(mart.name)} AS SELECT * FROM {mart.relation} ORDER BY {order}")
            row_counts[mart.name] = con.execute(f"SELECT count(*) FROM candidate.main.{ident(mart.name)}").fetchall()[0][0]
            target = parquet_candidate / mart.name
            target.mkdir(parents=True)
            con.execute(f"COPY candidate.main.{ident(mart.name)} TO {literal(str(target / (mart.name + '.parquet')))} (FORMAT parquet)")
        log_row = (
            f"SELECT {literal(publish_id)} AS publish_id, TIMESTAMPTZ {literal(now.isoformat())} AS published_at, "
            f"{array_literal(list(row_counts))} AS marts, {literal(json.dumps(row_counts))}::JSON AS row_counts, "
            f"{checks_passed}::INTEGER AS checks_passed, {checks_failed}::INTEGER AS checks_failed, "
            f"{literal(input_fingerprint)} AS input_fingerprint, {literal(code_version())} AS code_version"
        )
        log_sql = f"{previous} UNION ALL BY NAME {log_row}" if previous else log_row
        con.execute(f"CREATE TABLE candidate.main.{PUBLISH_LOG} AS {log_sql} ORDER BY published_at")
        con.execute("DETACH candidate")
        if previous:
            con.execute("DETACH previous")
        os.replace(candidate, published)  # atomic on one file system: readers see old or new
        _swap_folder(parquet_candidate, parquet_dir, publish_id)
    finally:
        for name in ("candidate", "previous"):
            attached = con.execute("SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [name]).fetchall()[0][0]
            if attached:
                con.execute(f"DETACH {name}")
        for leftover in (candidate, Path(f"{candidate}.wal")):
            leftover.unlink(missing_ok=True)
        shutil.rmtree(parquet_candidate, ignore_errors=True)
    return Publication(publish_id, now, row_counts, published)


def _swap_folder(new: Path, current: Path, publish_id: str) -> None:
    """Replace ``current`` by ``new`` with two renames (a reader may briefly find no folder)."""
    retired = current.with_name(f".{current.name}.{publish_id}.old")
    if current.exists():
        os.replace(current, retired)
    os.replace(new, current)
    shutil.rmtree(retired, ignore_errors=True)
