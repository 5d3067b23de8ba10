"""The publish asset: the last step of write-audit-publish.

It depends on every mart, so Dagster runs it only after them and after their blocking checks
(a failed ERROR check skips it). It verifies that itself too: every check of the pipeline must
have been evaluated in this run without a blocking failure, so that a partial run from the UI
cannot publish marts whose checks did not run. Then ``pipelines.publish`` enforces the contracts
and swaps the new ``marts.duckdb`` and Parquet exports in.
"""

from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipelines.ingest import manifest_fingerprint
from pipelines.publish import PublishError, publish
from pipelines.settings import WarehouseResource
from pipelines.sql_models import SqlModel, use_model_schemas

PUBLISHED_KEY = AssetKey(["published", "marts"])


def check_outcomes(context: AssetExecutionContext, check_keys: list[AssetCheckKey]) -> tuple[int, int]:
    """(passed, failed non-blocking) checks of this run; raises if one is missing or blocking."""
    records = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    passed, warned, problems = 0, 0, []
    for key in check_keys:
        record = records.get(key)
        name = f"{key.asset_key.to_user_string()}:{key.name}"
        if record is None or record.run_id != context.run.run_id:
            problems.append(f"{name} did not run in this run")
        elif record.status == AssetCheckExecutionRecordStatus.SUCCEEDED:
            passed += 1
        elif record.status == AssetCheckExecutionRecordStatus.FAILED:
            evaluation = record.event.asset_check_evaluation if record.event else None
            if evaluation is not None and evaluation.severity == AssetCheckSeverity.WARN:
                warned += 1
            else:
                problems.append(f"{name} failed")
        else:
            problems.append(f"{name} has not finished")
    if problems:
        raise Failure(
            description="publish refused: " + "; ".join(problems),
            metadata={"hint": "materialize the marts with their checks and this asset in one run"},
        )
    return passed, warned


def build_publish_asset(marts: list[SqlModel], check_keys: list[AssetCheckKey]) -> AssetsDefinition:
    @asset(
        key=PUBLISHED_KEY,
        group_name="published",
        deps=[AssetKey([m.layer, m.name]) for m in marts],
        kinds={"duckdb", "parquet"},
        description=(
            "The governed marts: <warehouse>/marts.duckdb (default schema) and "
            "<warehouse>/parquet/<mart>/, replaced atomically when every check passed."
        ),
    )
    def published_marts(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        passed, warned = check_outcomes(context, check_keys)
        with warehouse.connect() as con:
            fingerprint = manifest_fingerprint(con)
            use_model_schemas(con)
            try:
                publication = publish(
                    con, marts, warehouse.published_db_path.parent, warehouse.published_db_path,
                    warehouse.parquet_dir, fingerprint, passed, warned,
                )  # fmt: skip
            except PublishError as error:
                raise Failure(description=str(error)) from error
        context.log.info(f"published {publication.publish_id} to {publication.path}")
        return MaterializeResult(
            metadata={
                "publish_id": publication.publish_id,
                "path": MetadataValue.path(str(publication.path)),
                "row_counts": MetadataValue.json(publication.row_counts),
                "checks_passed": passed,
                "checks_failed_non_blocking": warned,
                "input_fingerprint": fingerprint,
            }
        )

    return published_marts
