"""Month-end close: closed months are served as finance signed them; late data is listed.

``close YYYY-MM`` closes a month and every earlier one; ``reopen YYYY-MM`` reopens it and every
later one (docs/metrics.md, "Closing periods and restatements"). The action is part of a run (run
config of the ``period_close`` asset): the publication of that run is the one that freezes or
releases the months, so a close whose run fails was not made.

Where the frozen rows live: in the current publication itself. The rows a month-grained mart
(a mart with a ``month`` column) publishes for a closed month are its frozen rows; each
publication serves them again, as they are, from the previous one. So the signed-off numbers and
the publication BI tools read can never disagree, and a full rebuild still serves them: they are
read back from the publication, not recomputed. ``period_closes`` and ``restatements`` are
published beside the marts and read back the same way (from Parquet: no DuckDB file lock).

A run (``prepare``) copies what it needs from the current publication into the working database:
``frozen.<mart>`` (rows of the closed months), ``staging.closed_periods`` (one row: the months
frozen before this run's action, closed after it, and served frozen by this run) and
``staging.closed_month_mrr`` (the frozen MRR of the last month served frozen, which
``mrr_movements`` reads for ``prior_period_adjustment``). They are rewritten only when the close
history or the action changed (their version, ``pipelines.versions``).

The publish step then publishes ``served.<mart>`` views (frozen rows for the months served
frozen, recomputed rows after them) and the two ledger tables (``write_ledger``): every cell of
a closed month whose recomputed value differs from the frozen one is a restatement. The cells
that differ are kept between runs (``closing.differences_<mart>``, ``compare_closed_months``): a
daily run compares again only the rows its changes touched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from pipelines.changes import last_change
from pipelines.publish import PARQUET_DIR, current_publication, masking
from pipelines.sql_models import SqlModel
from pipelines.sqlutil import ident, literal, literal_list, null_safe_match, transaction
from pipelines.versions import (
    DEFINITION,
    built_from,
    fingerprint,
    record_built_from,
    record_version,
    versions,
)

ACTIONS = ("close", "reopen")
MONTH = "month"
STATE_TABLE = "staging.closed_periods"
CLOSED_MONTH_MRR_TABLE = "staging.closed_month_mrr"
FROZEN = "frozen"  # schema of the frozen rows in the working database
SERVED = "served"  # schema of the views the publication copies month-grained marts from
LEDGER = "closing"  # schema of the ledger tables the publication copies
READ_FROM_TABLE = f"{LEDGER}.read_from"  # the publication this run read the closed months from
MRR_MART = "mrr_movements"
# A statement about the boundary at the time of a publication, not a fact of the month: a frozen
# month's adjustment is what bridged it to the month frozen before it, so it is never restated.
NOT_COMPARED = frozenset({"prior_period_adjustment"})
MONEY_TOLERANCE = "0.005"  # a money cell is restated when it moves by at least half a cent
# A ratio (DOUBLE) is restated when it moves by more than this share of itself: two engines, or
# two orders of addition, may differ in the last bits of the same ratio (README, "Running on Spark").
RATIO_TOLERANCE = "1e-9"
# The closed months compared (SQL): all closed before the action; pending: those still served frozen.
COMPARED_THROUGH = f"(SELECT frozen_through FROM {STATE_TABLE})"
PENDING_THROUGH = f"(SELECT serve_through FROM {STATE_TABLE})"


def _ledger_table(name: str, grain: tuple[str, ...], description: str, columns: dict[str, str]) -> SqlModel:
    """A ledger table, published like a mart (contract enforced), written by ``write_ledger``."""
    return SqlModel(
        name=name, layer=LEDGER, path=Path(__file__), sql="", depends_on=(), description=description,
        grain=grain, column_types=columns, pii_class="none",
    )  # fmt: skip


PERIOD_CLOSES = _ledger_table(
    "period_closes",
    ("event_id",),
    "Every close and reopen: the months closed after it, why, when, by whom, and the publication "
    "that froze or released the months.",
    {
        "event_id": "BIGINT",
        "action": "VARCHAR",
        "closed_through": "DATE",
        "reason": "VARCHAR",
        "at": "TIMESTAMP WITH TIME ZONE",
        "by": "VARCHAR",
        "publish_id": "VARCHAR",
    },
)
RESTATEMENTS = _ledger_table(
    "restatements",
    ("mart", "row_key", "column_name"),
    "Cells of closed months whose recomputed value differs from the value finance signed off.",
    {
        "mart": "VARCHAR",
        "row_key": "VARCHAR",
        "column_name": "VARCHAR",
        "month": "DATE",
        "closed_value": "VARCHAR",
        "recomputed_value": "VARCHAR",
        "difference": "DOUBLE",
        "first_seen_publish_id": "VARCHAR",
        "status": "VARCHAR",
    },
)
LEDGER_TABLES = (PERIOD_CLOSES, RESTATEMENTS)
# What the tables ``prepare`` writes look like is decided here: a change of this file rewrites them.
CODE = fingerprint(Path(__file__).read_text())


class ClosingError(Exception):
    """A close or reopen that cannot be made: the message says why."""


def month_start(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ClosingError(f"month {text!r}: expected YYYY-MM, e.g. 2026-09") from None


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


@dataclass(frozen=True)
class PeriodAction:
    """A close or reopen as requested: recorded in ``period_closes`` by the publication."""

    action: str
    month: date
    reason: str
    by: str
    at: datetime

    @classmethod
    def parse(cls, action: str, month: str, reason: str, by: str, at: datetime | None = None) -> PeriodAction:
        if action not in ACTIONS:
            raise ClosingError(f"action {action!r}: expected close or reopen")
        first = month_start(month)
        if not reason.strip():
            raise ClosingError(f"{action} {month}: a reason is required (--reason TEXT)")
        return cls(action, first, reason.strip(), by, at or datetime.now(timezone.utc))


@dataclass(frozen=True)
class ClosingState:
    """The months closed before and after this run's action, and the months served frozen."""

    frozen_through: date | None  # the closed months of the current publication
    closed_through: date | None  # after this run's action
    action: PeriodAction | None = None

    @property
    def serve_through(self) -> date | None:
        """Months up to here are published from the frozen rows: closed before and after the
        action (a close's new months are frozen by this publication, from this run's numbers)."""
        if self.frozen_through is None or self.closed_through is None:
            return None
        return min(self.frozen_through, self.closed_through)


