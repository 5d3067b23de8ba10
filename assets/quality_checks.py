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

The run's report (``pipelines.validation_report``) is written to
``<warehouse>/validation/runs/<run_id>/``: GE's Data Docs page of each suite's validation result,
and an index, all headed by the Dagster run id, its start time and whether the run published.
Only a run that publishes gets its report copied into its publication folder, and
``<warehouse>/validation/index.html`` links to the current publication's report: a failed run's
page never passes for the description of the published marts.
"""

import json
import re
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
from pipelines.validation_report import describe, write_report
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
        f"| {o.expectation} | {describe(o.kwargs).replace('|', '/')} | {'pass' if o.success else 'FAIL'} "
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
    same outcome: it is reused, and Great Expectations is imported and run only for the others
    (the report takes a reused suite's page from the run that validated it).
    """
    with warehouse.connect() as con:
        inputs = {s.name: _suite_inputs(con, s) for s in suites}
        stored = {
            s.name: None
            if warehouse.full_rebuild
            else reusable_check_result(con, f"suite:{s.name}", inputs[s.name])
            for s in suites
        }
    reused = {
        name: (_outcome_from_json(r[0]), r[1])
        for name, r in stored.items()
        if r is not None and r[0].get("ge_result")  # a result kept before pages were rendered: validate again
    }
    pending = [s for s in suites if s.name not in reused]
    fresh: dict[str, SuiteOutcome] = {}
    if pending:
        parameters = suite_parameters(warehouse) if any(map(_uses_parameters, pending)) else {}
        validated = validate_suites(
            warehouse.working_db_path, pending, parameters, warehouse.duckdb_config, context.run.run_id
        )
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
    return SuiteOutcome(
        data["suite"],
        data["relation"],
        [ExpectationOutcome(**o) for o in data["outcomes"]],
        data["ge_result"],
    )


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
        page, unrendered = write_report(
            warehouse.validation_dir, outcomes, context.run.run_id, run_started_at(context), reused_from
        )
        for suite_name, why in unrendered.items():
            context.log.warning(f"{suite_name}: its Data Docs page could not be rendered ({why})")
        for suite, outcome in zip(chosen, outcomes):
            for o in outcome.outcomes:
                if not o.success:
                    context.log.warning(
                        f"{suite.name}: {o.severity} {o.expectation} on {describe(o.kwargs)} failed "
                        f"(observed {o.observed})"
                    )
            for name, blocking in ((CHECK_NAME, True), (WARNINGS_CHECK_NAME, False)):
                if AssetCheckKey(_key(suite), name) in selected:
                    outcomes_of_check = [o for o in outcome.outcomes if o.blocking == blocking]
                    yield _result(suite, name, outcomes_of_check, page, reused_from.get(suite.name))

    return [expectation_suites]
