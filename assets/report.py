"""The executive report asset: the page the CFO opens, one per publication.

It is downstream of ``published/marts`` so that it runs after every publish, and only then (a
run whose checks block the publication skips it too). It reads only the current publication's
folder and switches ``<warehouse>/report`` to that publication's page
(``pipelines.report.publish_report``): a failed build leaves the previous page in place, and a
run that made no new publication keeps the page it already has. It shares the warehouse pool
with the publish step, so no publish can switch ``current`` or clean up under it.
"""

import time

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from assets.automation import EVERYTHING_JOB
from assets.publish import PUBLISHED_KEY
from assets.resources import PLATFORM_OWNER, WAREHOUSE_POOL, WarehouseResource
from pipelines import closing
from pipelines.report import ReportError, publish_report
from pipelines.up_to_date import record_complete_run

REPORT_KEY = AssetKey(["published", "report"])
LABELS = {
    "nrr_12m": "NRR (12 months)",
    "grr_12m": "GRR (12 months)",
    "gross_margin_pct": "Gross margin",
    "contribution_margin_pct": "Contribution margin",
    "cost_to_serve_ratio": "Cost-to-serve ratio",
    "dso": "DSO (days)",
}


def preview(figures: dict) -> str:
    """The headline figures as a Markdown table, for the asset's page in the Dagster UI."""

    def show(key: str, value: float | None) -> str:
        if value is None:
            return "n/a"
        return f"{value:.1f}" if key == "dso" else f"{value * 100:.1f}%"

    lines = [
        f"**{figures['month']}** ({figures['month_status']}), publication `{figures['publish_id']}`",
        "",
        "| figure | month | month before |",
        "|---|---|---|",
    ]
    for key, label in LABELS.items():
        figure = figures["figures"].get(key, {})
        lines.append(f"| {label} | {show(key, figure.get('value'))} | {show(key, figure.get('previous'))} |")
    return "\n".join(lines)


@asset(
    key=REPORT_KEY,
    group_name="published",
    deps=[PUBLISHED_KEY],
    kinds={"html"},
    owners=[PLATFORM_OWNER],
    pool=WAREHOUSE_POOL,
    description=(
        "The executive report of the current publication: <warehouse>/report/index.html, one "
        "self-contained page (inline SVG charts, no script, no network) built from the published "
        "marts, switched in with an atomic rename once complete."
    ),
)
def published_report(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    started = time.perf_counter()
    try:
        report = publish_report(warehouse.warehouse_dir)
    except ReportError as error:
        raise Failure(description=str(error)) from error
    if context.job_name == EVERYTHING_JOB:
        with warehouse.connect() as con:
            # Complete: a next run with nothing new would reach this publication again, unless
            # this run closed or reopened a month (the next one serves the months it froze).
            steady = closing.read_state(con).action is None
            record_complete_run(con, report.publish_id if steady else None, warehouse.result_settings)
    seconds = time.perf_counter() - started
    verb = "built" if report.built else "kept (already built for this publication)"
    context.log.info(f"report of publication {report.publish_id} {verb}: {report.path}")
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(report.path)),
            "publish_id": report.publish_id,
            "new_report": report.built,
            "size_bytes": report.size_bytes,
            "build_seconds": round(seconds, 3),
            "preview": MetadataValue.md(preview(report.figures)),
        }
    )