def after_action(frozen_through: date | None, action: PeriodAction | None) -> date | None:
    """The months closed once ``action`` is applied; refuses one that changes nothing."""
    if action is None:
        return frozen_through
    month = f"{action.month:%Y-%m}"
    closed = f"closed through {frozen_through:%Y-%m}" if frozen_through else "no month is closed"
    if action.action == "close":
        if frozen_through is not None and action.month <= frozen_through:
            raise ClosingError(f"close {month}: already closed ({closed})")
        return action.month
    if frozen_through is None or action.month > frozen_through:
        raise ClosingError(f"reopen {month}: not closed ({closed})")
    return previous_month(action.month)


def month_grained(marts: list[SqlModel]) -> list[SqlModel]:
    """The marts a close freezes: those with a ``month`` column."""
    return [m for m in marts if MONTH in m.column_types]


def _published_file(folder: Path | None, name: str) -> Path | None:
    """A table of the current publication as Parquet (no DuckDB lock), if it has it."""
    if folder is None:
        return None
    path = folder / PARQUET_DIR / name / f"{name}.parquet"
    return path if path.exists() else None


def _typed_columns(model: SqlModel, source: str | None, con: duckdb.DuckDBPyConnection) -> str:
    """The contract's columns selected from ``source`` (a column it lacks, added to the
    contract after a close, is NULL in the closed months)."""
    present = set()
    if source is not None:
        present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    return ", ".join(
        f"CAST({ident(c) if c in present else 'NULL'} AS {t}) AS {ident(c)}"
        for c, t in model.column_types.items()
    )


def _copy_published(
    con: duckdb.DuckDBPyConnection, model: SqlModel, folder: Path | None, table: str, where: str
) -> None:
    path = _published_file(folder, model.name)
    source = f"read_parquet({literal(str(path))})" if path else None
    columns = _typed_columns(model, source, con)
    if source is None:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {columns} LIMIT 0")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {columns} FROM {source} WHERE {where}")


