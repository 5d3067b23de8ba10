"""Asset factory: one Dagster asset per SQL model, and the checks that guard them.

Dependencies come from the tables each model's SQL reads (``pipelines.sql_models``); grain
uniqueness checks come from the grain beside each model, other checks from ``sql/checks``.
The Python here only wires files to Dagster: every rule is in a ``.sql`` file.
"""

from contextlib import nullcontext

import duckdb
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    AssetsDefinition,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
    asset_check,
)

from assets.ingestion import staging_key, table_schema
from assets.resources import WAREHOUSE_POOL, WarehouseResource, engine_from_env
from assets.settings_tables import EXTERNAL_SETTINGS_TABLES, settings_assets
from pipelines import incremental
from pipelines.background_imports import import_in_background
from pipelines.contract import TABLES
from pipelines.spark_engine import SparkEngine
from pipelines.sql_models import (
    SOURCE_ROW,
    SQL_DIR,
    ModelError,
    SqlCheck,
    SqlModel,
    definition,
    load_checks,
    load_models,
    use_model_schemas,
)
from pipelines.sqlutil import ident, transaction
from pipelines.versions import (
    evaluated_once,
    model_version,
    record_version,
    versions,
)

# Tables the SQL models may read that are built by Python assets, with their asset keys.
EXTERNAL_TABLES: dict[str, AssetKey] = {
    **{table.staging_name: staging_key(table) for table in TABLES},
    **EXTERNAL_SETTINGS_TABLES,
}


def model_key(model: SqlModel) -> AssetKey:
    return AssetKey([model.layer, model.name])


def _documented_schema(model: SqlModel) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(name=n, type=model.column_types.get(n, ""), description=d)
            for n, d in model.columns.items()
        ]
    )


def _with_descriptions(schema: TableSchema, model: SqlModel) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(name=c.name, type=c.type, description=model.columns.get(c.name))
            for c in schema.columns
        ]
    )


def table_keys(models: dict[str, SqlModel]) -> dict[str, AssetKey]:
    """The asset key of every table a model's SQL may name: the staged extracts and settings
    tables (``EXTERNAL_TABLES``) and the models themselves."""
    return {**EXTERNAL_TABLES, **{name: model_key(m) for name, m in models.items()}}


def relation(key: AssetKey) -> str:
    """The working-database table a Dagster asset key (``[schema, table]``) names."""
    return ".".join(key.path)


def reused_metadata(reused_from: str | None) -> dict:
    """A check's metadata entry saying which earlier run computed the result it reuses."""
    return {"reused_from_run": reused_from} if reused_from else {}


def _model_asset(model: SqlModel, keys: dict[str, AssetKey], keeps_changes: bool) -> AssetsDefinition:
    inputs = {name: relation(keys[name]) for name in model.depends_on}

    @asset(
        key=model_key(model),
        group_name=model.layer,
        deps=[keys[name] for name in model.depends_on],
        kinds={engine_from_env(), "sql"},  # the engine the SQL runs on (EE_ENGINE)
        description=model.description or None,
        owners=[f"team:{model.owner}"] if model.owner else None,
        pool=WAREHOUSE_POOL,
        metadata={
            "sql_file": str(model.path.relative_to(SQL_DIR.parent)),
            "grain": MetadataValue.json(list(model.grain)),
            **({"pii_class": model.pii_class} if model.pii_class else {}),
            "dagster/column_schema": _documented_schema(model),
        },
    )
    def sql_model(warehouse: WarehouseResource) -> MaterializeResult:
        """Rebuilt only when its SQL or the version of a table it reads changed
        (``pipelines.versions``), and then only for the keys the changes touch when the model is
        incremental (``pipelines.incremental``); otherwise the table stays as it is and says so."""
        spark = warehouse.spark_engine
        refreshed = None
        with warehouse.connect() as con:
            recorded = versions(con, [*inputs.values(), model.relation])
            built = recorded.pop(model.relation)
            text = definition(model.sql, warehouse.engine)
            version = model_version(text, recorded)
            recompute = warehouse.full_rebuild or version is None or built != version
            if recompute:
                import_in_background()  # its expectation suite will validate the new rows
                build = incremental.Build(inputs, recorded, built, version, text)
                with transaction(con):  # the table and its version change together
                    if spark:
                        spark.build_model(con, model, recorded, version)
                        incremental.built_elsewhere(con, model, build)
                    else:
                        refreshed = incremental.refresh(
                            con, model, build, keeps_changes, warehouse.full_rebuild
                        )
                    if version is not None:
                        record_version(con, model.relation, version)
            rows = con.execute(f"SELECT count(*) FROM {model.relation}").fetchone()[0]
            schema = table_schema(con, model.relation)
        return MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": _with_descriptions(schema, model),
                "recomputed": recompute,
                **({"recompute": refreshed.mode} if refreshed else {}),
                **({"keys_recomputed": refreshed.keys} if refreshed and refreshed.keys is not None else {}),
                **({"recompute_reason": refreshed.reason} if refreshed and refreshed.reason else {}),
                "engine": warehouse.engine,
            },
            data_version=DataVersion(version) if version else None,
        )

    return sql_model


