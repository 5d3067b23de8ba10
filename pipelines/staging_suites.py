"""Expectation suites of the staging tables: the business rules ingestion does not enforce.

    python -m pipelines.staging_suites   # rewrites expectations/staging/*.json

Every rule is checked once. The contract's keys, required columns, enums, bounds and row rules
are enforced before a row is staged (ingestion quarantines a row that breaks one, staging keeps
one row per key), so the pipeline does not check them again: ``contract_suite`` states them as
an expectation suite only for the tests, which validate what ingestion lets through against it.
What ingestion cannot judge row by row and does not quarantine is in ``TABLE_RULES``: those
become the staging suites the pipeline runs, blocking publication (a test keeps the files in
sync with this module).
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.contract import TABLES, Table
from pipelines.ge_duckdb import EXPECTATIONS_DIR

# Business rules that ingestion does not quarantine: a row breaking one blocks publishing. (The
# contract's row rules, e.g. the sign of a line item's amount, are quarantined at ingestion;
# contract_suite states them for the tests only.)
TABLE_RULES: dict[str, list[tuple[str, str]]] = {
    "billing__invoice_line_items": [
        (
            "a service period does not end before it starts",
            "select * from {batch} where period_end < period_start",
        ),
    ],
    "crm__engagement_events": [
        (
            "nps_score only on nps_response events",
            "select * from {batch} where nps_score is not null and event_type <> 'nps_response'",
        ),
    ],
}


def contract_suite(table: Table) -> dict[str, Any]:
    """What ingestion and staging guarantee for ``table``, as a suite (for the tests)."""
    expectations: list[dict[str, Any]] = [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}, "severity": "warning"},
    ]
    key = list(table.primary_key)
    if len(key) == 1:
        expectations.append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": key[0]}})
    else:
        expectations.append({"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": key}})
    for column in table.columns:
        if column.name == "is_deleted":
            continue  # removed by staging
        if column.required:
            expectations.append(
                {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": column.name}}
            )
        if column.enum is not None:
            expectations.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": column.name, "value_set": list(column.enum)},
                }
            )
        if column.min is not None or column.max is not None:
            bounds = {
                k: v for k, v in (("min_value", column.min), ("max_value", column.max)) if v is not None
            }
            if column.min_exclusive:
                bounds["strict_min"] = True
            expectations.append(
                {"type": "expect_column_values_to_be_between", "kwargs": {"column": column.name, **bounds}}
            )
    rules = [(r.description, f"select * from {{batch}} where {r.violation}") for r in table.row_rules]
    expectations += _rows_breaking(rules)
    return {"name": f"staging.{table.staging_name}", "expectations": expectations}


def _rows_breaking(rules: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"type": "unexpected_rows_expectation", "description": d, "kwargs": {"unexpected_rows_query": q}}
        for d, q in rules
    ]


def staging_suite(table: Table) -> dict[str, Any] | None:
    """The suite the pipeline runs on ``table``'s staged rows: its ``TABLE_RULES``, if any."""
    rules = TABLE_RULES.get(table.qualified_name)
    return {"name": f"staging.{table.staging_name}", "expectations": _rows_breaking(rules)} if rules else None


def rendered_suites() -> dict[str, str]:
    """File name → text of every staging suite."""
    suites = {t.staging_name: staging_suite(t) for t in TABLES}
    return {f"{name}.json": json.dumps(s, indent=2) + "\n" for name, s in suites.items() if s}


def main() -> None:
    folder = EXPECTATIONS_DIR / "staging"
    folder.mkdir(parents=True, exist_ok=True)
    files = rendered_suites()
    for stale in folder.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (folder / name).write_text(text)
    print(f"wrote {len(files)} suites to {folder}")


if __name__ == "__main__":
    main()