def _date(value: date | None) -> str:
    return f"DATE {literal(value.isoformat())}" if value else "CAST(NULL AS DATE)"


def prepare(
    con: duckdb.DuckDBPyConnection,
    warehouse_dir: Path,
    marts: list[SqlModel],
    action: PeriodAction | None,
    rebuild: bool = False,
) -> ClosingState:
    """Read the close history and frozen rows of the current publication into the working
    database, with this run's action; refuses an action that changes nothing."""
    folder = current_publication(warehouse_dir)
    closes = _published_file(folder, PERIOD_CLOSES.name)
    events = (
        con.execute(
            f"SELECT event_id, closed_through, publish_id FROM read_parquet({literal(str(closes))}) ORDER BY event_id"
        ).fetchall()
        if closes
        else []
    )
    frozen_through = events[-1][1] if events else None
    state = ClosingState(frozen_through, after_action(frozen_through, action), action)
    for schema in ("staging", FROZEN, LEDGER):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    _read_ledger(con, folder)
    # The frozen tables follow the close history, the action, and the marts' contracts (a column
    # added after a close is NULL in the closed months): the same ones are not copied again.
    contracts = [(m.name, m.grain, m.column_types) for m in month_grained(marts)]
    version = fingerprint(events, action, contracts, CODE)
    tables = [STATE_TABLE, CLOSED_MONTH_MRR_TABLE, *(f"{FROZEN}.{m.name}" for m in month_grained(marts))]
    if not rebuild and set(versions(con, tables).values()) == {version}:
        return state
    a = action
    with transaction(con):  # the tables and their versions change together
        con.execute(
            f"CREATE OR REPLACE TABLE {STATE_TABLE} AS SELECT {_date(state.frozen_through)} AS frozen_through, "
            f"{_date(state.closed_through)} AS closed_through, {_date(state.serve_through)} AS serve_through, "
            f"CAST({_date(state.serve_through)} + INTERVAL 1 MONTH AS DATE) AS first_recomputed_month, "
            f"CAST({literal(a.action) if a else 'NULL'} AS VARCHAR) AS action, "
            f"{_date(a.month if a else None)} AS action_month, "
            f"CAST({literal(a.reason) if a else 'NULL'} AS VARCHAR) AS reason, "
            f"CAST({literal(a.by) if a else 'NULL'} AS VARCHAR) AS requested_by, "
            f"CAST({literal(a.at.isoformat()) if a else 'NULL'} AS TIMESTAMP WITH TIME ZONE) AS requested_at"
        )
        for mart in month_grained(marts):
            _copy_published(con, mart, folder, f"{FROZEN}.{mart.name}", f"{MONTH} <= {_date(frozen_through)}")
        con.execute(
            f"CREATE OR REPLACE TABLE {CLOSED_MONTH_MRR_TABLE} AS SELECT account_id, mrr AS frozen_mrr "
            f"FROM {FROZEN}.{MRR_MART} WHERE month = (SELECT serve_through FROM {STATE_TABLE})"
        )
        for table in tables:
            record_version(con, table, version)
    return state


def _read_ledger(con: duckdb.DuckDBPyConnection, folder: Path | None) -> None:
    """Every run: the current publication's ledger tables (small; ``restatements`` changes with
    every publication, so a copy is never kept across runs) and which publication was read."""
    with transaction(con):
        for table in LEDGER_TABLES:
            _copy_published(con, table, folder, f"{LEDGER}.prior_{table.name}", "true")
        read = literal(folder.name) if folder else "NULL"
        con.execute(
            f"CREATE OR REPLACE TABLE {READ_FROM_TABLE} AS SELECT CAST({read} AS VARCHAR) AS publish_id"
        )


def refuse_moved_publication(con: duckdb.DuckDBPyConnection, warehouse_dir: Path) -> None:
    """The publication this run read its closed months and ledger from must still be current:
    publishing over another one would drop what that one recorded."""
    read = con.execute(f"SELECT publish_id FROM {READ_FROM_TABLE}").fetchone()[0]
    folder = current_publication(warehouse_dir)
    now = folder.name if folder else None
    if read != now:
        raise ClosingError(
            f"publication {now} became current after this run read the closed months from {read}: run again"
        )


