"""Month-end close in Dagster: the action asset, the pending-restatements checks, the job.

A close or reopen is run config of the ``period_close`` step, so it is launched like any run:
``bash scripts/ee close 2026-09 --reason "..."`` or, in the UI, the ``month_end_close`` job
(*Jobs*), whose launchpad holds the config to fill in. The run records the action, recomputes
what changed and publishes: that publication freezes (or releases) the months. Every other run
has no action and serves the closed months as frozen (``pipelines.closing``).
"""

import getpass

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSelection,
    AssetSpec,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset_check,
    define_asset_job,
    multi_asset,
)
from pydantic import Field

from assets.resources import PLATFORM_OWNER, WAREHOUSE_POOL, WarehouseResource
from assets.settings_tables import CLOSED_MONTH_MRR_KEY, CLOSED_PERIODS_KEY
from assets.sql_assets import reused_metadata
from pipelines import closing
from pipelines.closing import ClosingError, PeriodAction
from pipelines.sql_models import SqlModel, definition
from pipelines.versions import evaluated_once

STEP_NAME = "period_close"


class PeriodCloseConfig(Config):
    """A close or reopen to record with this run's publication (all empty: none)."""

    action: str = Field(default="", description="close or reopen; empty for a run without one")
    month: str = Field(
        default="",
        description="YYYY-MM: closes it and every earlier month, or reopens it and every later one",
    )
    reason: str = Field(default="", description="why (required with an action)")
    requested_by: str = Field(default="", description="who asks (default: the OS user running the step)")


def requested_action(config: PeriodCloseConfig) -> PeriodAction | None:
    if not (config.action or config.month or config.reason):
        return None
    return PeriodAction.parse(
        config.action, config.month, config.reason, config.requested_by or getpass.getuser()
    )


def build_period_close_asset(marts: list[SqlModel]):
    @multi_asset(
        name=STEP_NAME,
        specs=[
            AssetSpec(
                CLOSED_PERIODS_KEY,
                group_name="staging",
                kinds={"duckdb"},
                owners=[PLATFORM_OWNER],
                description="Months closed (before and after this run's close or reopen) and served frozen; "
                "the frozen rows of the closed months, read from the current publication.",
            ),
            AssetSpec(
                CLOSED_MONTH_MRR_KEY,
                group_name="staging",
                kinds={"duckdb"},
                owners=[PLATFORM_OWNER],
                description="Frozen MRR per account of the last month served frozen "
                "(mrr_movements.prior_period_adjustment).",
            ),
        ],
        pool=WAREHOUSE_POOL,
    )
    def period_close(context: AssetExecutionContext, config: PeriodCloseConfig, warehouse: WarehouseResource):
        try:
            action = requested_action(config)
            with warehouse.connect() as con:
                state = closing.prepare(con, warehouse.warehouse_dir, marts, action, warehouse.full_rebuild)
                mrr_rows = con.execute(f"SELECT count(*) FROM {closing.CLOSED_MONTH_MRR_TABLE}").fetchone()[0]
        except ClosingError as error:
            raise Failure(description=str(error)) from error
        if action is not None:
            context.log.info(
                f"{action.action} {action.month:%Y-%m} requested by {action.by}: {action.reason}"
            )

        def month(value):
            return f"{value:%Y-%m}" if value else "none"

        yield MaterializeResult(
            asset_key=CLOSED_PERIODS_KEY,
            metadata={
                "closed_through_before": month(state.frozen_through),
                "closed_through": month(state.closed_through),
                "served_frozen_through": month(state.serve_through),
                "action": f"{action.action} {action.month:%Y-%m}" if action else "none",
            },
        )
        yield MaterializeResult(asset_key=CLOSED_MONTH_MRR_KEY, metadata={"dagster/row_count": mrr_rows})

    return period_close


def _pending_check(mart: SqlModel) -> AssetChecksDefinition:
    reads = [mart.relation, f"{closing.FROZEN}.{mart.name}", closing.STATE_TABLE]
    query = closing.differences_sql(mart, closing.PENDING_THROUGH)

    @asset_check(
        asset=AssetKey([mart.layer, mart.name]),
        name="pending_restatements",
        blocking=False,
        pool=WAREHOUSE_POOL,
        additional_deps=[CLOSED_PERIODS_KEY],
        description="Closed months whose recomputed cells differ from what was signed off (warning: "
        "the publication serves the signed-off rows and lists the cells in restatements).",
    )
    def pending_restatements(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> AssetCheckResult:
        with warehouse.connect() as con:
            result, reused_from = evaluated_once(
                con, f"{mart.relation}:pending_restatements", definition(query) + closing.CODE, reads,
                context.run.run_id,
                not warehouse.full_rebuild, lambda: closing.pending_restatements(con, mart, warehouse.full_rebuild),
            )  # fmt: skip
        largest = result["largest_money_difference"]
        return AssetCheckResult(
            passed=result["count"] == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "pending_restatements": result["count"],
                "largest_difference": MetadataValue.float(float(largest)) if largest is not None else "none",
                "by_column": MetadataValue.json(result["by_column"]),
                "sample": MetadataValue.json(result["sample"]),
                "compared": result["compared"],
                **reused_metadata(reused_from),
            },
        )

    return pending_restatements


def build_pending_restatement_checks(marts: list[SqlModel]) -> list[AssetChecksDefinition]:
    return [_pending_check(m) for m in closing.month_grained(marts)]


# The launchpad shows the step's config schema ("Scaffold missing config"): fill in action, month
# and reason. (A default run config on the job would also replace the resources a test or the
# run command passes to it.)
month_end_close_job = define_asset_job(
    "month_end_close",
    selection=AssetSelection.all(),
    description="Close or reopen months, then run and publish: in the launchpad, set ops.period_close.config "
    "(action: close or reopen, month: YYYY-MM, reason).",
)
