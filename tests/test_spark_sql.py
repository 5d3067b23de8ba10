"""The rewrites that turn a DuckDB model into Spark SQL, each on its own (no Spark needed).

What they are for is shown by running every model on both engines (tests/test_spark_engine.py);
here each rewrite's output is pinned, so that a change to one is seen in its own test.
"""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from assets.sql_assets import EXTERNAL_TABLES, load_sql_models
from pipelines.spark_sql import spark_type, to_spark
from pipelines.sql_models import MACRO_STATEMENTS, SQL_DIR, load_checks


def spark_sql(sql: str) -> str:
    return sqlglot.transpile(to_spark(sql), read="spark", write="spark")[0]  # one spelling to compare


def test_money_is_expanded_to_half_even_rounding_of_micro_units_into_decimal_38_6():
    assert spark_sql("select money(amount * rate) as x from t") == (
        "SELECT CAST(CAST(BROUND(CAST(amount * rate AS DOUBLE) * 1000000, 0) AS DECIMAL(38, 0)) * 0.000001 "
        "AS DECIMAL(38, 6)) AS x FROM t"
    )


def test_a_macro_inside_a_macro_argument_is_expanded_too():
    assert "MONEY" not in spark_sql("select money(money(a) + 1) as x from t").upper().replace("BROUND", "")


def test_money_per_is_integer_arithmetic_on_micro_units():
    out = spark_sql("select money_per(margin, accounts) as x from t")
    assert "CAST(CAST(margin AS DECIMAL(38, 6)) * 1000000 AS BIGINT) DIV CAST(accounts AS BIGINT)" in out
    assert "BROUND" not in out and "/" not in out  # no rounding of a floating-point quotient


def test_a_macro_called_with_the_wrong_number_of_arguments_is_refused():
    with pytest.raises(ValueError, match=r"money\(\) takes 1 argument"):
        to_spark("select money(a, b) from t")


def test_round_even_is_spark_bround():
    assert spark_sql("select round_even(x, 2) from t") == "SELECT BROUND(x, 2) FROM t"


def test_division_casts_the_dividend_to_double_as_duckdb_divides():
    assert spark_sql("select a / b as r from t") == "SELECT CAST(a AS DOUBLE) / b AS r FROM t"


def test_an_interval_divided_stays_an_interval():
    assert spark_sql("select interval 10 day / 2 as i from t") == "SELECT INTERVAL '10' DAY / 2 AS i FROM t"


def test_contract_types_in_spark_spelling():
    assert [spark_type(t) for t in ("DECIMAL(38,6)", "VARCHAR", "TIMESTAMP", "BIGINT", "DATE")] == [
        "DECIMAL(38, 6)", "STRING", "TIMESTAMP_NTZ", "BIGINT", "DATE",
    ]  # fmt: skip


def test_tables_are_read_without_their_layer():
    assert spark_sql("select * from marts.dim_account as d join staging.stg_x as s on true") == (
        "SELECT * FROM dim_account AS d JOIN stg_x AS s ON TRUE"
    )


def test_a_materialized_cte_is_a_plain_one():
    assert spark_sql("with a as materialized (select 1 as x) select x from a") == (
        "WITH a AS (SELECT 1 AS x) SELECT x FROM a"
    )


def with_macros() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for statement in MACRO_STATEMENTS:
        con.execute(statement)
    return con


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0.0000015", "0.000002"),  # 1.5 micro-units exactly: half-even up to 2
        ("0.0000025", "0.000002"),  # 2.5: down to 2
        ("1.0000005", "1.000001"),  # the DOUBLE is 1000000.5000000001 micro-units: up
        ("-1.2500005", "-1.250000"),  # -1250000.4999999999: down in magnitude
        ("1025.4340245", "1025.434025"),  # 1025434024.5000001 as a DOUBLE: up (money_per is exact)
    ],
)
def test_money_rounds_a_double_half_even_on_its_micro_units(amount, expected):
    value, data_type = (
        with_macros().execute(f"SELECT money(CAST({amount} AS DOUBLE)) AS v, typeof(v)").fetchone()
    )
    assert (str(value), data_type) == (expected, "DECIMAL(38,6)")


@pytest.mark.parametrize(
    ("amount", "n", "expected"),
    [
        ("24610.416588", 24, "1025.434024"),  # an exact tie: half-even keeps the even 4
        ("-24610.416588", 24, "-1025.434024"),
        ("0.000003", 2, "0.000002"),  # 0.0000015: tie, up to the even 2
        ("0.000001", 2, "0.000000"),  # 0.0000005: tie, down to the even 0
        ("10", 3, "3.333333"),
        ("20", 3, "6.666667"),
        ("-20", 3, "-6.666667"),
    ],
)
def test_money_per_rounds_the_exact_quotient_half_even_on_duckdb(amount, n, expected):
    value, data_type = (
        with_macros()
        .execute(f"SELECT money_per(CAST({amount} AS DECIMAL(38, 6)), {n}) AS v, typeof(v)")
        .fetchone()
    )
    assert (str(value), data_type) == (expected, "DECIMAL(38,6)")


def test_every_model_and_check_transpiles():
    models = load_sql_models()
    queries = {m.path.name: m.sql for m in models.values()}
    queries |= {c.path.name: c.sql for c in load_checks(SQL_DIR, set(models) | set(EXTERNAL_TABLES), models)}
    failures = {}
    for name, sql in queries.items():
        try:
            to_spark(sql)
        except Exception as error:  # every failure is reported, by file
            failures[name] = str(error)
    assert len(queries) > 40 and failures == {}