def read_state(con: duckdb.DuckDBPyConnection) -> ClosingState:
    """The state ``prepare`` wrote for this run."""
    row = con.execute(
        f"SELECT frozen_through, closed_through, action, action_month, reason, requested_by, requested_at "
        f"FROM {STATE_TABLE}"
    ).fetchone()
    frozen_through, closed_through, *requested = row
    return ClosingState(frozen_through, closed_through, PeriodAction(*requested) if requested[0] else None)


def refuse_month_in_progress(con: duckdb.DuckDBPyConnection, state: ClosingState) -> None:
    """A month can be closed once it is over: not the month of ``as_of_date`` or a later one."""
    if state.action is None or state.action.action != "close":
        return
    as_of_date, as_of_month = con.execute(
        "SELECT as_of_date, as_of_month FROM intermediate.int_periods"
    ).fetchone()
    if as_of_month is not None and state.closed_through >= as_of_month:
        raise ClosingError(
            f"close {state.closed_through:%Y-%m}: the month is not over (the data runs to {as_of_date}, "
            f"month {as_of_month:%Y-%m} is in progress)"
        )


def served_marts(
    con: duckdb.DuckDBPyConnection, marts: list[SqlModel], state: ClosingState
) -> list[SqlModel]:
    """The marts to publish: a month-grained mart as a view of its frozen rows for the months
    served frozen and its recomputed rows after them; the others (and all, while nothing is
    closed) as built."""
    through = state.serve_through
    if through is None:
        return marts
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SERVED}")
    frozen, served = month_grained(marts), []
    for mart in marts:
        if mart not in frozen:
            served.append(mart)
            continue
        columns = ", ".join(ident(c) for c in mart.column_types)
        con.execute(
            f"CREATE OR REPLACE VIEW {SERVED}.{ident(mart.name)} AS "
            f"SELECT {columns} FROM {FROZEN}.{ident(mart.name)} WHERE {MONTH} <= {_date(through)} "
            f"UNION ALL SELECT {columns} FROM {mart.relation} WHERE {MONTH} > {_date(through)}"
        )
        served.append(replace(mart, layer=SERVED))
    return served


def _row_key(grain: tuple[str, ...]) -> str:
    """A row's grain as JSON text: how ``restatements`` names the row of a cell."""
    return "json_object(" + ", ".join(f"{literal(g)}, {ident(g)}" for g in grain) + ")::VARCHAR"


def differences_sql(mart: SqlModel, through: str, keys: str | None = None) -> str:
    """The cells of months up to ``through`` (a SQL expression) whose recomputed value differs
    from the frozen one: money by half a cent or more, a ratio by more than 1e-9 of itself, any
    other value at all; a row on one side
    only differs in every column. Columns: mart, row_key (the grain as JSON), column_name, month,
    closed_value, recomputed_value (as text), difference (recomputed − closed, numeric columns).

    The recomputed side is masked as the publication masks it: frozen values are published ones.
    ``keys`` (a SELECT of grain values, masked) limits both sides to the rows of those keys.
    """
    grain = mart.grain
    compared = [(c, t) for c, t in mart.column_types.items() if c not in grain and c not in NOT_COMPARED]
    recomputed = ", ".join(masking(c, t)[0] for c, t in mart.column_types.items())
    coalesced = ", ".join(f"coalesce(f.{ident(g)}, r.{ident(g)}) AS {ident(g)}" for g in grain)
    pairs = ", ".join(
        f"f.{ident(c)} AS {ident('f_' + c)}, r.{ident(c)} AS {ident('r_' + c)}" for c, _ in compared
    )
    sides = "f._row IS NOT DISTINCT FROM r._row AS same_rows"  # FALSE: a row on one side only
    on = null_safe_match(grain, "f", "r")
    row_key = _row_key(grain)
    cells = []
    for column, data_type in compared:
        old, new = ident("f_" + column), ident("r_" + column)
        numeric = data_type.startswith("DECIMAL") or data_type in ("DOUBLE", "BIGINT", "INTEGER")
        differs = f"{old} IS DISTINCT FROM {new}"
        if data_type.startswith("DECIMAL"):
            differs += f" AND ({old} IS NULL OR {new} IS NULL OR abs({new} - {old}) >= {MONEY_TOLERANCE})"
        elif data_type == "DOUBLE":
            differs += (
                f" AND ({old} IS NULL OR {new} IS NULL OR isnan({old}) OR isnan({new})"
                f" OR abs({new} - {old}) > {RATIO_TOLERANCE} * greatest(abs({old}), abs({new})))"
            )
        differs = f"NOT same_rows OR ({differs})"
        cells.append(
            f"SELECT {literal(mart.name)} AS mart, {row_key} AS row_key, {literal(column)} AS column_name, "
            f"{MONTH}, CAST({old} AS VARCHAR) AS closed_value, CAST({new} AS VARCHAR) AS recomputed_value, "
            f"{f'CAST({new} - {old} AS DOUBLE)' if numeric else 'CAST(NULL AS DOUBLE)'} AS difference "
            f"FROM joined WHERE {differs}"
        )
    frozen = f"SELECT * FROM {FROZEN}.{ident(mart.name)} WHERE {MONTH} <= {through}"
    recomputed = f"SELECT {recomputed} FROM {mart.relation} WHERE {MONTH} <= {through}"
    if keys is not None:
        of_keys = null_safe_match(grain, "t", "k")
        frozen, recomputed = (f"SELECT t.* FROM ({side}) AS t SEMI JOIN ({keys}) AS k ON {of_keys}"
                              for side in (frozen, recomputed))  # fmt: skip
    return (
        f"WITH f AS (SELECT *, true AS _row FROM ({frozen})), r AS (SELECT *, true AS _row FROM ({recomputed})), "
        f"joined AS (SELECT {coalesced}, {sides}, {pairs} FROM f FULL JOIN r ON {on}) "
        + " UNION ALL ".join(cells)
    )


