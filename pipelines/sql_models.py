"""SQL models: one ``.sql`` file per table, dependencies parsed from the SQL itself.

``sql/<layer>/<name>.sql`` holds one plain SELECT (CTEs first); the file name is the table name
and the folder its schema. Grain and column descriptions sit beside the models in
``sql/<layer>/_models.yml``. Which tables a model reads is parsed from its SQL with sqlglot's
DuckDB dialect (as lea and yato do), so there is no second list to keep in sync; a model that
reads a table nobody builds fails when the definitions load, naming its file.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlglot
import yaml
from sqlglot import exp

from pipelines.sqlutil import ident, prepared_once

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
LAYERS = ("staging", "intermediate", "marts")
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML has it


class ModelError(Exception):
    """A model that cannot be part of the graph: the message names its file."""


SOURCE_ROW = "source_row"  # the name of an input's row in a ``rows_of`` key expression


@dataclass(frozen=True)
class Incremental:
    """How a model can be recomputed for some of its rows (``incremental:`` beside the model in
    ``_models.yml``; ``pipelines.incremental`` applies it).

    ``key`` is the model's grain (one output row per key: a valued transaction) or a column of it
    (a partition: every row of an account). The rows of a key are computed from the rows of the
    ``rows_of`` inputs with the same key and lookups in the model's other inputs, never from rows
    of another key. An input row's key is its ``key`` column, or an SQL expression over the row
    (``source_row``) when the model derives the key (an event's account, or 'unattributed:crm'
    when its account is unknown). A changed row of a ``rows_of`` input recomputes its key; a
    changed row of an input named in ``touched_by`` recomputes the keys its query returns
    (``changed`` in the query holds that input's changed rows, before and after); a change of any
    other input recomputes everything.
    """

    key: str
    rows_of: dict[str, str | None]  # input -> expression of its row's key (None: the key column)
    touched_by: dict[str, str] = field(default_factory=dict)  # input -> SELECT of key values

    def key_of(self, name: str) -> str:
        """The key of a row of the ``rows_of`` input ``name``, as SQL over ``source_row``."""
        return self.rows_of[name] or f"{SOURCE_ROW}.{ident(self.key)}"

    def changed_keys(self, name: str) -> str:
        """SELECT of the keys the changed rows (``changed``) of the ``rows_of`` input ``name`` touch."""
        return f"SELECT {self.key_of(name)} FROM changed AS {SOURCE_ROW}"


@dataclass(frozen=True)
class SqlModel:
    name: str
    layer: str
    path: Path
    sql: str
    depends_on: tuple[str, ...]
    description: str = ""
    grain: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)  # name -> description
    column_types: dict[str, str] = field(default_factory=dict)  # name -> data type (contract)
    owner: str | None = None
    pii_class: str | None = None
    incremental: Incremental | None = None

    @property
    def has_contract(self) -> bool:
        """A model whose docs declare every column's data type (the published marts)."""
        return bool(self.column_types)

    @property
    def relation(self) -> str:
        return f"{self.layer}.{self.name}"


@functools.lru_cache(maxsize=None)
def _parsed(sql: str) -> exp.Expression:
    """The syntax tree of a query, parsed once per process: loading the models reads each
    incremental model's tables twice, and parsing is most of what loading costs. Callers only
    read the tree."""
    return sqlglot.parse_one(sql, read="duckdb")


def referenced_tables(sql: str, path: Path) -> set[str]:
    """Names of the tables a SELECT reads, CTE names excluded."""
    try:
        tree = _parsed(sql)
    except sqlglot.errors.ParseError as error:
        raise ModelError(f"{path}: cannot be parsed: {error}") from error
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}


def _docs(folder: Path, file_name: str = "_models.yml") -> dict[str, dict]:
    docs_file = folder / file_name
    if not docs_file.exists():
        return {}
    return yaml.load(docs_file.read_text(), Loader=SAFE_LOADER) or {}


def load_models(sql_dir: Path, external_tables: dict[str, str]) -> dict[str, SqlModel]:
    """Every model under ``sql_dir``; ``external_tables`` maps names built elsewhere to schemas.

    Raises ``ModelError`` for a model that reads an unknown table, or a name used twice.
    """
    models: dict[str, SqlModel] = {}
    for layer in LAYERS:
        folder = sql_dir / layer
        docs = _docs(folder)
        for path in sorted(folder.glob("*.sql")):
            name = path.stem
            if name in models or name in external_tables:
                raise ModelError(f"{path}: a table named {name!r} is already defined")
            sql = path.read_text()
            doc = docs.get(name, {})
            columns = {
                k: v if isinstance(v, dict) else {"description": v}
                for k, v in (doc.get("columns") or {}).items()
            }
            models[name] = SqlModel(
                name=name,
                layer=layer,
                path=path,
                sql=sql,
                depends_on=tuple(sorted(referenced_tables(sql, path))),
                description=" ".join(doc.get("description", "").split()),
                grain=tuple(doc.get("grain", ())),
                columns={k: v.get("description") or "" for k, v in columns.items()},
                column_types={k: v["data_type"] for k, v in columns.items() if "data_type" in v},
                owner=doc.get("owner"),
                pii_class=doc.get("pii_class"),
                incremental=_incremental(path, doc.get("incremental"), tuple(doc.get("grain", ()))),
            )
    known = set(models) | set(external_tables)
    for model in models.values():
        _require_known(model.path, model.depends_on, known)
        if model.incremental:
            _check_incremental(model, known)
    return models


