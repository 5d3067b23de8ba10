"""Expectation suites of the staging tables, derived from the extract contract.

    python -m pipelines.staging_suites   # rewrites expectations/staging/*.json

The contract already states keys, required columns, enums and bounds; these suites state them
again as Great Expectations checks on the staged tables, so that a reviewer reads them in a diff
next to the hand-written mart suites (a test keeps the files in sync with the contract).
"""

from __future__ import annotations

import json
from typing import Any

from pipelines.contract import TABLES, Table
from pipelines.ge_duckdb import EXPECTATIONS_DIR

# Business rules that ingestion does not quarantine: a row breaking one blocks publishing. (The
# contract's row rules, e.g. the sign of a line item's amount, are quarantined at ingestion and
# stated again below, from the contract.)
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


def staging_suite(table: Table) -> dict[str, Any]:
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
    for description, query in [*rules, *TABLE_RULES.get(table.qualified_name, [])]:
        expectations.append(
            {
                "type": "unexpected_rows_expectation",
                "description": description,
                "kwargs": {"unexpected_rows_query": query},
            }
        )
    return {"name": f"staging.{table.staging_name}", "expectations": expectations}


def render(table: Table) -> str:
    return json.dumps(staging_suite(table), indent=2) + "\n"


def main() -> None:
    folder = EXPECTATIONS_DIR / "staging"
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        (folder / f"{table.staging_name}.json").write_text(render(table))
    print(f"wrote {len(TABLES)} suites to {folder}")


if __name__ == "__main__":
    main()
