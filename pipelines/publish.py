"""Write-audit-publish: the audited marts of the working database become the publication.

The marts are built and checked in ``working.duckdb`` (the audit stage). Publishing then:

1. enforces each mart's contract (``sql/marts/_models.yml``: columns in order with their data
   types, PII class) and refuses the extract contract's PII columns: those are a schema problem
   that only a contract change can fix;
2. writes the whole publication into its own folder, ``<warehouse>/publications/<publish_id>/``:
   ``marts.duckdb`` (tables in its default schema, plus ``publish_log``), ``parquet/<mart>/`` and
   ``publish_log.parquet``. A value that looks like an e-mail address, in any text column (or a
   string inside a JSON, list or struct column), is masked as ``[redacted]`` by the SQL that copies
   the mart, and counted in ``publish_log.redactions``: one address must not withhold every mart;
3. switches to it with one rename of a symlink (``current -> publications/<publish_id>``). BI
   paths never change: ``<warehouse>/marts.duckdb`` and ``<warehouse>/parquet`` are symlinks
   into ``current/``, so the DuckDB file and the Parquet folder always belong to the same
   publication. A reader holding an older publication keeps reading its own folder, which is not
   modified and is kept for the next few publications;
4. removes what killed publishes left (folders that never became current, ``*.tmp``) and old
   publications.

Given the marts' data versions (``pipelines.versions``), a publication takes each mart whose
version is the one the current publication was made from (``versions.json`` in its folder) from
that publication: the table copied as published, the Parquet file hard-linked. When nothing
changed at all, no publication is made.

The old file is never opened for writing, and the log history is read from the previous folder's
``publish_log.parquet``, so a reader holding ``marts.duckdb`` open, even read-write (DuckDB's lock
is per process), never makes a publish fail. Publishes are serialised by the warehouse pool: the
clean-up would otherwise remove another publish's folder in progress.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
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
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DB_NAME = "marts.duckdb"  # BI path <warehouse>/marts.duckdb (a symlink into current/)
PARQUET_DIR = "parquet"  # BI path <warehouse>/parquet/<mart>/ (a symlink into current/)
LOG_FILE = "publish_log.parquet"  # the log history, readable without any DuckDB file lock
STATE_FILE = "versions.json"  # what the publication was made from (mart versions, code, checks)
PUBLICATIONS = "publications"
CURRENT = "current"
KEEP_PUBLICATIONS = 3  # the current one and the two before it, which readers may still hold

REDACTED = "[redacted]"
# Quotes and backslashes are excluded so that, inside JSON text, a match never leaves a string.
EMAIL = r'[^\s@"\\]+@[^\s@"\\]+\.[a-z]{2,}'
JSON_STRING_WITH_EMAIL = r'"(?:[^"\\]|\\.)*?' + EMAIL + r'(?:[^"\\]|\\.)*"'


class PublishError(Exception):
    """A publication refused: the message says which mart and which rule."""


@dataclass(frozen=True)
class Publication:
    publish_id: str
    published_at: datetime
    row_counts: dict[str, int]
    path: Path  # <warehouse>/marts.duckdb, the stable path BI tools open
    folder: Path  # <warehouse>/publications/<publish_id>
    redactions: dict[str, dict[str, int]]
    carried_over: tuple[str, ...] = ()  # marts unchanged since the previous publication, not recomputed


def code_version(root: Path = PROJECT_ROOT) -> str:
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
    return problems


def _refuse_violations(con: duckdb.DuckDBPyConnection, marts: list[SqlModel]) -> None:
    violations = {m.name: contract_violations(con, m) for m in marts}
    violations = {name: problems for name, problems in violations.items() if problems}
    if violations:
        raise PublishError(
            "publish refused, contract violations: "
            + "; ".join(f"{name}: {', '.join(problems)}" for name, problems in violations.items())
        )


def map_texts(value, text: Callable[[str], str]):
    """A JSON-like value (text, list, dict, nested) with ``text`` applied to every text in it."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [map_texts(v, text) for v in value]
    if isinstance(value, dict):
        return {k: map_texts(v, text) for k, v in value.items()}
    return value


def redacted(value):
    """A JSON-like value with every text that holds an e-mail address replaced whole by
    ``[redacted]``, the rule the marts' SQL masking applies: for what is published beside them
    from Python (the check report's sampled values)."""
    return map_texts(value, lambda t: REDACTED if "@" in t and re.search(EMAIL, t, re.IGNORECASE) else t)