def differences_table(mart: SqlModel) -> str:
    """Where ``compare_closed_months`` keeps the differing cells of ``mart``'s closed months."""
    return f"{LEDGER}.differences_{mart.name}"  # a relation as meta.versions names it: unquoted


def compare_closed_months(con: duckdb.DuckDBPyConnection, mart: SqlModel, rebuild: bool = False) -> str:
    """Bring ``differences_table(mart)`` (``differences_sql`` through every month closed before
    this run's action) up to date with the mart and the frozen rows; returns what was compared.

    The pending-restatements check and the publication's ``restatements`` both read it, so the
    closed months are compared once per run, not once per reader. And only for the rows that
    changed: when the frozen rows are the ones of the last comparison and the mart's changeset
    (``pipelines.changes``) leads from the version compared then to the version now, the cells
    of the changeset's keys are compared again and the others kept, which is what a comparison
    of every closed month would give (a cell depends on its row's frozen and recomputed values
    only). Otherwise (the first run after a close or reopen, a mart rebuilt without a changeset,
    ``rebuild``) every closed month is compared.
    """
    table = differences_table(mart)
    found = versions(con, [mart.relation, STATE_TABLE, table])
    wanted = {mart.relation: found[mart.relation], STATE_TABLE: found[STATE_TABLE], DEFINITION: CODE}
    known = None not in wanted.values()
    before = built_from(con, table) if found[table] is not None and known and not rebuild else {}
    if before == wanted:
        return "nothing: unchanged since the last comparison"
    change = last_change(con, mart.relation)
    scoped = (
        before
        and all(before.get(k) == wanted[k] for k in (STATE_TABLE, DEFINITION))
        and change is not None
        and change[:2] == (before.get(mart.relation), wanted[mart.relation])
    )
    with transaction(con):  # the cells and what they were compared from change together
        if scoped:
            # The changed keys, masked as the frozen (published) rows are: read once, used thrice.
            masked = ", ".join(masking(g, mart.column_types[g])[0] for g in mart.grain)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _changed_keys AS SELECT DISTINCT {masked} FROM {change[2]}"
            )
            count = con.execute("SELECT count(*) FROM _changed_keys").fetchone()[0]
            con.execute(
                f"DELETE FROM {table} WHERE row_key IN (SELECT {_row_key(mart.grain)} FROM _changed_keys)"
            )
            con.execute(
                f"INSERT INTO {table} {differences_sql(mart, COMPARED_THROUGH, 'SELECT * FROM _changed_keys')}"
            )
            con.execute("DROP TABLE _changed_keys")
            compared = f"the rows of {count:,} keys changed since the last comparison"
        else:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {differences_sql(mart, COMPARED_THROUGH)}")
            compared = "every row of the closed months"
        # Compared from versions unknown (a table built outside the pipeline's bookkeeping):
        # nothing recorded, so the next run compares every closed month again.
        record_built_from(con, table, wanted if known else {})
        if known:
            record_version(con, table, fingerprint(wanted))
    return compared


