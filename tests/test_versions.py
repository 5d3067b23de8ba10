"""The bookkeeping of data versions (``pipelines.versions``) on a real DuckDB database."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.sqlutil import prepared_once, transaction
from pipelines.versions import record_version, versions


def test_a_connection_is_prepared_once_and_again_after_a_rollback_undid_it():
    con = duckdb.connect()
    calls = []
    for _ in range(3):
        prepared_once(con, "log", lambda: calls.append(con.execute("CREATE TABLE IF NOT EXISTS log (x INT)")))
    assert len(calls) == 1
    other = con.cursor()  # a connection of its own (each Dagster step gets one)
    prepared_once(other, "log", lambda: calls.append("other"))
    assert calls[1:] == ["other"]

    # The bookkeeping tables created inside a transaction that rolls back are gone: the next
    # call on the same connection creates them again instead of trusting what it did before.
    fresh = duckdb.connect()
    with pytest.raises(RuntimeError), transaction(fresh):
        record_version(fresh, "marts.a", "v1")
        raise RuntimeError("the step failed")
    meta_schemas = "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'meta'"
    assert fresh.execute(meta_schemas).fetchone() == (0,)
    fresh.execute("CREATE SCHEMA marts")
    fresh.execute("CREATE TABLE marts.a (x INT)")
    record_version(fresh, "marts.a", "v2")
    assert versions(fresh, ["marts.a", "marts.b"]) == {"marts.a": "v2", "marts.b": None}
