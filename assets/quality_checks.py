"""One Dagster asset check per Great Expectations suite in ``expectations/<schema>/<table>.json``.

The suite runs inside DuckDB (``pipelines.ge_duckdb``); each expectation's result is in the
check's metadata, and a readable HTML report of the latest results is written to
``<warehouse>/validation/index.html``. Expectations of GE severity ``critical`` (the default)
block everything downstream, publication included; ``warning`` ones are reported only.
"""

import html
import json

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    AssetKey,
    Failure,
    MetadataValue,
    asset_check,
)

from pipelines.ge_duckdb import Suite, SuiteOutcome, load_suites, validate_suites
from pipelines.settings import WAREHOUSE_POOL, WarehouseResource

CHECK_NAME = "expectation_suite"


PERIODS_KEY = AssetKey(["intermediate", "int_periods"])


def suite_parameters(warehouse: WarehouseResource) -> dict:
    """Run-time values the suites refer to as ``{"$PARAMETER": ...}``: the reporting period.

    ``first_month`` is the month of the earliest dated fact or service period, the lower bound
    of every account's first active month.
    """
    with warehouse.connect() as con:
        first, last = con.execute(
            "SELECT CAST(date_trunc('month', first_day) AS DATE), as_of_month FROM intermediate.int_periods"
        ).fetchall()[0]
    if first is None or last is None:
        raise Failure(description="no dated fact was staged: the reporting period is undefined, nothing to validate")
    return {"first_month": first, "as_of_month": last}


def _uses_parameters(suite: Suite) -> bool:
    return "$PARAMETER" in json.dumps(suite.definition)


def _describe(kwargs: dict) -> str:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return ", ".join(kwargs["column_list"])
    return " ".join(str(kwargs.get("unexpected_rows_query", "")).split())[:120]


def write_report(warehouse: WarehouseResource, outcome: SuiteOutcome) -> None:
    """Keep the latest result of every suite as JSON and render them all as one HTML page."""
    folder = warehouse.validation_dir
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {"expectation": o.expectation, "on": _describe(o.kwargs), "success": o.success, "severity": o.severity, "observed": str(o.observed)}
        for o in outcome.outcomes
    ]
    (folder / f"{outcome.suite}.json").write_text(json.dumps({"suite": outcome.suite, "relation": outcome.relation, "results": rows}, indent=1))
    sections = []
    for path in sorted(folder.glob("*.json")):
        suite = json.loads(path.read_text())
        failed = sum(not r["success"] for r in suite["results"])
        body = "".join(
            f"<tr class={'ok' if r['success'] else r['severity']}><td>{html.escape(r['expectation'])}</td>"
            f"<td>{html.escape(r['on'])}</td><td>{html.escape(r['severity'])}</td>"
            f"<td>{'pass' if r['success'] else 'FAIL'}</td><td>{html.escape(r['observed'])}</td></tr>"
            for r in suite["results"]
        )
        sections.append(
            f"<h2>{html.escape(suite['suite'])} — {len(suite['results']) - failed}/{len(suite['results'])} passed</h2>"
            f"<table><tr><th>expectation</th><th>on</th><th>severity</th><th>result</th><th>observed</th></tr>{body}</table>"
        )
    (folder / "index.html").write_text(
        "<!doctype html><meta charset=utf-8><title>Expectation results</title><style>"
        "body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}.critical{background:#fcc}"
        ".warning{background:#ffd}</style><h1>Expectation results (latest run of each suite)</h1>"
        + "".join(sections)
    )


def _suite_check(suite: Suite) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey([suite.schema, suite.table]),
        name=CHECK_NAME,
        blocking=True,
        pool=WAREHOUSE_POOL,
        description=f"Great Expectations suite {suite.path.parent.name}/{suite.path.name}, validated inside DuckDB.",
        additional_deps=[PERIODS_KEY] if _uses_parameters(suite) else None,
    )
    def expectation_suite(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        parameters = suite_parameters(warehouse) if _uses_parameters(suite) else {}
        (outcome,) = validate_suites(warehouse.working_db_path, [suite], parameters)
        write_report(warehouse, outcome)
        failed = [o for o in outcome.outcomes if not o.success]
        for o in failed:
            context.log.warning(f"{suite.name}: {o.severity} {o.expectation} on {_describe(o.kwargs)} failed (observed {o.observed})")
        table = "| expectation | on | severity | result | observed |\n|---|---|---|---|---|\n" + "\n".join(
            f"| {o.expectation} | {_describe(o.kwargs).replace('|', '/')} | {o.severity} | {'pass' if o.success else 'FAIL'} | {str(o.observed).replace('|', '/')[:80]} |"
            for o in outcome.outcomes
        )
        return AssetCheckResult(
            passed=outcome.success,
            severity=AssetCheckSeverity.ERROR if outcome.blocking_failures else AssetCheckSeverity.WARN,
            metadata={
                "expectations": len(outcome.outcomes),
                "failed": len(failed),
                "blocking_failed": len(outcome.blocking_failures),
                "results": MetadataValue.md(table),
                "report": MetadataValue.path(str(warehouse.validation_dir / "index.html")),
            },
        )

    return expectation_suite


def build_suite_checks(known_assets: set[AssetKey]) -> list[AssetChecksDefinition]:
    """A check per suite; a suite whose table no asset builds is an error at load time."""
    suites = load_suites()
    unknown = [str(s.path) for s in suites if AssetKey([s.schema, s.table]) not in known_assets]
    if unknown:
        raise ValueError(f"expectation suites for tables no asset builds: {', '.join(unknown)}")
    return [_suite_check(s) for s in suites]