def pending_restatements(con: duckdb.DuckDBPyConnection, mart: SqlModel, rebuild: bool = False) -> dict:
    """The restatements the next publication lists as pending for ``mart``: count, cells per
    column, the largest absolute difference of a money cell (minutes, counts and ratios are other
    units), a sample, and what was compared (``compare_closed_months``)."""
    compared = compare_closed_months(con, mart, rebuild)
    found = f"SELECT * FROM {differences_table(mart)} WHERE {MONTH} <= {PENDING_THROUGH}"
    money = literal_list(c for c, t in mart.column_types.items() if t.startswith("DECIMAL"))
    count, largest = con.execute(
        f"SELECT count(*), max(abs(difference)) FILTER (WHERE column_name IN {money}) FROM ({found})"
    ).fetchone()
    by_column = dict(
        con.execute(f"SELECT column_name, count(*) FROM ({found}) GROUP BY 1 ORDER BY 1").fetchall()
    )
    cursor = con.execute(
        f"SELECT * FROM ({found}) ORDER BY abs(difference) DESC NULLS LAST, row_key LIMIT 10"
    )
    columns = [d[0] for d in cursor.description]
    sample = [dict(zip(columns, map(str, row))) for row in cursor.fetchall()]
    return {
        "count": count, "by_column": by_column, "largest_money_difference": largest, "sample": sample,
        "compared": compared,
    }  # fmt: skip


def write_ledger(con: duckdb.DuckDBPyConnection, marts: list[SqlModel], publish_id: str) -> list[SqlModel]:
    """``period_closes`` and ``restatements`` of the publication ``publish_id``.

    Restatements compare every month closed before this run's action: those still served frozen
    are ``pending``; those a reopen releases are ``applied`` (their recomputed values are the
    ones published now). A cell keeps the publication that first saw it while it stays pending;
    a pending cell that no longer differs is gone; an applied one stays as history until the
    same cell is restated again.
    """
    state = read_state(con)
    event = ""
    if state.action is not None:
        a = state.action
        event = (
            f" UNION ALL SELECT (SELECT coalesce(max(event_id), 0) + 1 FROM {LEDGER}.prior_period_closes), "
            f"{literal(a.action)}, {_date(state.closed_through)}, {literal(a.reason)}, "
            f"TIMESTAMPTZ {literal(a.at.isoformat())}, {literal(a.by)}, {literal(publish_id)}"
        )
    con.execute(
        f"CREATE OR REPLACE TABLE {PERIOD_CLOSES.relation} AS "
        f"SELECT * FROM {LEDGER}.prior_{PERIOD_CLOSES.name}{event}"
    )
    for mart in month_grained(marts):
        compare_closed_months(con, mart)
    found = " UNION ALL ".join(f"SELECT * FROM {differences_table(m)}" for m in month_grained(marts))
    same_cell = " AND ".join(f"found.{c} = prior.{c}" for c in RESTATEMENTS.grain)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {RESTATEMENTS.relation} AS
        WITH found AS ({found}),
        prior AS (SELECT * FROM {LEDGER}.prior_{RESTATEMENTS.name})
        SELECT found.mart, found.row_key, found.column_name, found.month, found.closed_value,
            found.recomputed_value, found.difference,
            CASE WHEN prior.status = 'pending' THEN prior.first_seen_publish_id ELSE {literal(publish_id)} END
                AS first_seen_publish_id,
            CASE WHEN found.month <= state.serve_through THEN 'pending' ELSE 'applied' END AS status
        FROM found
        CROSS JOIN {STATE_TABLE} AS state
        LEFT JOIN prior ON {same_cell}
        UNION ALL
        SELECT * FROM prior
        WHERE status = 'applied' AND NOT EXISTS (SELECT 1 FROM found WHERE {same_cell})
        """
    )
    return list(LEDGER_TABLES)
