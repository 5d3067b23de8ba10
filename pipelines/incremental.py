"""Recompute a model for the rows its inputs' changes touch, instead of in full.

A model whose inputs changed is rebuilt by ``build_model`` unless it declares ``incremental``
(``pipelines.sql_models.Incremental``) and every input that changed since the model was last
built left a changeset (``pipelines.changes``) that says which of its keys the change touches.
Then only those keys are recomputed: the model's own SQL runs with its ``rows_of`` inputs
narrowed to the touched keys (temporary views of the same names, which the search path finds
first), the old rows of those keys are deleted and the new ones inserted. Since the SQL is the
same and the rows of a key depend only on the ``rows_of`` rows of that key and on lookups, the
table equals the one a full recompute gives (``tests/test_incremental.py`` and the daily-drops
test of ``tests/test_reproducibility.py`` compare them).

A model that others read through ``touched_by`` (a lookup such as the FX calendar), and an
incremental model itself, leave a changeset too: after an incremental build, the rows it
replaced and the rows that replaced them; after a full one, the difference with the previous
table when that had at most ``COMPARED_ROWS_AT_MOST`` rows (else none). An incremental model's
grain check then looks only at the keys that changed (``changed_since_passed``).

When a change touches most of a large model's keys (the first drop of a month moves the
reporting period: every line's revenue, every account's MRR), the model is rebuilt in full
instead: by key, nearly every key costs several times a full build (``FULL_BUILD_SHARE``).
Both ways give the same table; only the cost differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from pipelines.changes import (
    changes_since,
    differing_by_grain,
    forget_changes,
    last_change,
    record_changes,
    symmetric_difference,
)
from pipelines.sql_models import SOURCE_ROW, SqlModel, build_model, use_model_schemas
from pipelines.sqlutil import ident
from pipelines.versions import (
    DEFINITION,
    built_from,
    fingerprint,
    model_version,
    record_built_from,
    reusable_check_result,
    versions,
)

COMPARED_ROWS_AT_MOST = 2_000_000  # a larger table rebuilt in full leaves no changeset
KEYS = "_incremental_keys"
# A change touching more than this share of a model's keys rebuilds it in full. Measured at scale
# 10: on the first drop of a month, nearly every key touched, int_revenue_by_line_month took 9.5 s
# by key against 1.5 s in full, account_month_economics 8.5 s against 2.9 s; on a mid-month drop,
# which touches up to a fifth of the accounts (their engagement events), engagement_fatigue took
# about 1 s by key against 2.5 s in full. Where the two costs cross differs by model; half keeps
# daily drops by key and sends the new month's to full builds.
FULL_BUILD_SHARE = 0.5
# Below this many keys in the table the share says little (one account of three is a third) and
# either way is cheap: such a model is recomputed by key whatever the share.
FULL_BUILD_MIN_KEYS = 10_000


@dataclass(frozen=True)
class Build:
    """What a model's step knows when it brings the model's table up to date."""

    inputs: dict[str, str]  # each input's name in the SQL: its relation
    input_versions: dict[str, str | None]  # each input relation: its version now
    previous_version: str | None  # the table's version before this build (None: never built)
    version: str | None  # the version it is brought to
    definition: str  # the model's SQL as its engine runs it

    @property
    def built_from(self) -> dict[str, str | None]:
        """What ``meta.built_from`` records of this build: the input versions and the SQL."""
        return {**self.input_versions, DEFINITION: fingerprint(self.definition)}


@dataclass(frozen=True)
class Refresh:
    mode: str  # "full" or "incremental"
    keys: int | None  # keys recomputed by an incremental build
    reason: str | None = None  # why a model that could go by key was rebuilt in full


def _touched_keys(
    con: duckdb.DuckDBPyConnection,
    model: SqlModel,
    inputs: dict[str, str],
    input_versions: dict[str, str | None],
    then: dict[str, str | None],
) -> list[tuple[str, str]] | None:
    """(changes table, SELECT of the keys its rows touch) per changed input, or None when only a
    full recompute is sound. ``inputs`` maps each input's name to its relation, ``then`` holds
    the versions the table was built from."""
    spec = model.incremental
    if not spec:
        return None
    selects = []
    for name, relation in inputs.items():
        if then.get(relation) == input_versions[relation]:
            continue
        changes = changes_since(con, relation, then.get(relation), input_versions[relation])
        if changes is None or (name not in spec.rows_of and name not in spec.touched_by):
            return None
        table, rows = changes
        if rows:
            query = spec.changed_keys(name) if name in spec.rows_of else spec.touched_by[name]
            selects.append((table, query))
    return selects


def _collect_keys(con: duckdb.DuckDBPyConnection, model: SqlModel, selects: list[tuple[str, str]]) -> int:
    """Collect the keys the ``selects`` return (``changed`` in each: its changes table) into the
    temporary table ``KEYS``; returns how many."""
    key = ident(model.incremental.key)
    # One query, each part reading its changes as `changed` (a CTE), made distinct into the
    # keys table at once: inserting into a temporary table inside the run's transaction lost
    # the rows once they passed one row group (122,880), and a new month touches millions.
    parts = [f"SELECT * FROM (SELECT {key} FROM {model.relation} LIMIT 0)"]  # its type when none is touched
    parts += [f"SELECT * FROM (WITH changed AS (SELECT * FROM {table}) {query})" for table, query in selects]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {KEYS} AS SELECT DISTINCT {key} FROM ({' UNION ALL '.join(parts)})"
    )
    return con.execute(f"SELECT count(*) FROM {KEYS}").fetchone()[0]


def _mostly_touched(con: duckdb.DuckDBPyConnection, model: SqlModel, touched: int) -> str | None:
    """Why a full build is cheaper than recomputing ``touched`` keys (None: it is not). The
    table's keys are its rows when the key is the grain, else estimated (HyperLogLog): the
    choice changes the cost, not the result."""
    if touched <= FULL_BUILD_SHARE * FULL_BUILD_MIN_KEYS:
        return None  # too few to be most of a table that large
    key = model.incremental.key
    if list(model.grain) == [key]:
        keys = _row_count(con, model.relation) or 0
    else:
        (keys,) = con.execute(f"SELECT approx_count_distinct({ident(key)}) FROM {model.relation}").fetchone()
    if keys < FULL_BUILD_MIN_KEYS or touched <= FULL_BUILD_SHARE * keys:
        return None
    return f"the change touches {touched:,} of about {keys:,} keys (more than {FULL_BUILD_SHARE:.0%})"


def among_keys(key_expression: str, key: str, keys_in: str) -> str:
    """Predicate: ``key_expression`` is one of the ``key`` values held in the table ``keys_in``."""
    return f"({key_expression}) IN (SELECT {ident(key)} FROM {keys_in})"


@contextmanager
def only_rows_of_keys(
    con: duckdb.DuckDBPyConnection, views: dict[str, tuple[str, str]], key: str, keys_in: str
) -> Iterator[None]:
    """While the block runs, a temporary view named like each table of ``views`` (name →
    relation, and the expression of a row's key over ``source_row``) shows only the rows whose key
    is among the ``key`` values in ``keys_in``: SQL that names the table then reads those rows
    alone. The views are dropped on the way out, whatever happens."""
    try:
        for name, (source, key_expression) in views.items():
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {ident(name)} AS SELECT {SOURCE_ROW}.* FROM {source} AS {SOURCE_ROW} "
                f"WHERE {among_keys(key_expression, key, keys_in)}"
            )
        yield
    finally:
        for name in views:
            con.execute(f"DROP VIEW IF EXISTS {ident(name)}")


def _build_touched(con: duckdb.DuckDBPyConnection, model: SqlModel, inputs: dict[str, str]) -> None:
    """Recompute the keys held in ``KEYS``; leaves the replaced rows in ``_replaced`` and the new
    ones in ``_recomputed``. ``inputs`` maps each input's name to its relation."""
    spec = model.incremental
    touched = among_keys(ident(spec.key), spec.key, KEYS)
    views = {name: (inputs[name], spec.key_of(name)) for name in spec.rows_of}
    with only_rows_of_keys(con, views, spec.key, KEYS):
        # Inputs read whole (lookups, or facts attributed by a join) may yield rows of other
        # keys: only the touched keys' rows replace theirs.
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _recomputed AS SELECT * FROM ({model.sql.strip().rstrip(';')}\n) "
            f"WHERE {touched}"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _replaced AS SELECT * FROM {model.relation} WHERE {touched}")
    con.execute(f"DELETE FROM {model.relation} WHERE {touched}")
    con.execute(f"INSERT INTO {model.relation} SELECT * FROM _recomputed")


def _row_count(con: duckdb.DuckDBPyConnection, relation: str) -> int | None:
    schema, name = relation.split(".")
    found = con.execute(
        "SELECT estimated_size FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
    ).fetchone()
    return found[0] if found else None


def _changed_rows(con: duckdb.DuckDBPyConnection, model: SqlModel, after: str) -> str:
    """SQL of the rows a build changed: ``after`` (the new rows: the whole table after a full
    build, ``_recomputed`` after one by key) against the rows it replaced (``_replaced``). By a
    join on the grain where the model has one: a quarter to a third of the cost of the two
    ``EXCEPT ALL``s, even on the rows of the keys a daily drop touches (at scale 10,
    ``account_month_economics``: 0.4 s against 1.6 s)."""
    if not model.grain:
        return symmetric_difference("SELECT * FROM _replaced", f"SELECT * FROM {after}")
    columns = [r[0] for r in con.execute(f"DESCRIBE {model.relation}").fetchall()]
    return differing_by_grain("_replaced", after, list(model.grain), columns)


def refresh(
    con: duckdb.DuckDBPyConnection, model: SqlModel, build: Build, keeps_changes: bool, full: bool
) -> Refresh:
    """Bring ``model`` up to ``build.version`` (inside the caller's transaction): only the touched
    keys when that is sound and ``full`` is false, else in full. ``keeps_changes``: its changed
    rows are kept (an incremental model's grain check, or another model's ``touched_by``, reads
    them)."""
    use_model_schemas(con)
    then = built_from(con, model.relation)
    same_definition = bool(then) and then.get(DEFINITION) == fingerprint(build.definition)
    can_narrow = same_definition and build.previous_version is not None and not full
    selects = _touched_keys(con, model, build.inputs, build.input_versions, then) if can_narrow else None
    keys = _collect_keys(con, model, selects) if selects is not None else None
    reason = _mostly_touched(con, model, keys) if keys else None
    if keys is not None and reason is None:
        _build_touched(con, model, build.inputs)
        changed = _changed_rows(con, model, "_recomputed")
        outcome = Refresh("incremental", keys)
    else:
        # Compared with the previous table only when its columns are the same (same definition).
        size = _row_count(con, model.relation) if keeps_changes and same_definition else None
        compare = size is not None and size <= COMPARED_ROWS_AT_MOST
        if compare:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _replaced AS SELECT * FROM {model.relation}")
        build_model(con, model)
        changed = _changed_rows(con, model, model.relation) if compare else None
        outcome = Refresh("full", None, reason)
    if keeps_changes and changed and build.previous_version and build.version:
        record_changes(con, model.relation, build.previous_version, build.version, changed)
    else:
        forget_changes(con, model.relation)
    for table in ("_replaced", "_recomputed", KEYS):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    record_built_from(con, model.relation, build.built_from)
    return outcome


def built_elsewhere(con: duckdb.DuckDBPyConnection, model: SqlModel, build: Build) -> None:
    """Record a build this module did not make (another engine's): no changeset describes it."""
    forget_changes(con, model.relation)
    record_built_from(con, model.relation, build.built_from)


def changed_since_passed(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    check_key: str,
    check_sql: str,
    passed,
    reads: list[str] | None = None,
) -> str | None:
    """The table of the rows that changed since a version of ``relation`` on which the check
    ``check_key`` (``check_sql``, reading ``reads``: ``relation`` alone by default) last
    ``passed`` (a predicate on its recorded result), when the table's last change went from that
    version to the current one and every other table the check reads is at the version it had
    then; None otherwise. A check of a property of single keys (no two rows share a key, an
    account's months bridge) then needs to look only at those keys: every other row, and
    everything else it reads, is as it was when the check passed."""
    change = last_change(con, relation)
    inputs = versions(con, reads or [relation])
    if change is None or change[1] != inputs[relation]:
        return None
    earlier = reusable_check_result(con, check_key, model_version(check_sql, {**inputs, relation: change[0]}))
    return change[2] if earlier is not None and passed(earlier[0]) else None
