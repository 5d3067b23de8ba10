"""The publish asset: the last step of write-audit-publish.

It depends on every mart, so Dagster runs it only after them and after their blocking checks
(a failed ERROR check skips it). It verifies that itself too: every check of the pipeline must
have been evaluated in this run without a blocking failure, so that a partial run from the UI
cannot publish marts whose checks did not run. Then ``pipelines.publish`` enforces the contracts,
writes the new publication folder (with this run's validation report, stamped as published) and
switches ``<warehouse>/current`` to it; ``<warehouse>/validation/index.html`` links to the current
publication's report.
"""

import json
import shutil
from pathlib import Path

from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DagsterEventType,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.resources import PLATFORM_OWNER, WAREHOUSE_POOL, WarehouseResource
from assets.settings_tables import CLOSED_PERIODS_KEY
from pipelines import closing
from pipelines.ingest import manifest_fingerprint
from pipelines.publish import CURRENT, PublishError, current_publication, link_stable_paths, publish
from pipelines.report_data import QUALITY_FILE, quarantine_summary
from pipelines.sql_models import SqlModel, use_model_schemas
from pipelines.validation_report import INDEX, RUN_FILE, SUITES_DIR, run_report_dir, stamp_published
from pipelines.versions import fingerprint, versions

PUBLISHED_KEY = AssetKey(["published", "marts"])