def _checked_rows(model: SqlModel, keys_in: str | None) -> str:
    """FROM clause of the rows a grain check reads: every row, or with ``keys_in`` (a table
    holding the incremental model's key, which is part of the grain) the rows of those keys."""
    if not keys_in:
        return f"FROM {model.relation}"
    key = model.incremental.key
    return f"FROM {model.relation} WHERE {incremental.among_keys(ident(key), key, keys_in)}"


def _rows_checked(scoped: bool) -> dict:
    """The result's note of which rows a check read: the keys changed since it last passed, or all."""
    return {"rows_checked": "keys changed since the last pass" if scoped else "every row"}


def _rows_checked_metadata(result: dict) -> dict:
    """That note as check metadata; a result recorded before checks noted it has none."""
    return {"rows_checked": result["rows_checked"]} if "rows_checked" in result else {}


def _grain_sql(model: SqlModel, keys_in: str | None = None) -> str:
    """Up to 10 grain values shared by more than one row."""
    grain = ", ".join(ident(c) for c in model.grain)
    return f"SELECT {grain}, count(*) AS n {_checked_rows(model, keys_in)} GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC LIMIT 10"


def _shared_hashes_sql(model: SqlModel, keys_in: str | None = None) -> str:
    """How many rows have the grain hash of the row before them, in hash order."""
    grain = ", ".join(ident(c) for c in model.grain)
    hashes = f"SELECT hash({grain}) AS h {_checked_rows(model, keys_in)}"
    return f"SELECT count(*) FROM (SELECT h, lag(h) OVER (ORDER BY h) AS previous FROM ({hashes})) WHERE h = previous"


def duplicated_grain(
    con: duckdb.DuckDBPyConnection, model: SqlModel, keys_in: str | None = None
) -> list[tuple]:
    """Up to 10 grain values shared by more than one row (with their count), exactly.

    Two rows with the same grain value have the same hash, so when no two sorted hashes are
    equal there is no duplicate: sorting 64-bit hashes costs about half of grouping every grain
    value (at scale 10, the 15 M transactions: 1.1 s against 1.9-2.9 s; BENCHMARKS.md). Equal
    hashes (a duplicate, or two values that collide) run the grouping, which decides.
    """
    (shared,) = con.execute(_shared_hashes_sql(model, keys_in)).fetchone()
    return con.execute(_grain_sql(model, keys_in)).fetchall() if shared else []


def _grain_check(model: SqlModel) -> AssetChecksDefinition:
    sql = _grain_sql(model)
    check_key = f"{model.relation}:grain_is_unique"

    @asset_check(
        asset=model_key(model),
        name="grain_is_unique",
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=f"No two rows share ({', '.join(model.grain)}).",
    )
    def grain_is_unique(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> AssetCheckResult:
        """An incremental model that passed on its previous version is checked on the keys its
        last build changed only (``pipelines.incremental.changed_since_passed``)."""
        with warehouse.connect() as con:

            def evaluate() -> dict:
                changed = None
                if model.incremental and not warehouse.full_rebuild:
                    changed = incremental.changed_since_passed(
                        con, model.relation, check_key, sql, lambda result: not result["duplicates"]
                    )
                duplicates = duplicated_grain(con, model, changed)
                return {"duplicates": [list(map(str, d)) for d in duplicates], **_rows_checked(bool(changed))}

            result, reused_from = evaluated_once(
                con,
                check_key,
                sql,
                [model.relation],
                context.run.run_id,
                not warehouse.full_rebuild,
                evaluate,
            )
        return AssetCheckResult(
            passed=not result["duplicates"],
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "duplicated_keys_sample": MetadataValue.json(result["duplicates"]),
                **_rows_checked_metadata(result),
                **reused_metadata(reused_from),
            },
        )

    return grain_is_unique


