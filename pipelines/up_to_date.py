"""Whether a run has anything to do, asked before one is started.

A run with no new file finds nothing to do in every one of its ~160 steps (each table, model and
check is skipped by its data version), yet Dagster still starts each step: about 7 s in one
process, twice that through the run command, whose instance stores every event. So each run that
ends complete records what its result was computed from: the landing folder as its ingestion
listed it (``pipelines.ingest.loaded_landing``), the code (``pipelines.publish.code_version``),
the settings that change numbers (reporting currency, engine, engagement weights) and the
publication it left current, with its report built. While the landing folder lists the same
files (path, size, modification time: the test ingestion itself trusts), the code and the
settings are the same and that publication is still current, a new run would publish nothing
new: the run command and the daily schedule then start none. A forced rebuild, a close or a
reopen always runs. Only a run of the ``everything`` job records itself (it runs every step:
ingestion has listed every table), and not when it closed or reopened a month (the run after it
serves the months it froze).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from pipelines.ingest import loaded_landing
from pipelines.landing import listed_landing
from pipelines.publish import code_version, current_publication
from pipelines.report import report_built
from pipelines.sqlutil import table_exists
from pipelines.versions import META_SCHEMA, ensure_meta

COMPLETE_RUN_TABLE = f"{META_SCHEMA}.complete_run"


def _inputs(landing: str, code: str, settings: dict[str, str]) -> str:
    return json.dumps({"landing": landing, "code_version": code, "settings": settings}, sort_keys=True)


def record_complete_run(
    con: duckdb.DuckDBPyConnection, publish_id: str | None, settings: dict[str, str]
) -> None:
    """Record, at the end of a run of every step, what the current publication ``publish_id`` is
    the result of; None: forget the last record (the next run has work to do)."""
    ensure_meta(con)
    con.execute(f"CREATE TABLE IF NOT EXISTS {COMPLETE_RUN_TABLE} (publish_id VARCHAR, inputs VARCHAR)")
    con.execute(f"DELETE FROM {COMPLETE_RUN_TABLE}")
    if publish_id is not None:
        con.execute(
            f"INSERT INTO {COMPLETE_RUN_TABLE} VALUES (?, ?)",
            [publish_id, _inputs(loaded_landing(con), code_version(), settings)],
        )


def _recorded(con: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(publication, inputs) of the last complete run, None when none is recorded."""
    if not table_exists(con, COMPLETE_RUN_TABLE):
        return None
    return con.execute(f"SELECT publish_id, inputs FROM {COMPLETE_RUN_TABLE}").fetchone()


def nothing_to_do(
    working_db: Path, warehouse_dir: Path, landing_dir: Path, settings: dict[str, str]
) -> str | None:
    """The id of the current publication when a run now would only arrive at it again; None when
    a run has something to do, or when that cannot be told (no complete run recorded, the
    working database missing or open for writing in another process)."""
    current = current_publication(Path(warehouse_dir))
    if current is None or not report_built(current) or not Path(working_db).exists():
        return None
    try:
        with duckdb.connect(str(working_db), read_only=True) as con:
            recorded = _recorded(con)
    except duckdb.Error:  # held by a writer (a run in progress): let the run wait for its turn
        return None
    if recorded is None:
        return None
    publish_id, inputs = recorded
    now = _inputs(listed_landing(Path(landing_dir)), code_version(), settings)
    return publish_id if publish_id == current.name and inputs == now else None
