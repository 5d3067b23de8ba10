"""The SQL models in Spark's dialect: sqlglot's transpiler plus the few rewrites it needs.

The models are written once, in DuckDB's dialect (``sql/``). For the Spark engine
(``pipelines.spark_engine``) each query is parsed with sqlglot, passed through the rewrites below,
and printed in Spark's dialect. A rewrite exists only where sqlglot's output would not run on
Spark or would run and answer differently; each is a small function of the syntax tree, tested on
its own (``tests/test_spark_sql.py``) and by running every model on both engines
(``tests/test_spark_engine.py``). The list is in the README ("Running on Spark").
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from pipelines.sql_models import MACROS


def _expand_macros(tree: exp.Expression) -> exp.Expression:
    """``money(x)`` and the other macros of ``pipelines.sql_models.MACROS``: DuckDB defines them as
    temporary macros; Spark has no such thing, so their body is put in place of the call (the
    parameters replaced by the call's arguments). One definition serves both engines."""

    def expand(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Anonymous) or node.name.lower() not in MACROS:
            return node
        parameters, body = MACROS[node.name.lower()]
        if len(node.expressions) != len(parameters):
            raise ValueError(f"{node.name}() takes {len(parameters)} argument(s): {node.sql('duckdb')}")
        arguments = dict(zip(parameters, node.expressions))
        expanded = sqlglot.parse_one(body, read="duckdb").transform(
            lambda n: arguments[n.name].copy() if isinstance(n, exp.Column) and n.name in arguments else n
        )
        return expanded.transform(expand)  # a macro may call another

    return tree.transform(expand)


def _round_even_to_bround(tree: exp.Expression) -> exp.Expression:
    """DuckDB's ``round_even`` (half-even rounding) is Spark's ``bround``; sqlglot passes the name
    through unchanged, which Spark does not know."""
    return tree.transform(
        lambda n: (
            exp.Anonymous(this="BROUND", expressions=n.expressions)
            if isinstance(n, exp.Anonymous) and n.name.lower() == "round_even"
            else n
        )
    )


def _divide_as_double(tree: exp.Expression) -> exp.Expression:
    """DuckDB's ``/`` always divides in floating point (DECIMAL / DECIMAL is a DOUBLE); Spark
    divides decimals as decimals, rounded to 6 places, so ratios and DSO would differ after the
    sixth decimal. The dividend is cast to DOUBLE, which is what DuckDB does."""

    def as_double(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div) and not isinstance(node.this, exp.Interval):  # an interval stays one
            node.set("this", exp.cast(node.this, exp.DataType.build("DOUBLE")))
        return node

    return tree.transform(as_double)


def _unqualified_tables(tree: exp.Expression) -> exp.Expression:
    """``marts.dim_account`` → ``dim_account``: on DuckDB the layers are schemas on the search
    path; on Spark every table a query reads is a temporary view named after the table (names are
    unique across layers, ``pipelines.sql_models.load_models``)."""
    for table in tree.find_all(exp.Table):
        table.set("db", None)
        table.set("catalog", None)
    return tree


def _plain_ctes(tree: exp.Expression) -> exp.Expression:
    """``WITH x AS MATERIALIZED (...)`` → ``WITH x AS (...)``: a model marks a CTE MATERIALIZED to
    keep DuckDB's join planner from reordering a join past it (the SQL says where); Spark has no
    such keyword, and its answer is the same either way."""
    for cte in tree.find_all(exp.CTE):
        cte.set("materialized", None)
    return tree


# Applied in this order: macros first, so that their bodies go through the other rewrites too.
REWRITES = (_expand_macros, _round_even_to_bround, _divide_as_double, _unqualified_tables, _plain_ctes)


def spark_type(duckdb_type: str) -> str:
    """A DuckDB column type (a mart's contract) in Spark's spelling; a TIMESTAMP is without time
    zone on both (Spark's TIMESTAMP_NTZ)."""
    data_type = exp.DataType.build(duckdb_type, dialect="duckdb")
    return "TIMESTAMP_NTZ" if data_type.this == exp.DataType.Type.TIMESTAMP else data_type.sql("spark")


def to_spark(sql: str) -> str:
    """A DuckDB query (a model or a check) as Spark SQL. Raises ``sqlglot.errors.UnsupportedError``
    for a construct sqlglot knows it cannot express in Spark's dialect; others (an ``ASOF JOIN``)
    are printed as they are and refused by Spark when it analyses the query."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for rewrite in REWRITES:
        tree = rewrite(tree)
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