def _check_incremental(model: SqlModel, known: set[str]) -> None:
    """Refuse an ``incremental`` declaration whose narrowing could give other rows than a full
    recompute: each ``rows_of`` input is narrowed by a temporary view of the same name, so the
    model must read it once, by its bare name; every table a ``touched_by`` query or a key
    expression reads must exist."""
    spec = model.incremental
    if not {*spec.rows_of, *spec.touched_by} <= set(model.depends_on):
        raise ModelError(f"{model.path}: incremental names an input the model does not read")
    queries = [
        *spec.touched_by.values(),
        *(spec.changed_keys(name) for name in spec.rows_of),
    ]
    for sql in queries:
        _require_known(model.path, tuple(sorted(referenced_tables(sql, model.path) - {"changed"})), known)
    tables = list(_parsed(model.sql).find_all(exp.Table))
    for name in spec.rows_of:
        reads = [t for t in tables if t.name == name]
        if len(reads) != 1 or reads[0].db:
            raise ModelError(
                f"{model.path}: an incremental model reads each rows_of input once, without a schema"
            )


def _rows_of(spec: str | list | dict) -> dict[str, str | None]:
    """``rows_of`` as written (an input, a list of inputs, or inputs with key expressions, in a
    mapping or as single-entry mappings in the list) as {input: key expression or None}."""
    items = spec if isinstance(spec, list) else [spec]
    found: dict[str, str | None] = {}
    for item in items:
        found.update(item if isinstance(item, dict) else {item: None})
    return found


def _incremental(path: Path, spec: dict | None, grain: tuple[str, ...]) -> Incremental | None:
    if spec is None:
        return None
    incremental = Incremental(spec["key"], _rows_of(spec["rows_of"]), dict(spec.get("touched_by") or {}))
    if incremental.key not in grain:
        raise ModelError(f"{path}: an incremental model's key must be its grain or a column of it")
    for name, sql in incremental.touched_by.items():
        tables = referenced_tables(sql, path)  # parses it: a broken query fails when loading
        if "changed" not in tables:
            raise ModelError(f"{path}: touched_by {name} must read `changed` (its changed rows)")
    return incremental


def _require_known(path: Path, depends_on: tuple[str, ...], known: set[str]) -> None:
    unknown = [t for t in depends_on if t not in known]
    if unknown:
        raise ModelError(
            f"{path}: reads unknown table(s) {', '.join(unknown)} "
            "(neither a staged contract table nor another model)"
        )


@dataclass(frozen=True)
class SqlCheck:
    """``sql/checks/<model>__<name>.sql``: a query that returns the rows breaking a rule.

    As in dbt's singular tests, the check passes when the query returns no row.
    """

    name: str
    model: str
    path: Path
    sql: str
    description: str
    depends_on: tuple[str, ...]
    # ``by_key: <column>`` in ``sql/checks/_checks.yml``: the rows of each value of the model's
    # incremental key are checked against that key's rows alone (``assets.sql_assets``).
    by_key: str | None = None


def _header_comment(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines)


CHECKS_FILE = "_checks.yml"  # beside the checks: what a check declares besides its SQL


def load_checks(sql_dir: Path, known_tables: set[str], models: dict[str, SqlModel]) -> list[SqlCheck]:
    """Every check query under ``sql_dir/checks``, validated like the models, with what
    ``_checks.yml`` beside them declares: a check read ``by_key`` must use its model's
    incremental key (the keys a build changed are known by that key only)."""
    folder = sql_dir / "checks"
    declared = _docs(folder, CHECKS_FILE)
    paths = sorted(folder.glob("*.sql"))
    if unknown := sorted(set(declared) - {path.stem for path in paths}):
        raise ModelError(f"{folder / CHECKS_FILE}: no check file for {', '.join(unknown)}")
    checks = []
    for path in paths:
        model, separator, name = path.stem.partition("__")
        if not separator or model not in known_tables:
            raise ModelError(f"{path}: name it <model>__<check>.sql after an existing model")
        sql = path.read_text()
        depends_on = tuple(sorted(referenced_tables(sql, path)))
        _require_known(path, depends_on, known_tables)
        by_key = (declared.get(path.stem) or {}).get("by_key")
        incremental = models[model].incremental if model in models else None
        if by_key and (incremental is None or incremental.key != by_key):
            raise ModelError(f"{path}: by_key {by_key!r} is not the incremental key of {model}")
        checks.append(SqlCheck(name, model, path, sql, _header_comment(sql), depends_on, by_key))
    return checks