def _holds_email(text: str) -> str:
    """SQL: the text expression holds an e-mail address. The regular expression runs only on
    values holding an ``@`` (a cheap test first: most values are ids)."""
    return f"(contains({text}, '@') AND regexp_matches({text}, {literal(EMAIL)}, 'i'))"


def masking(column: str, data_type: str) -> tuple[str, str | None]:
    """(select expression, "this value holds an e-mail address" predicate) for one column.

    A text value is replaced whole (a name often sits next to the address); in a JSON, list or
    struct value each string holding an address is, through the value's JSON text, so the rest
    of the value and its type survive. Values without an address are not touched (exact).
    """
    c = ident(column)
    if data_type == "VARCHAR":
        hit = _holds_email(c)
        return f"CASE WHEN {hit} THEN {literal(REDACTED)} ELSE {c} END AS {c}", hit
    if "VARCHAR" in data_type or "JSON" in data_type:
        text = f"to_json({c})::VARCHAR"
        hit = _holds_email(text)
        masked = f"regexp_replace({text}, {literal(JSON_STRING_WITH_EMAIL)}, {literal(json.dumps(REDACTED))}, 'gi')::JSON"
        return f"CASE WHEN {hit} THEN CAST({masked} AS {data_type}) ELSE {c} END AS {c}", hit
    return c, None


def _copy_mart(con: duckdb.DuckDBPyConnection, mart: SqlModel, folder: Path) -> tuple[int, dict[str, int]]:
    """Copy one mart, masked, into the candidate database and its Parquet folder.

    Returns (rows, {column: values masked}). The masking is part of the copy's own SELECT.
    """
    columns = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {mart.relation}").fetchall()]
    masks = [(name, *masking(name, data_type)) for name, data_type in columns]
    hits = [(name, hit) for name, _, hit in masks if hit]
    masked = {}
    if hits:
        counts = con.execute(
            f"SELECT {', '.join(f'count_if({hit})' for _, hit in hits)} FROM {mart.relation}"
        ).fetchall()[0]
        masked = {name: count for (name, _), count in zip(hits, counts) if count}
    table = f"candidate.main.{ident(mart.name)}"
    order = ", ".join(ident(c) for c in mart.grain) or "ALL"
    select = ", ".join(expression for _, expression, _ in masks)
    con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM {mart.relation} ORDER BY {order}")
    target = folder / PARQUET_DIR / mart.name
    target.mkdir(parents=True)
    con.execute(f"COPY {table} TO {literal(str(target / (mart.name + '.parquet')))} (FORMAT parquet)")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0], masked


def _carry_over(con: duckdb.DuckDBPyConnection, mart: SqlModel, folder: Path, previous: Path) -> int:
    """Take an unchanged mart from the previous publication: its table copied as it is (already
    masked and ordered), its Parquet file hard-linked (one inode, no bytes written)."""
    con.execute(f"CREATE TABLE candidate.main.{ident(mart.name)} AS FROM prior.main.{ident(mart.name)}")
    name = mart.name + ".parquet"
    target = folder / PARQUET_DIR / mart.name
    target.mkdir(parents=True)
    try:
        os.link(previous / PARQUET_DIR / mart.name / name, target / name)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(previous / PARQUET_DIR / mart.name / name, target / name)
    return con.execute(f"SELECT count(*) FROM candidate.main.{ident(mart.name)}").fetchall()[0][0]


def _attach_prior(con: duckdb.DuckDBPyConnection, previous: Path) -> bool:
    """Attach the previous publication's database read-only as ``prior``; False when a reader
    holds it read-write: what such a reader wrote must not reach the next publication, so then
    every mart is copied from the working database instead."""
    try:
        con.execute(f"ATTACH {literal(str(previous / DB_NAME))} AS prior (READ_ONLY)")
    except duckdb.IOException:
        return False
    return True


def current_publication(warehouse_dir: Path) -> Path | None:
    """The folder of the current publication (None before the first)."""
    current = Path(warehouse_dir) / CURRENT
    return current.resolve() if current.exists() else None


def published_state(warehouse_dir: Path) -> dict | None:
    """What the current publication was made from (``versions.json``), None if unknown."""
    path = Path(warehouse_dir) / CURRENT / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else None


def _unchanged_marts(previous: dict | None, state: dict) -> set[str]:
    """Marts whose version is the one the previous publication was made from, by the same code."""
    if previous is None or previous.get("code_version") != state["code_version"]:
        return set()
    return {
        name
        for name, version in state["marts"].items()
        if version is not None and previous["marts"].get(name) == version
    }


