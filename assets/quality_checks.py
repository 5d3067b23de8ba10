"""Great Expectations suites (``expectations/<schema>/<table>.json``) as Dagster asset checks.

All suites are one multi-asset check, validated in one GE context inside DuckDB
(``pipelines.ge_duckdb``): GE's import and its context are paid once per run, not once per table.
Dagster runs it in as few steps as the blocking order allows (the staging suites must pass before
the intermediate layer is built, the mart suites run after the marts), so a failed blocking
suite also holds back what depends on the other suites of its step; the publication depends on
every check either way. Each suite still shows in
the UI as checks of its own table: ``expectation_suite`` holds the expectations of GE severity
``critical`` (the default) and is blocking: a failure stops everything downstream, publication
included; ``expectation_warnings`` holds the ``warning`` (and ``info``) ones and is not blocking (Dagster
severity WARN). Each expectation's result is in the check's metadata.

A readable HTML report of the run is written to ``<warehouse>/validation/runs/<run_id>/index.html``,
headed by the Dagster run id, its start time and whether the run published. Only a run that
publishes gets its report copied into its publication folder, and
``<warehouse>/validation/index.html`` links to the current publication's report: a failed run's
page never passes for the description of the published marts.
"""

import html
import json
import os
import re
import shutil
from dataclasses import asdict
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Failure,
    MetadataValue,
    multi_asset_check,
)

from assets.resources import WAREHOUSE_POOL, WarehouseResource
from assets.sql_assets import relation, reused_metadata
from pipelines import ge_duckdb
from pipelines.ge_duckdb import (
    BLOCKING_SEVERITY,
    ExpectationOutcome,
    Suite,
    SuiteOutcome,
    load_suites,
    validate_suites,
)
from pipelines.versions import (
    fingerprint,
    model_version,
    record_check_result,
    reusable_check_result,
    versions,
)

CHECK_NAME = "expectation_suite"
WARNINGS_CHECK_NAME = "expectation_warnings"
# A table an expectation's SQL reads besides its own ({batch}): declared as a dependency, so a
# partial run never checks against a stale copy of it.
_RELATION = re.compile(r"\b(staging|intermediate|marts)\.([a-z_][a-z0-9_]*)\b")


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
        raise Failure(
            description="no dated fact was staged: the reporting period is undefined, nothing to validate"
        )
    return {"first_month": first, "as_of_month": last}


def _uses_parameters(suite: Suite) -> bool:
    return "$PARAMETER" in json.dumps(suite.definition)


def _describe(kwargs: dict) -> str:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return ", ".join(kwargs["column_list"])
    return " ".join(str(kwargs.get("unexpected_rows_query", "")).split())[:120]


RUNS_DIR = "runs"
RUN_FILE = "run.json"
KEEP_RUN_REPORTS = 20


