"""The SQL model layer: dependencies parsed from SQL, unknown tables refused at load."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey

from assets.sql_assets import EXTERNAL_TABLES, build_sql_definitions, duplicated_grain, load_sql_models
from pipelines.sql_models import (
    SQL_DIR,
    Incremental,
    ModelError,
    SqlModel,
    dependency_order,
    load_checks,
    load_models,
    referenced_tables,
)

EXTERNAL = {name: key.path[0] for name, key in EXTERNAL_TABLES.items()}


def write_model(sql_dir: Path, layer: str, name: str, sql: str) -> None:
    (sql_dir / layer).mkdir(parents=True, exist_ok=True)
    (sql_dir / layer / f"{name}.sql").write_text(sql)


def test_references_exclude_cte_names():
    sql = """
    with invoices as (select * from stg_billing__invoices),
         paid as (select * from invoices where status = 'paid')
    select * from paid join int_customer_accounts using (customer_id)
    """
    assert referenced_tables(sql, Path("x.sql")) == {"stg_billing__invoices", "int_customer_accounts"}


def test_a_model_reading_an_unknown_table_fails_at_load_with_its_file(tmp_path):
    write_model(
        tmp_path, "marts", "broken", "select * from stg_billing__invoices join no_such_table using (x)"
    )
    with pytest.raises(ModelError, match=r"marts/broken\.sql: reads unknown table\(s\) no_such_table"):
        load_models(tmp_path, EXTERNAL)


@pytest.mark.parametrize(
    ("sql", "spec", "refusal"),
    [
        (
            "select t.id from stg_billing__transactions t",
            "{key: id, rows_of: stg_billing__charges}",
            "names an input the model does not read",
        ),
        (
            "select a.id from stg_billing__transactions a join stg_billing__transactions b using (id)",
            "{key: id, rows_of: stg_billing__transactions}",
            "reads each rows_of input once, without a schema",
        ),
        (
            "select id from staging.stg_billing__transactions",
            "{key: id, rows_of: stg_billing__transactions}",
            "reads each rows_of input once, without a schema",
        ),
        (
            "select id from stg_billing__transactions",
            "{key: other, rows_of: stg_billing__transactions}",
            "key must be its grain or a column of it",
        ),
        (
            "select t.id from stg_billing__transactions t join int_fx_daily using (id)",
            "{key: id, rows_of: stg_billing__transactions, touched_by: {int_fx_daily: select id from int_fx_daily}}",
            "touched_by int_fx_daily must read `changed`",
        ),
        (
            "select t.id from stg_billing__transactions t",
            "{key: id, rows_of: {stg_billing__transactions: '(select id from no_such_table)'}}",
            "reads unknown table",
        ),
    ],
    ids=[
        "unknown input",
        "read twice",
        "qualified",
        "key not the grain",
        "touched_by without changed",
        "key expression reads an unknown table",
    ],  # fmt: skip
)
def test_an_incremental_declaration_that_could_give_wrong_rows_is_refused_at_load(
    tmp_path, sql, spec, refusal
):
    """Narrowing ``rows_of`` to the touched keys is exact only for a model that reads it once,
    by the name the temporary view shadows, and whose grain holds the key."""
    write_model(tmp_path, "intermediate", "int_fx_daily", "select 1 as id")
    write_model(tmp_path, "intermediate", "m", sql)
    (tmp_path / "intermediate" / "_models.yml").write_text(f"m: {{grain: [id], incremental: {spec}}}\n")
    with pytest.raises(ModelError, match=f"intermediate/m\\.sql: .*{refusal}"):
        load_models(tmp_path, EXTERNAL)


def test_dependency_cycles_are_refused(tmp_path):
    write_model(tmp_path, "intermediate", "a", "select * from b")
    write_model(tmp_path, "intermediate", "b", "select * from a")
    models = load_models(tmp_path, EXTERNAL)
    with pytest.raises(ModelError, match="cycle"):
        dependency_order(models)


def test_dependency_order_puts_every_model_after_what_it_reads():
    models = load_models(Path(__file__).parent.parent / "sql", EXTERNAL)
    position = {m.name: i for i, m in enumerate(dependency_order(models))}
    for model in models.values():
        for dep in model.depends_on:
            if dep in models:
                assert position[dep] < position[model.name], (dep, model.name)


def test_asset_graph_lineage_comes_from_the_sql():
    assets, checks = build_sql_definitions(load_sql_models())
    deps = {}
    for assets_def in assets:
        for key in assets_def.keys:
            deps[key] = set(assets_def.asset_deps[key])
    economics = deps[AssetKey(["marts", "account_month_economics"])]
    assert AssetKey(["intermediate", "int_revenue_by_line_month"]) in economics
    assert AssetKey(["intermediate", "int_account_months"]) in economics
    spine = deps[AssetKey(["intermediate", "int_account_months"])]
    assert AssetKey(["intermediate", "int_invoices_valued"]) in spine
    assert (
        AssetKey(["staging", "stg_billing__invoices"])
        in deps[AssetKey(["intermediate", "int_invoices_valued"])]
    )
    fx = deps[AssetKey(["intermediate", "int_fx_daily"])]
    assert fx == {
        AssetKey(["intermediate", "int_rates_daily"]),
        AssetKey(["staging", "run_settings"]),
        AssetKey(["staging", "stg_finance__currencies"]),
    }
    check_names = {c.name for check in checks for c in check.check_specs}
    assert {"grain_is_unique", "reconciles_with_staging"} <= check_names


def test_the_grain_check_lists_exactly_the_grain_values_that_repeat():
    """The check compares sorted grain hashes first and lists by value only when one repeats:
    every repeated value is found (a NULL in the grain included, as GROUP BY groups NULLs),
    nothing else is listed, and a table without a repeat passes; with the changed keys of an
    incremental model it looks only at their rows."""
    model = SqlModel("facts", "marts", Path("facts.sql"), "", (), grain=("account_id", "month"))
    with duckdb.connect() as con:
        con.execute("CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.facts AS SELECT 'A' || (i % 5000) AS account_id, i // 5000 AS month "
            "FROM range(100000) AS t(i)"
        )
        assert duplicated_grain(con, model) == []
        con.execute("INSERT INTO marts.facts VALUES ('A7', 3), ('A7', 3), ('A9', 0), (NULL, 1), (NULL, 1)")
        assert sorted(duplicated_grain(con, model), key=str) == [("A7", 3, 3), ("A9", 0, 2), (None, 1, 2)]

        by_account = dataclasses.replace(model, incremental=Incremental(key="account_id", rows_of={}))
        con.execute("CREATE TABLE changed_keys AS SELECT 'A9' AS account_id UNION ALL SELECT 'A8'")
        assert duplicated_grain(con, by_account, "changed_keys") == [("A9", 0, 2)]
        con.execute("DELETE FROM changed_keys WHERE account_id = 'A9'")
        assert duplicated_grain(con, by_account, "changed_keys") == []


@pytest.mark.parametrize(
    ("declared", "refusal"),
    [
        (
            "mrr_movements__bridge_identity: {by_key: month}",
            "by_key 'month' is not the incremental key of mrr_movements",
        ),
        (
            "retention__sums_to_movements: {by_key: segment}",
            "by_key 'segment' is not the incremental key of retention",
        ),
        (
            "mrr_movements__no_such_check: {by_key: account_id}",
            "no check file for mrr_movements__no_such_check",
        ),
    ],
)
def test_a_check_declaration_that_could_skip_rows_is_refused_at_load(tmp_path, declared, refusal):
    """A check read by key must use its model's incremental key (the keys a build changed are
    known by that key only), and a declaration must name an existing check."""
    shutil.copytree(SQL_DIR / "checks", tmp_path / "checks")
    (tmp_path / "checks" / "_checks.yml").write_text(declared + "\n")
    models = load_sql_models()
    with pytest.raises(ModelError, match=refusal):
        load_checks(tmp_path, set(models) | set(EXTERNAL_TABLES), models)
