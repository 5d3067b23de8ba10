"""Data versions: what each table of the working database was built from, so a run redoes only
what its inputs changed.

Every table the pipeline builds records a *version* in ``meta.versions``: a token that changes
whenever the table's content may have changed, and only then. A staged table's version changes
when a load changed one of its contract values (``pipelines.staging``); a settings table's is a
hash of its content; a model's is a hash of its SQL and of the versions of the tables it reads,
so it is recomputed exactly when one of those changed, and its version then changes with them.
The models are pure functions of their inputs (no clock, no randomness: docs/metrics.md), so
"same inputs, same SQL" is "same rows".

A check's result is kept in ``meta.check_results`` under the versions of what it read: a check
whose inputs are unchanged since it last ran has the same outcome, which is reused (and says so
in its metadata) instead of being computed again. Nothing here is published: it is bookkeeping
of the working database, and deleting the ``meta`` schema only makes the next run a full one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import duckdb

from pipelines.sqlutil import prepared_once

META_SCHEMA = "meta"
VERSIONS_TABLE = f"{META_SCHEMA}.versions"
CHECK_RESULTS_TABLE = f"{META_SCHEMA}.check_results"
BUILT_FROM_TABLE = f"{META_SCHEMA}.built_from"  # the input versions a model was last built from


def fingerprint(*parts: object) -> str:
    """A short hash of ``parts`` (their JSON text): the token a version is made of."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    """The bookkeeping tables exist (created once per connection: every function here calls this)."""
    prepared_once(con, META_SCHEMA, lambda: _create_meta(con))


def _create_meta(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} "
        "(relation VARCHAR PRIMARY KEY, version VARCHAR NOT NULL, recorded_at TIMESTAMP)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {CHECK_RESULTS_TABLE} "
        "(check_key VARCHAR PRIMARY KEY, inputs VARCHAR NOT NULL, result JSON NOT NULL, run_id VARCHAR)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {BUILT_FROM_TABLE} "
        "(relation VARCHAR, input VARCHAR, version VARCHAR, PRIMARY KEY (relation, input))"
    )


def versions(con: duckdb.DuckDBPyConnection, relations: list[str]) -> dict[str, str | None]:
    """The recorded version of each relation (None: never recorded, or the table is gone)."""
    ensure_meta(con)
    found = dict(
        con.execute(
            f"SELECT v.relation, v.version FROM {VERSIONS_TABLE} AS v JOIN duckdb_tables() AS t "
            "ON v.relation = t.schema_name || '.' || t.table_name WHERE v.relation IN (SELECT unnest(?))",
            [relations],
        ).fetchall()
    )
    return {relation: found.get(relation) for relation in relations}


def record_version(con: duckdb.DuckDBPyConnection, relation: str, version: str) -> None:
    ensure_meta(con)
    con.execute(
        f"INSERT OR REPLACE INTO {VERSIONS_TABLE} VALUES (?, ?, now()::TIMESTAMP)", [relation, version]
    )


def record_built_from(con: duckdb.DuckDBPyConnection, relation: str, inputs: dict[str, str | None]) -> None:
    """Keep the versions ``relation`` was just built from (its inputs', and its definition's
    under the key ``DEFINITION``): what an incremental build compares with (``pipelines.incremental``)."""
    ensure_meta(con)
    con.execute(f"DELETE FROM {BUILT_FROM_TABLE} WHERE relation = ?", [relation])
    con.executemany(
        f"INSERT INTO {BUILT_FROM_TABLE} VALUES (?, ?, ?)",
        [[relation, i, v] for i, v in sorted(inputs.items())],
    )


def built_from(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str | None]:
    """The versions recorded by ``record_built_from`` (empty: never recorded)."""
    ensure_meta(con)
    sql = f"SELECT input, version FROM {BUILT_FROM_TABLE} WHERE relation = ?"
    return dict(con.execute(sql, [relation]).fetchall())


DEFINITION = ""  # the key of a model's own definition among its built-from versions


def model_version(sql: str, input_versions: dict[str, str | None]) -> str | None:
    """A model's version: its SQL and its inputs' versions (None while an input has none)."""
    if any(v is None for v in input_versions.values()):
        return None
    return fingerprint(sql, sorted(input_versions.items()))


def evaluated_once(
    con: duckdb.DuckDBPyConnection,
    check_key: str,
    definition: str,
    relations: list[str],
    run_id: str,
    reuse: bool,
    evaluate: Callable[[], dict],
) -> tuple[dict, str | None]:
    """A check's result (a JSON-able dict), computed by ``evaluate`` only when ``definition``
    or the version of one of ``relations`` changed since its last evaluation (or ``reuse`` is
    false).

    Returns (result, id of the earlier run whose result is reused, or None when computed now).
    """
    inputs = model_version(definition, versions(con, relations))
    reused = reusable_check_result(con, check_key, inputs) if reuse else None
    if reused is not None:
        return reused
    result = evaluate()
    record_check_result(con, check_key, inputs, result, run_id)
    return result, None


def reusable_check_result(
    con: duckdb.DuckDBPyConnection, check_key: str, inputs: str | None
) -> tuple[dict, str] | None:
    """(result, run id) of the check's last evaluation, if its inputs were ``inputs`` then."""
    if inputs is None:
        return None
    ensure_meta(con)
    row = con.execute(
        f"SELECT result, run_id FROM {CHECK_RESULTS_TABLE} WHERE check_key = ? AND inputs = ?",
        [check_key, inputs],
    ).fetchone()
    return (json.loads(row[0]), row[1]) if row else None


def record_check_result(
    con: duckdb.DuckDBPyConnection, check_key: str, inputs: str | None, result: dict, run_id: str
) -> None:
    """Keep a check's result under the inputs it was computed from (None: not reusable)."""
    if inputs is None:
        return
    ensure_meta(con)
    con.execute(
        f"INSERT OR REPLACE INTO {CHECK_RESULTS_TABLE} VALUES (?, ?, ?, ?)",
        [check_key, inputs, json.dumps(result, default=str), run_id],
    )