def dependency_order(models: dict[str, SqlModel]) -> list[SqlModel]:
    """Models in an order where each comes after the models it reads (stable by name)."""
    ordered: list[SqlModel] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ModelError(f"dependency cycle: {' -> '.join((*chain, name))}")
        state[name] = "visiting"
        for dep in models[name].depends_on:
            if dep in models:
                visit(dep, (*chain, name))
        state[name] = "done"
        ordered.append(models[name])

    for name in sorted(models):
        visit(name, ())
    return ordered


# Macros the SQL may call, as (parameters, body in DuckDB's dialect): DuckDB gets them as temporary
# macros, Spark as the body put in place of each call (``pipelines.spark_sql``).
MACROS: dict[str, tuple[tuple[str, ...], str]] = {
    # The one rounding rule for money (docs/metrics.md, "General rules"): an amount is rounded
    # half-even to 6 decimals once, where it is converted, and is DECIMAL(38,6) from there on, so
    # that sums are exact and do not depend on the order in which an engine adds them. A converted
    # amount is a DOUBLE (rates are); it is scaled to micro-units and rounded to a whole number,
    # which both engines do alike (the same IEEE product; a DOUBLE below 2^53 that prints as
    # n.5 is exactly n.5), then made exact. round_even(x, 6) itself differs: Spark's BROUND
    # rounds the shortest decimal form of a DOUBLE, DuckDB its scaled binary value.
    "money": (
        ("x",),
        "CAST(CAST(round_even(CAST(x AS DOUBLE) * 1000000, 0) AS DECIMAL(38, 0)) * 0.000001 AS DECIMAL(38, 6))",
    ),
    # An exact amount shared out over a count n > 0 (a cohort's margin per account), rounded
    # half-even to 6 decimals from the exact quotient: a floating-point quotient can sit just off
    # a tie (24610.416588 / 24 = 1025.4340245 is 1025.43402450000008 as a DOUBLE). Integer
    # arithmetic on micro-units instead, in BIGINT: |amount| below 9.2e12, else the run fails on
    # an overflow rather than giving a wrong number.
    "money_per": (
        ("amount", "n"),
        "CAST(CAST("
        "CAST(CAST(amount AS DECIMAL(38, 6)) * 1000000 AS BIGINT) // CAST(n AS BIGINT)"
        " + CASE WHEN 2 * abs(CAST(CAST(amount AS DECIMAL(38, 6)) * 1000000 AS BIGINT) % CAST(n AS BIGINT))"
        " > CAST(n AS BIGINT)"
        " OR (2 * abs(CAST(CAST(amount AS DECIMAL(38, 6)) * 1000000 AS BIGINT) % CAST(n AS BIGINT))"
        " = CAST(n AS BIGINT)"
        " AND (CAST(CAST(amount AS DECIMAL(38, 6)) * 1000000 AS BIGINT) // CAST(n AS BIGINT)) % 2 <> 0)"
        " THEN CASE WHEN amount < 0 THEN -1 ELSE 1 END ELSE 0 END"
        " AS DECIMAL(38, 0)) * 0.000001 AS DECIMAL(38, 6))",
    ),
}
MACRO_STATEMENTS = tuple(
    f"CREATE OR REPLACE TEMP MACRO {name}({', '.join(parameters)}) AS {body}"
    for name, (parameters, body) in MACROS.items()
)


def definition(sql: str, engine: str = "duckdb") -> str:
    """What decides a query's result besides the tables it reads (the text its data version is
    computed from, ``pipelines.versions``): its SQL and the macros it runs with; on Spark also
    the SQL Spark is given (the transpiler and its rewrites) and the Spark release. A table
    built by one engine is rebuilt when the other takes over, or when a rewrite changes."""
    if engine == "duckdb":
        return "\n".join((*MACRO_STATEMENTS, sql))
    from importlib.metadata import version

    from pipelines.spark_sql import to_spark  # which imports this module

    return "\n".join((*MACRO_STATEMENTS, sql, f"-- {engine} {version('pyspark')}:", to_spark(sql)))


def use_model_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Let SQL name any model or staged table without a schema (the layers are the search path)
    and use the macros (``money()``, the rounding rule); once per connection."""
    prepared_once(con, "model_schemas", lambda: _set_model_schemas(con))


def _set_model_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for layer in LAYERS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(layer)}")
    con.execute(f"SET search_path = '{','.join(('main', *LAYERS))}'")
    for statement in MACRO_STATEMENTS:
        con.execute(statement)


def build_model(con: duckdb.DuckDBPyConnection, model: SqlModel) -> int:
    """``CREATE OR REPLACE TABLE <layer>.<name> AS <the model's SELECT>``; returns its rows."""
    use_model_schemas(con)
    select = model.sql.strip().rstrip(";")
    con.execute(f"CREATE OR REPLACE TABLE {model.relation} AS {select}")
    return con.execute(f"SELECT count(*) FROM {model.relation}").fetchone()[0]
