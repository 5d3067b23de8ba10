"""Great Expectations on DuckDB: the shim, and real validations pushed down as SQL."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date

import duckdb
import great_expectations as gx
from great_expectations.execution_engine import sqlalchemy_execution_engine

from pipelines.ge_duckdb import GE_VERSION_SHIMMED, Suite, load_suites, validate_suites
from pipelines.staging_suites import rendered_suites


def test_the_shim_targets_the_installed_great_expectations():
    """Fails loudly when GE changes: re-check (or drop) the shim in pipelines/ge_duckdb.py."""
    assert gx.__version__ == GE_VERSION_SHIMMED
    assert hasattr(sqlalchemy_execution_engine, "_PERSISTED_CONNECTION_DIALECTS")
    from great_expectations.execution_engine.sqlalchemy_dialect import GXSqlDialect

    assert "duckdb" not in [d.value for d in GXSqlDialect], "GE supports DuckDB natively now: drop the shim"


PROBE = textwrap.dedent(
    """
    import json, sys, duckdb, great_expectations as gx
    from pathlib import Path
    from pipelines.ge_duckdb import Suite, install_duckdb_shim, validate_suites
    import pipelines.ge_duckdb as shim
    db = Path(sys.argv[1])
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT range AS id FROM range(10)")
    if sys.argv[2] == "without":
        shim.install_duckdb_shim = lambda: None  # what GE does as shipped
    suite = Suite(db, "marts", "t", {"name": "probe", "expectations": [
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}}]})
    (outcome,) = validate_suites(db, [suite], {})
    print(json.dumps([outcome.success, str(outcome.outcomes[0].observed)]))
    """
)


def probe(tmp_path, mode: str) -> list:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / f"{mode}.duckdb"), mode],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_without_the_shim_every_duckdb_expectation_fails_and_with_it_they_pass(tmp_path):
    success, observed = probe(tmp_path, "without")
    assert success is False and "error" in observed  # GE 1.24.1 as shipped: a metric error
    assert probe(tmp_path, "with") == [True, "0"]


def test_validation_runs_in_duckdb_and_reports_each_failure(tmp_path):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE SCHEMA marts; CREATE TABLE marts.m AS SELECT * FROM (VALUES "
            "('a', DATE '2025-01-01', 1.0), ('a', DATE '2025-01-01', -2.0), ('b', DATE '2030-01-01', 3.0)) t(k, month, v)"
        )
    suite = Suite(db, "marts", "m", {"name": "m", "expectations": [
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["k", "month"]}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "v", "min_value": 0}, "severity": "warning"},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "month", "min_value": {"$PARAMETER": "first"}, "max_value": {"$PARAMETER": "last"}}},
        {"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": "select * from {batch} where v > 2"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "k"}},
    ]})  # fmt: skip
    (outcome,) = validate_suites(db, [suite], {"first": date(2025, 1, 1), "last": date(2026, 12, 1)})
    results = sorted((o.expectation, o.success, o.severity, o.observed) for o in outcome.outcomes)
    assert results == sorted(
        [
            ("expect_compound_columns_to_be_unique", False, "critical", 2),
            ("expect_column_values_to_be_between", False, "warning", 1),
            ("expect_column_values_to_be_between", False, "critical", 1),
            ("unexpected_rows_expectation", False, "critical", 1),
            ("expect_column_values_to_not_be_null", True, "critical", 0),
        ]
    )  # GE reports results in its own order
    assert sorted(o.expectation for o in outcome.blocking_failures) == [
        "expect_column_values_to_be_between", "expect_compound_columns_to_be_unique", "unexpected_rows_expectation",
    ]  # fmt: skip
    duckdb.connect(str(db), read_only=True).close()  # GE let go of the file


def test_staging_suites_on_disk_match_their_module():
    on_disk = {s.path.name: s.path.read_text() for s in load_suites() if s.schema == "staging"}
    assert on_disk == rendered_suites(), "run: python -m pipelines.staging_suites"
    assert set(on_disk) == {"stg_billing__invoice_line_items.json", "stg_crm__engagement_events.json"}


def test_a_suite_does_not_restate_a_grain_and_declares_the_tables_it_reads():
    from dagster import AssetKey

    from assets.definitions import sql_models, suite_checks

    unique_types = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
    for suite in load_suites():
        types = {e["type"] for e in suite.definition["expectations"]}
        if suite.schema == "marts":
            assert sql_models[suite.table].grain, suite.name  # grain_is_unique checks it
            assert not types & unique_types, f"{suite.name} re-checks its grain"
    (check,) = suite_checks
    deps = {
        (spec.asset_key, spec.name): {d.asset_key for d in spec.additional_deps} for spec in check.check_specs
    }
    reads_dim_account = [
        s.table for s in load_suites() if "marts.dim_account" in json.dumps(s.definition["expectations"])
    ]
    assert len(reads_dim_account) >= 5
    for table in reads_dim_account:
        assert AssetKey(["marts", "dim_account"]) in deps[(AssetKey(["marts", table]), "expectation_suite")]
    economics = AssetKey(["marts", "account_month_economics"])
    assert deps[(economics, "expectation_warnings")] == deps[(economics, "expectation_suite")]
    assert AssetKey(["intermediate", "int_periods"]) in deps[(economics, "expectation_suite")]  # parameters


def test_a_suite_validates_while_a_pipeline_connection_to_the_file_is_open(tmp_path):
    """GE's connections are configured like ours (threads, memory limit, spill folder, user
    agent): DuckDB would refuse a second connection to the file in this process otherwise."""
    from assets.resources import WarehouseResource

    warehouse = WarehouseResource(warehouse_dir=str(tmp_path), duckdb_threads=1, duckdb_memory_limit="500MB")
    suite = Suite(tmp_path / "t.json", "marts", "t", {"name": "open", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}]})  # fmt: skip
    with warehouse.connect() as con:
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT range AS id FROM range(10)")
        (outcome,) = validate_suites(warehouse.working_db_path, [suite], {}, warehouse.duckdb_config)
        assert outcome.success
        assert con.execute(
            "SELECT current_setting('threads'), current_setting('memory_limit')"
        ).fetchone() == (
            1,
            "476.8 MiB",
        )