def run_report_dir(warehouse: WarehouseResource, run_id: str) -> Path:
    """Where a run's results and report are written: ``validation/runs/<run_id>/``."""
    return warehouse.validation_dir / RUNS_DIR / run_id


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_report(
    warehouse: WarehouseResource, outcomes: list[SuiteOutcome], run_id: str, started_at: datetime
) -> Path:
    """Keep the run's result of these suites as JSON and render the run's suites as one page.

    The first suite of a run writes ``run.json`` (not published yet) and prunes the oldest run
    folders. Returns the page.
    """
    folder = run_report_dir(warehouse, run_id)
    if not folder.exists():
        folder.mkdir(parents=True)
        _write_atomically(
            folder / RUN_FILE,
            json.dumps({"run_id": run_id, "started_at": started_at.isoformat(), "publish_id": None}),
        )
        runs = sorted((p for p in folder.parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in runs[:-KEEP_RUN_REPORTS]:
            shutil.rmtree(old, ignore_errors=True)
    for outcome in outcomes:
        rows = [
            {
                "expectation": o.expectation,
                "on": _describe(o.kwargs),
                "success": o.success,
                "severity": o.severity,
                "observed": str(o.observed),
            }
            for o in outcome.outcomes
        ]
        _write_atomically(
            folder / f"{outcome.suite}.json",
            json.dumps({"suite": outcome.suite, "relation": outcome.relation, "results": rows}, indent=1),
        )
    return render_report(folder)


def stamp_published(folder: Path, publish_id: str) -> None:
    """Record in a run's report folder that the run published ``publish_id``, and re-render."""
    run = json.loads((folder / RUN_FILE).read_text())
    _write_atomically(folder / RUN_FILE, json.dumps({**run, "publish_id": publish_id}))
    render_report(folder)


def render_report(folder: Path) -> Path:
    """``index.html`` of a run's folder: which run, when, published or not, then every suite."""
    run = json.loads((folder / RUN_FILE).read_text())
    if run["publish_id"]:
        status = (
            f"<p class=published>This run <b>published</b> the marts as publication "
            f"<b>{html.escape(run['publish_id'])}</b>: these results describe them.</p>"
        )
    else:
        status = (
            "<p class=unpublished><b>Not published</b> by this run (when this page was written): "
            "these results do not describe the published marts, whose report is "
            "<code>&lt;warehouse&gt;/validation/index.html</code>.</p>"
        )
    sections = []
    for path in sorted(folder.glob("*.json")):
        if path.name == RUN_FILE:
            continue
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
    page = folder / "index.html"
    _write_atomically(
        page,
        "<!doctype html><meta charset=utf-8><title>Expectation results</title><style>"
        "body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}.critical{background:#fcc}"
        ".warning{background:#ffd}.unpublished{background:#fcc;padding:4px}.published{background:#cfc;padding:4px}</style>"
        f"<h1>Expectation results of Dagster run {html.escape(run['run_id'])}</h1>"
        f"<p class=run>Dagster run <code>{html.escape(run['run_id'])}</code>, started {html.escape(run['started_at'])}; "
        f"page written {datetime.now(timezone.utc).isoformat(timespec='seconds')}.</p>"
        + status
        + "".join(sections),
    )
    return page


def run_started_at(context) -> datetime:
    """The start time of the context's Dagster run (now, if the instance has no record of it)."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    if record is not None and record.start_time:
        return datetime.fromtimestamp(record.start_time, timezone.utc)
    return record.create_timestamp if record is not None else datetime.now(timezone.utc)


def _reads(suite: Suite) -> list[AssetKey]:
    """Tables the suite's SQL reads besides its own, and the period its parameters come from."""
    text = json.dumps(suite.definition["expectations"])
    keys = {AssetKey(list(m)) for m in _RELATION.findall(text)} - {_key(suite)}
    if _uses_parameters(suite):
        keys.add(PERIODS_KEY)
    return sorted(keys, key=lambda k: k.path)


def _key(suite: Suite) -> AssetKey:
    return AssetKey([suite.schema, suite.table])


def _has_warnings(suite: Suite) -> bool:
    """Whether the suite has expectations that do not block (GE severity warning or info)."""
    return any(
        e.get("severity", BLOCKING_SEVERITY) != BLOCKING_SEVERITY for e in suite.definition["expectations"]
    )


def _specs(suite: Suite) -> list[AssetCheckSpec]:
    where = f"Great Expectations suite {suite.path.parent.name}/{suite.path.name}, validated inside DuckDB"
    reads = _reads(suite)
    specs = [
        AssetCheckSpec(
            CHECK_NAME, asset=_key(suite), blocking=True, additional_deps=reads,
            description=f"{where}: its critical expectations (blocking).",
        )
    ]  # fmt: skip
    if _has_warnings(suite):
        specs.append(
            AssetCheckSpec(
                WARNINGS_CHECK_NAME, asset=_key(suite), additional_deps=reads,
                description=f"{where}: its warning expectations (reported, not blocking).",
            )
        )  # fmt: skip
    return specs


def _markdown(outcomes: list[ExpectationOutcome]) -> str:
    return "| expectation | on | result | observed |\n|---|---|---|---|\n" + "\n".join(
        f"| {o.expectation} | {_describe(o.kwargs).replace('|', '/')} | {'pass' if o.success else 'FAIL'} "
        f"| {str(o.observed).replace('|', '/')[:80]} |"
        for o in outcomes
    )


def _result(
    suite: Suite, name: str, outcomes: list[ExpectationOutcome], page: Path, reused_from: str | None
) -> AssetCheckResult:
    failed = [o for o in outcomes if not o.success]
    return AssetCheckResult(
        asset_key=_key(suite),
        check_name=name,
        passed=not failed,
        severity=AssetCheckSeverity.ERROR if name == CHECK_NAME else AssetCheckSeverity.WARN,
        metadata={
            "expectations": len(outcomes),
            "failed": len(failed),
            "results": MetadataValue.md(_markdown(outcomes)),
            "report": MetadataValue.path(str(page)),
            **reused_metadata(reused_from),
        },
    )


# What else decides a suite's outcome besides its definition and its tables: the GE release and
# our DuckDB adapter of it. A change of either validates every suite again.
_VALIDATOR_VERSION = fingerprint(
    version("great-expectations"), Path(ge_duckdb.__file__).read_bytes().decode()
)


def _suite_inputs(con, suite: Suite) -> str | None:
    """The suite's definition, the validator and the versions of every table it reads
    (``pipelines.versions``)."""
    relations = [relation(key) for key in (_key(suite), *_reads(suite))]
    definition = json.dumps([_VALIDATOR_VERSION, suite.definition], sort_keys=True)
    return model_version(definition, versions(con, relations))


def _validated_once(
    context: AssetCheckExecutionContext, warehouse: WarehouseResource, suites: list[Suite]
) -> tuple[list[SuiteOutcome], dict[str, str]]:
    """The outcome of every suite, in order, and {suite: run whose outcome is reused}.

    A suite whose definition and input tables are unchanged since its last validation has the
    same outcome: it is reused, and Great Expectations is imported and run only for the others.
    """
    with warehouse.connect() as con:
        inputs = {s.name: _suite_inputs(con, s) for s in suites}
        stored = {
            s.name: None
            if warehouse.full_rebuild
            else reusable_check_result(con, f"suite:{s.name}", inputs[s.name])
            for s in suites
        }
    reused = {name: (_outcome_from_json(r[0]), r[1]) for name, r in stored.items() if r is not None}
    pending = [s for s in suites if s.name not in reused]
    fresh: dict[str, SuiteOutcome] = {}
    if pending:
        parameters = suite_parameters(warehouse) if any(map(_uses_parameters, pending)) else {}
        validated = validate_suites(warehouse.working_db_path, pending, parameters, warehouse.duckdb_config)
        fresh = {s.name: outcome for s, outcome in zip(pending, validated)}
        with warehouse.connect() as con:
            for name, outcome in fresh.items():
                if not any(o.errored for o in outcome.outcomes):  # an error may not recur
                    record_check_result(
                        con, f"suite:{name}", inputs[name], asdict(outcome), context.run.run_id
                    )
    outcomes = [fresh[s.name] if s.name in fresh else reused[s.name][0] for s in suites]
    return outcomes, {name: run_id for name, (_, run_id) in reused.items()}


def _outcome_from_json(data: dict) -> SuiteOutcome:
    return SuiteOutcome(data["suite"], data["relation"], [ExpectationOutcome(**o) for o in data["outcomes"]])


def build_suite_checks(known_assets: set[AssetKey]) -> list[AssetChecksDefinition]:
    """One multi-asset check over every suite; a suite whose table no asset builds is an error
    at load time."""
    suites = load_suites()
    unknown = [str(s.path) for s in suites if _key(s) not in known_assets]
    if unknown:
        raise ValueError(f"expectation suites for tables no asset builds: {', '.join(unknown)}")

    @multi_asset_check(
        name="expectation_suites",
        specs=[spec for s in suites for spec in _specs(s)],
        can_subset=True,
        pool=WAREHOUSE_POOL,
        description="Every Great Expectations suite whose check is selected, in one GE context.",
    )
    def expectation_suites(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        selected = context.selected_asset_check_keys
        chosen = [
            s for s in suites
            if {AssetCheckKey(_key(s), CHECK_NAME), AssetCheckKey(_key(s), WARNINGS_CHECK_NAME)} & selected
        ]  # fmt: skip
        outcomes, reused_from = _validated_once(context, warehouse, chosen)
        page = write_report(warehouse, outcomes, context.run.run_id, run_started_at(context))
        for suite, outcome in zip(chosen, outcomes):
            for o in outcome.outcomes:
                if not o.success:
                    context.log.warning(
                        f"{suite.name}: {o.severity} {o.expectation} on {_describe(o.kwargs)} failed "
                        f"(observed {o.observed})"
                    )
            for name, blocking in ((CHECK_NAME, True), (WARNINGS_CHECK_NAME, False)):
                if AssetCheckKey(_key(suite), name) in selected:
                    outcomes_of_check = [o for o in outcome.outcomes if o.blocking == blocking]
                    yield _result(suite, name, outcomes_of_check, page, reused_from.get(suite.name))

    return [expectation_suites]