def _nothing_changed(previous: dict | None, state: dict, unchanged: set[str]) -> bool:
    """Every mart unchanged, from the same inputs, with the same check results: the current
    publication already is this result."""
    same = previous is not None and all(previous.get(key) == value for key, value in state.items())
    return same and unchanged == set(state["marts"])


def _previous_log(con: duckdb.DuckDBPyConnection, warehouse_dir: Path, folder: Path) -> str:
    """SQL selecting the log history of the current publication (empty before the first).

    It is read from ``current/publish_log.parquet``: a plain file, no DuckDB lock. A warehouse of
    the old layout (a regular ``marts.duckdb``) is read by attaching it read-only, or a copy of it
    when another process holds it read-write.
    """
    log_file = warehouse_dir / CURRENT / LOG_FILE
    if log_file.exists():
        return f"SELECT * FROM read_parquet({literal(str(log_file))})"
    published = warehouse_dir / DB_NAME
    if not published.exists():
        return ""
    try:
        con.execute(f"ATTACH {literal(str(published))} AS previous (READ_ONLY)")
    except duckdb.IOException:  # locked by a read-write reader: its bytes are still the publication
        copy = folder / ".previous.duckdb"
        shutil.copyfile(published, copy)
        con.execute(f"ATTACH {literal(str(copy))} AS previous (READ_ONLY)")
    return f"SELECT * FROM previous.main.{PUBLISH_LOG}"


def publish(
    con: duckdb.DuckDBPyConnection,
    marts: list[SqlModel],
    warehouse_dir: Path,
    input_fingerprint: str,
    checks_passed: int,
    checks_failed: int,
    before_switch: Callable[[Path, str], None] | None = None,
    mart_versions: dict[str, str | None] | None = None,
    ledger: Callable[[str], list[SqlModel]] | None = None,
) -> Publication | None:
    """Enforce the contracts, write a new publication folder, switch ``current`` to it.

    ``before_switch(folder, publish_id)`` may add files (the validation report) to the folder
    while it is not visible yet. Until the switch, a failure leaves the previous publication as
    it was, byte for byte, and removes the new folder.

    ``mart_versions`` ({mart: version}, ``pipelines.versions``) lets a publication take the
    marts that did not change from the previous one instead of copying them again; when nothing
    changed at all (same versions, same code, same inputs, same check results) no publication is
    made and None is returned: the current one already is this result.

    ``ledger(publish_id)`` writes tables that record the publication itself (the month-end
    close's ``period_closes`` and ``restatements``, ``pipelines.closing``) and returns them; they
    are published like the marts, never carried over.
    """
    _refuse_violations(con, marts)
    warehouse_dir = Path(warehouse_dir)
    state = {
        "code_version": code_version(),
        "input_fingerprint": input_fingerprint,
        "checks": [checks_passed, checks_failed],
        "marts": {m.name: (mart_versions or {}).get(m.name) for m in marts},
    }
    previous_state = published_state(warehouse_dir)
    unchanged = _unchanged_marts(previous_state, state)
    if _nothing_changed(previous_state, state, unchanged):
        return None
    previous_folder = current_publication(warehouse_dir)
    now = datetime.now(timezone.utc)
    publish_id = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    folder = warehouse_dir / PUBLICATIONS / publish_id
    switched = False
    try:
        folder.mkdir(parents=True)
        previous = _previous_log(con, warehouse_dir, folder)
        con.execute(f"ATTACH {literal(str(folder / DB_NAME))} AS candidate")
        if unchanged and not _attach_prior(con, previous_folder):
            unchanged = set()
        records = ledger(publish_id) if ledger is not None else []
        _refuse_violations(con, records)
        row_counts, redactions = {}, {}
        for mart in [*marts, *records]:
            if mart.name in unchanged:
                row_counts[mart.name] = _carry_over(con, mart, folder, previous_folder)
                masked = previous_state["redactions"].get(mart.name)
            else:
                row_counts[mart.name], masked = _copy_mart(con, mart, folder)
            if masked:
                redactions[mart.name] = masked
        log_row = (
            f"SELECT {literal(publish_id)} AS publish_id, TIMESTAMPTZ {literal(now.isoformat())} AS published_at, "
            f"{array_literal(list(row_counts))} AS marts, {literal(json.dumps(row_counts))}::JSON AS row_counts, "
            f"{checks_passed}::INTEGER AS checks_passed, {checks_failed}::INTEGER AS checks_failed, "
            f"{literal(input_fingerprint)} AS input_fingerprint, {literal(code_version())} AS code_version, "
            f"{literal(json.dumps(redactions))}::JSON AS redactions"
        )
        log_sql = f"{previous} UNION ALL BY NAME {log_row}" if previous else log_row
        con.execute(f"CREATE TABLE candidate.main.{PUBLISH_LOG} AS {log_sql} ORDER BY published_at")
        con.execute(
            f"COPY candidate.main.{PUBLISH_LOG} TO {literal(str(folder / LOG_FILE))} (FORMAT parquet)"
        )
        history = [
            r[0]
            for r in con.execute(
                f"SELECT publish_id FROM candidate.main.{PUBLISH_LOG} ORDER BY published_at"
            ).fetchall()
        ]
        _detach(con)
        (folder / STATE_FILE).write_text(json.dumps({**state, "redactions": redactions}, sort_keys=True))
        (folder / ".previous.duckdb").unlink(missing_ok=True)
        if before_switch is not None:
            before_switch(folder, publish_id)
        _switch(warehouse_dir, folder)
        switched = True
    finally:
        _detach(con)
        if not switched:
            shutil.rmtree(folder, ignore_errors=True)
    link_stable_paths(
        warehouse_dir, {DB_NAME: Path(CURRENT) / DB_NAME, PARQUET_DIR: Path(CURRENT) / PARQUET_DIR}
    )
    remove_leftovers(warehouse_dir, history)
    return Publication(
        publish_id, now, row_counts, warehouse_dir / DB_NAME, folder, redactions, tuple(sorted(unchanged))
    )