def check_outcomes(context: AssetExecutionContext, check_keys: list[AssetCheckKey]) -> tuple[int, int]:
    """(passed, failed non-blocking) checks of this run; raises if one is missing or blocking.

    The evaluations are read from this run's own event log: the instance's "latest execution"
    of a check would be the planned execution of a run queued behind this one.
    """
    records = context.instance.get_records_for_run(
        context.run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = {
        evaluation.asset_check_key: evaluation
        for evaluation in (r.event_log_entry.dagster_event.asset_check_evaluation_data for r in records)
    }
    passed, warned, problems = 0, 0, []
    for key in check_keys:
        evaluation = evaluations.get(key)
        name = f"{key.asset_key.to_user_string()}:{key.name}"
        if evaluation is None:
            problems.append(f"{name} did not run in this run")
        elif evaluation.passed:
            passed += 1
        elif evaluation.severity == AssetCheckSeverity.WARN:
            warned += 1
        else:
            problems.append(f"{name} failed")
    if problems:
        raise Failure(
            description="publish refused: " + "; ".join(problems),
            metadata={"hint": "materialize the marts with their checks and this asset in one run"},
        )
    return passed, warned


def require_built_by_this_run(
    context: AssetExecutionContext, keys: list[AssetKey], why: str, hint: str
) -> None:
    """Refuse to publish when the latest materialization of one of ``keys`` is another run's."""
    latest = context.instance.get_latest_materialization_events(keys)
    others = sorted(
        f"{key.to_user_string()} (run {event.run_id[:8]})"
        for key, event in latest.items()
        if event is not None and event.run_id != context.run.run_id
    )
    if others:
        raise Failure(description=f"publish refused: {why}: " + ", ".join(others), metadata={"hint": hint})


def require_inputs_built_by_this_run(context: AssetExecutionContext, mart_keys: list[AssetKey]) -> None:
    """Refuse to publish marts that another run rebuilt after this run checked them, or closed
    months that this run did not read (a run without the ``period_close`` step would serve a
    stale close, or record an earlier run's close request again).

    Runs are queued one at a time (``config/dagster.yaml``), but a run started outside the queue
    (``dagster asset materialize``) shares the working database step by step through the pool.
    """
    require_built_by_this_run(
        context, mart_keys, "rebuilt by another run after this run's checks",
        "that run publishes when its own checks pass",
    )  # fmt: skip
    require_built_by_this_run(
        context, [CLOSED_PERIODS_KEY], "the closed months were read by another run, not this one",
        "materialize staging/closed_periods (the period_close step) in the same run as the marts",
    )  # fmt: skip


REPORT_DIR = "validation"  # inside a publication folder


def report_into_publication(run_folder: Path):
    """``before_switch`` hook: a copy of the run's report, stamped published, in the new folder.

    The run's own folder is stamped only once the switch happened (see ``link_current_report``).
    """

    def copy(folder: Path, publish_id: str) -> None:
        if (run_folder / RUN_FILE).exists():
            shutil.copytree(run_folder, folder / REPORT_DIR)
            stamp_published(folder / REPORT_DIR, publish_id)

    return copy


def into_publication(con, run_folder: Path):
    """``before_switch`` hook: the run's check report, and ``quality.json``, the rows this
    publication's inputs lost to quarantine (per table and rule), which the executive report
    shows: the report reads only the publication, and the working database moves on."""
    copy = report_into_publication(run_folder)

    def write(folder: Path, publish_id: str) -> None:
        copy(folder, publish_id)
        summary = {"quarantined": quarantine_summary(con)}
        (folder / QUALITY_FILE).write_text(json.dumps(summary, indent=1, sort_keys=True))

    return write


def link_current_report(warehouse: WarehouseResource, run_folder: Path, publish_id: str) -> None:
    """Stamp the run's own report folder and point ``validation/index.html`` and the suites'
    pages beside it (``validation/suites/``) at the current publication's report (replacing the
    old layout's page and per-suite JSON files)."""
    if (run_folder / RUN_FILE).exists():
        stamp_published(run_folder, publish_id)
    warehouse_dir = Path(warehouse.warehouse_dir)
    stable = warehouse.validation_dir.relative_to(warehouse_dir)
    link_stable_paths(
        warehouse_dir,
        {
            (stable / name).as_posix(): Path("..") / CURRENT / REPORT_DIR / name
            for name in (INDEX, SUITES_DIR)
        },
    )
    for legacy in warehouse.validation_dir.glob("*.json"):
        legacy.unlink()


def published_versions(con, marts: list[SqlModel]) -> dict[str, str | None]:
    """What each mart's publication is made from: its version, and for a month-grained mart
    the close history too (it decides which of its rows are served frozen)."""
    found = versions(con, [*(m.relation for m in marts), closing.STATE_TABLE])
    closes = found[closing.STATE_TABLE]
    frozen = {m.name for m in closing.month_grained(marts)}
    return {
        m.name: fingerprint(found[m.relation], closes)
        if m.name in frozen and found[m.relation]
        else found[m.relation]
        for m in marts
    }


def build_publish_asset(marts: list[SqlModel], check_keys: list[AssetCheckKey]) -> AssetsDefinition:
    mart_keys = [AssetKey([m.layer, m.name]) for m in marts]

    @asset(
        key=PUBLISHED_KEY,
        group_name="published",
        deps=[*mart_keys, CLOSED_PERIODS_KEY],
        kinds={"duckdb", "parquet"},
        owners=[PLATFORM_OWNER],
        pool=WAREHOUSE_POOL,
        description=(
            "The governed marts: <warehouse>/marts.duckdb (default schema) and "
            "<warehouse>/parquet/<mart>/, one publication folder switched in atomically when every "
            "check passed; e-mail-like values masked as [redacted] (publish_log.redactions)."
        ),
    )
    def published_marts(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        passed, warned = check_outcomes(context, check_keys)
        require_inputs_built_by_this_run(context, mart_keys)
        run_folder = run_report_dir(warehouse.validation_dir, context.run.run_id)
        with warehouse.connect() as con:
            fingerprint = manifest_fingerprint(con)
            use_model_schemas(con)
            try:
                state = closing.read_state(con)
                closing.refuse_month_in_progress(con, state)
                closing.refuse_moved_publication(con, Path(warehouse.warehouse_dir))
                publication = publish(
                    con, closing.served_marts(con, marts, state), Path(warehouse.warehouse_dir),
                    fingerprint, passed, warned,
                    before_switch=into_publication(con, run_folder),
                    # A forced rebuild republishes every mart: no version is trusted.
                    mart_versions=None if warehouse.full_rebuild else published_versions(con, marts),
                    ledger=lambda publish_id: closing.write_ledger(con, marts, publish_id),
                )  # fmt: skip
            except (PublishError, closing.ClosingError) as error:
                raise Failure(description=str(error)) from error
        if publication is None:
            current = current_publication(Path(warehouse.warehouse_dir)).name
            context.log.info(f"nothing changed since publication {current}: it stays current")
            return MaterializeResult(
                metadata={
                    "publish_id": current,
                    "new_publication": False,
                    "path": MetadataValue.path(str(warehouse.published_db_path)),
                    "checks_passed": passed,
                    "checks_failed_non_blocking": warned,
                    "input_fingerprint": fingerprint,
                }
            )
        link_current_report(warehouse, run_folder, publication.publish_id)
        context.log.info(f"published {publication.publish_id} to {publication.folder}")
        for mart, columns in publication.redactions.items():
            context.log.warning(f"{mart}: e-mail-like values masked as [redacted]: {columns}")
        return MaterializeResult(
            metadata={
                "publish_id": publication.publish_id,
                "new_publication": True,
                "marts_carried_over": MetadataValue.json(list(publication.carried_over)),
                "path": MetadataValue.path(str(publication.path)),
                "folder": MetadataValue.path(str(publication.folder)),
                "row_counts": MetadataValue.json(publication.row_counts),
                "redactions": MetadataValue.json(publication.redactions),
                "report": MetadataValue.path(str(warehouse.validation_dir / "index.html")),
                "checks_passed": passed,
                "checks_failed_non_blocking": warned,
                "input_fingerprint": fingerprint,
            }
        )

    return published_marts