def _failing_rows(
    con,
    check: SqlCheck,
    reads: list[str],
    spark: SparkEngine | None,
    model: SqlModel,
    keys_in: str | None = None,
) -> dict:
    """The rows ``check`` returns; with ``keys_in`` (a table holding values of the check's
    ``by_key``), the check reads only those keys' rows of its model: a temporary view of that
    name stands in front of the model's table while the query runs."""
    if spark:
        columns, count, sample = spark.failing_rows(con, check.path, check.sql, versions(con, reads))
    else:
        use_model_schemas(con)
        if keys_in:
            view = {model.name: (model.relation, f"{SOURCE_ROW}.{ident(check.by_key)}")}
            only_keys = incremental.only_rows_of_keys(con, view, check.by_key, keys_in)
        else:
            only_keys = nullcontext()
        with only_keys:
            cursor = con.execute(check.sql)
            columns = [d[0] for d in cursor.description]
            failing = cursor.fetchall()
        count, sample = len(failing), failing[:10]
    return {
        "failing": count,
        "sample": [dict(zip(columns, map(str, row))) for row in sample],
        **_rows_checked(bool(keys_in)),
    }


def _sql_check(
    check: SqlCheck, models: dict[str, SqlModel], keys: dict[str, AssetKey]
) -> AssetChecksDefinition:
    reads = [relation(keys[name]) for name in check.depends_on]
    model = models[check.model]

    @asset_check(
        asset=model_key(model),
        name=check.name,
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=check.description,
        additional_deps=[model_key(models[t]) for t in check.depends_on if t in models and t != check.model],
    )
    def sql_check(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        """A check declared ``by_key`` that passed on its model's previous version, everything
        else it reads unchanged since, reads the keys its model's last build changed only
        (``pipelines.incremental.changed_since_passed``)."""
        spark = warehouse.spark_engine
        check_key, sql = f"{check.model}:{check.name}", definition(check.sql, warehouse.engine)
        with warehouse.connect() as con:

            def evaluate() -> dict:
                changed = None
                if check.by_key and not spark and not warehouse.full_rebuild:
                    changed = incremental.changed_since_passed(
                        con, model.relation, check_key, sql, lambda result: not result["failing"], reads
                    )
                return _failing_rows(con, check, reads, spark, model, changed)

            result, reused_from = evaluated_once(
                con, check_key, sql, reads, context.run.run_id, not warehouse.full_rebuild, evaluate
            )
        return AssetCheckResult(
            passed=not result["failing"],
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "failing_rows": result["failing"],
                "failing_rows_sample": MetadataValue.json(result["sample"]),
                **_rows_checked_metadata(result),
                "engine": warehouse.engine,
                **reused_metadata(reused_from),
            },
        )

    return sql_check


def load_sql_models(sql_dir=SQL_DIR) -> dict[str, SqlModel]:
    """The models under ``sql_dir``; every mart must carry a contract (its columns' data types)."""
    models = load_models(sql_dir, {name: key.path[0] for name, key in EXTERNAL_TABLES.items()})
    for model in models.values():
        if model.layer == "marts" and not model.has_contract:
            raise ModelError(
                f"{model.path}: a mart needs a contract (data_type of every column in _models.yml)"
            )
    return models


def build_sql_definitions(
    models: dict[str, SqlModel], sql_dir=SQL_DIR
) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """Assets and checks for every model and check file under ``sql_dir``."""
    keys = table_keys(models)
    # Models another one reads through ``incremental.touched_by`` keep their changed rows, and
    # so do incremental models: their grain check looks only at the keys they changed.
    watched = {
        name
        for m in models.values()
        if m.incremental
        for name in (m.name, *m.incremental.rows_of, *m.incremental.touched_by)
    }
    model_assets = [_model_asset(m, keys, m.name in watched) for m in models.values()]
    checks = [_grain_check(m) for m in models.values() if m.grain]
    checks += [_sql_check(c, models, keys) for c in load_checks(sql_dir, set(keys), models)]
    return [*settings_assets, *model_assets], checks