def _detach(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("candidate", "previous", "prior"):
        attached = con.execute(
            "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [name]
        ).fetchall()[0][0]
        if attached:
            con.execute(f"DETACH {name}")


def fsync(*paths: Path) -> None:
    """Flush files and folders to disk: a power cut must not switch to data still in the cache."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _switch(warehouse_dir: Path, folder: Path) -> None:
    """The commit point: ``current`` is replaced by one rename(2) of a symlink, atomic on a POSIX
    file system. The link is relative, so the warehouse folder can be moved or copied."""
    fsync(*sorted(folder.rglob("*")), folder)
    link_stable_paths(warehouse_dir, {CURRENT: folder.relative_to(warehouse_dir)})
    fsync(warehouse_dir)


def link_stable_paths(warehouse_dir: Path, links: dict[str, Path]) -> None:
    """Make each ``warehouse_dir/<name>`` a symlink to its target (relative to its folder).

    A missing path, a wrong link or a regular file (the old layout) is replaced by one rename; an
    old-layout folder cannot be, so it is moved aside first (a moment without the path, once).
    """
    for name, target in links.items():
        path = warehouse_dir / name
        if path.is_symlink() and Path(os.readlink(path)) == target:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        _remove(temporary)
        temporary.symlink_to(target)
        if path.is_dir() and not path.is_symlink():
            retired = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.old")
            os.replace(path, retired)
            os.replace(temporary, path)
            _remove(retired)
        else:
            os.replace(temporary, path)


def _is_leftover(name: str) -> bool:
    """Names a killed publish can leave at the top of the warehouse (this layout and the old)."""
    names = (CURRENT, DB_NAME, PARQUET_DIR)
    if name in tuple(f"{n}.tmp" for n in names):
        return True
    return name.startswith(tuple(f".{n}." for n in names)) and name.endswith((".tmp", ".tmp.wal", ".old"))


def remove_leftovers(warehouse_dir: Path, history: list[str]) -> None:
    """Delete what killed publishes left, and the publications older than the kept ones.

    ``history``: the ids of every publication that became current, oldest first (the new log).
    A folder not in it never became current: a killed or failed publish. A publication that a
    link at the top of the warehouse still points into is kept too (``<warehouse>/report`` keeps
    the previous publication's report while the new one's is not built, or failed).
    """
    keep = set(history[-KEEP_PUBLICATIONS:]) | linked_publications(warehouse_dir)
    targets = [p for p in warehouse_dir.iterdir() if _is_leftover(p.name)]
    publications = warehouse_dir / PUBLICATIONS
    targets += [p for p in publications.iterdir() if p.name not in keep]
    for path in targets:
        _remove(path)


def linked_publications(warehouse_dir: Path) -> set[str]:
    """Ids of the publications that a symlink at the top of the warehouse points into."""
    linked = set()
    for path in warehouse_dir.iterdir():
        if path.is_symlink():
            parts = Path(os.readlink(path)).parts
            if len(parts) > 1 and parts[0] == PUBLICATIONS:
                linked.add(parts[1])
    return linked


def _remove(path: Path) -> None:
    """Delete a file, a link (not its target) or a folder tree, if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
