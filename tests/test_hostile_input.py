"""Revision 2 of the extract contract: hostile input never stops a run, and never loses a row.

Each test lands a small file that used to fail the whole file (or pass when it should not),
ingests it with a real materialization and checks the contract's outcome: each bad row is
quarantined with the rule it broke and its raw values, the rest of the file is loaded, and rows
read = rows loaded + rows quarantined. A file that cannot be read at all fails at once, naming
the file and the reason.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dagster import DagsterEventType

from pipelines.contract import TABLES
from pipelines.ge_duckdb import Suite, validate_suites
from pipelines.staging_suites import contract_suite
from tests.conftest import failure_message, ingest, materialization_metadata, query, write

ACCOUNTS_HEADER = (
    "account_id,account_name,industry,country,segment,risk_tier,owner_email,created_at,is_deleted,updated_at"
)


def account(account_id: str, name: str = "Name") -> str:
    return f"{account_id},{name},saas,US,smb,low,,2025-01-01T00:00:00,false,2025-01-01T00:00:00"


def quarantined(warehouse, table: str) -> list[tuple[str, int, str, dict]]:
    """(file, row, rule, raw values) of the quarantined rows of ``table``, in file order."""
    rows = query(
        warehouse,
        "SELECT _file, _row, rule, raw_values FROM raw.quarantine "
        f"WHERE table_name = '{table}' ORDER BY _file, _row",
    )
    return [(file, row, rule, json.loads(raw)) for file, row, rule, raw in rows]


def accounted(result, table: str) -> tuple[int, int, int]:
    """(read, loaded, quarantined) of this materialization; read = loaded + quarantined."""
    meta = materialization_metadata(result, ["raw", table])
    counts = (meta["rows_read"], meta["rows_loaded"], meta["rows_quarantined"])
    assert counts[0] == counts[1] + counts[2]
    return counts


def raw_values(header: str, line: str) -> dict:
    """The raw values of a CSV line as quarantine keeps them (an empty field is NULL)."""
    return {name: value or None for name, value in zip(header.split(","), line.split(","))}


# --- 1. ranges ------------------------------------------------------------------------------

# (table, header, rows that are valid, (row, rule) pairs that break a range)
RANGE_CASES = [
    (
        "billing__invoices",
        "invoice_id,customer_id,subscription_id,status,currency,amount_due,amount_paid,created_at,due_at,paid_at,updated_at",
        ["I1,C1,S1,paid,USD,1000,1000,2025-01-01T00:00:00,,2025-01-02T00:00:00,2025-01-02T00:00:00",
         "I2,C1,,void,USD,0,0,2025-01-01T00:00:00,,,2025-01-01T00:00:00"],
        [("I3,C1,,open,USD,-500,0,2025-01-01T00:00:00,,,2025-01-01T00:00:00", "out_of_range(amount_due)"),
         ("I4,C1,,paid,USD,500,-1,2025-01-01T00:00:00,,,2025-01-01T00:00:00", "out_of_range(amount_paid)")],
    ),
    (
        "billing__invoice_line_items",
        "line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,description,updated_at",
        ["L1,I1,subscription,1000,USD,2025-01-01,2025-02-01,false,plan,2025-01-01T00:00:00",
         "L2,I1,usage,0,USD,2025-01-01,2025-02-01,false,,2025-01-01T00:00:00",
         "L3,I1,one_time,50,USD,2025-01-01,2025-01-01,false,setup,2025-01-01T00:00:00",
         "L4,I1,discount,-100,USD,2025-01-01,2025-02-01,false,,2025-01-01T00:00:00",
         "L5,I1,DISCOUNT,-7,USD,2025-01-01,2025-02-01,false,,2025-01-01T00:00:00",
         "L6,I1,credit,0,USD,2025-01-01,2025-01-01,false,,2025-01-01T00:00:00"],
        [("L7,I1,subscription,-1,USD,2025-01-01,2025-02-01,false,,2025-01-01T00:00:00", "out_of_range(amount)"),
         ("L8,I1,usage,-2,USD,2025-01-01,2025-02-01,false,,2025-01-01T00:00:00", "out_of_range(amount)"),
         ("L9,I1,one_time,-3,USD,2025-01-01,2025-01-01,false,,2025-01-01T00:00:00", "out_of_range(amount)"),
         ("L10,I1,discount,1,USD,2025-01-01,2025-02-01,false,,2025-01-01T00:00:00", "out_of_range(amount)"),
         ("L11,I1,Credit,2,USD,2025-01-01,2025-01-01,false,,2025-01-01T00:00:00", "out_of_range(amount)")],
    ),
    (
        "billing__transactions",
        "transaction_id,customer_id,occurred_at,status,amount,currency,processing_cost,updated_at",
        ["X1,C1,2025-01-01T00:00:00,settled,1000,USD,20,2025-01-01T00:00:00",
         "X2,C1,2025-01-01T00:00:00,failed,0,USD,0,2025-01-01T00:00:00"],
        [("X3,C1,2025-01-01T00:00:00,refunded,-1000,USD,20,2025-01-01T00:00:00", "out_of_range(amount)"),
         ("X4,C1,2025-01-01T00:00:00,settled,1000,USD,-20,2025-01-01T00:00:00", "out_of_range(processing_cost)")],
    ),
    (
        "billing__charges",
        "charge_id,invoice_id,customer_id,created_at,amount,fee,currency,status,updated_at",
        ["H1,I1,C1,2025-01-01T00:00:00,1000,30,USD,succeeded,2025-01-01T00:00:00"],
        [("H2,I1,C1,2025-01-01T00:00:00,-1000,30,USD,refunded,2025-01-01T00:00:00", "out_of_range(amount)"),
         ("H3,I1,C1,2025-01-01T00:00:00,1000,-30,USD,succeeded,2025-01-01T00:00:00", "out_of_range(fee)")],
    ),
    (
        "support__time_entries",
        "time_entry_id,ticket_id,agent_id,agent_tier,minutes,logged_at,updated_at",
        ["E1,K1,a1,l1,0.5,2025-01-01T00:00:00,2025-01-01T00:00:00"],
        [("E2,K1,a1,l1,0,2025-01-01T00:00:00,2025-01-01T00:00:00", "out_of_range(minutes)"),
         ("E3,K1,a1,l1,-15,2025-01-01T00:00:00,2025-01-01T00:00:00", "out_of_range(minutes)")],
    ),
    (
        "support__tickets",
        "ticket_id,organization_id,requester_email,created_at,solved_at,status,priority,channel,category,reopens,csat,updated_at",
        ["K1,O1,,2025-01-01T00:00:00,,solved,low,email,bug,0,1,2025-01-01T00:00:00",
         "K2,O1,,2025-01-01T00:00:00,,solved,low,email,bug,3,5,2025-01-01T00:00:00"],
        [("K3,O1,,2025-01-01T00:00:00,,solved,low,email,bug,-1,,2025-01-01T00:00:00", "out_of_range(reopens)"),
         ("K4,O1,,2025-01-01T00:00:00,,solved,low,email,bug,0,0,2025-01-01T00:00:00", "out_of_range(csat)")],
    ),
    (
        "crm__engagement_events",
        "event_id,account_id,occurred_at,event_type,channel,feature,nps_score,program_id,updated_at",
        ["V1,A1,2025-01-01T00:00:00,nps_response,email,,0,,2025-01-01T00:00:00",
         "V2,A1,2025-01-01T00:00:00,nps_response,email,,10,,2025-01-01T00:00:00",
         "V3,A1,2025-01-01T00:00:00,unsubscribe,email,,,,2025-01-01T00:00:00"],  # revision 2
        [("V4,A1,2025-01-01T00:00:00,nps_response,email,,11,,2025-01-01T00:00:00", "out_of_range(nps_score)"),
         ("V5,A1,2025-01-01T00:00:00,nps_response,email,,-1,,2025-01-01T00:00:00", "out_of_range(nps_score)")],
    ),
    (
        "finance__fx_rates",
        "rate_date,currency,units_per_usd",
        ["2025-01-03,EUR,0.9"],
        # 0 units per USD is out of range too: converting with it would divide by zero.
        [("2025-01-03,JPY,0", "out_of_range(units_per_usd)"),
         ("2025-01-03,KRW,-1", "out_of_range(units_per_usd)")],
    ),
    (
        "finance__agent_costs",
        "agent_tier,effective_from,hourly_cost_usd",
        ["l1,2025-01-01,40", "l2,2025-01-01,0"],
        [("compliance,2025-01-01,-1", "out_of_range(hourly_cost_usd)")],
    ),
    (
        "finance__exception_unit_costs",
        "category,effective_from,unit_cost_usd",
        ["chargeback,2025-01-01,15"],
        [("manual_review,2025-01-01,-2", "out_of_range(unit_cost_usd)")],
    ),
    (
        "finance__infra_costs",
        "effective_from,cost_per_settled_transaction_usd",
        ["2025-01-01,0.02"],
        [("2025-02-01,-0.01", "out_of_range(cost_per_settled_transaction_usd)")],
    ),
    (
        "crm__programs",
        "program_id,name,launched_on,cost_per_enrolled_account_usd,target_metric,expected_change,evaluation_window_days,kill_threshold,owner,updated_at",
        ["P1,Onboarding,2025-01-01,10,cost_to_serve,-0.15,90,-0.05,,2025-01-01T00:00:00"],
        [("P2,Webinars,2025-01-01,-10,cost_to_serve,-0.15,90,-0.05,,2025-01-01T00:00:00", "out_of_range(cost_per_enrolled_account_usd)")],
    ),
]  # fmt: skip


@pytest.mark.parametrize("table, header, good, bad", RANGE_CASES, ids=[c[0] for c in RANGE_CASES])
def test_values_out_of_range_are_quarantined_and_the_rest_loads(landing, warehouse, table, header, good, bad):
    source, name = table.split("__")
    path = f"{source}/{name}/d1/extract.csv"
    write(landing, path, "\n".join([header, *good, *(line for line, _ in bad)]) + "\n")
    result = ingest(warehouse, table)

    assert quarantined(warehouse, table) == [
        (path, len(good) + i, rule, raw_values(header, line)) for i, (line, rule) in enumerate(bad, start=1)
    ]
    assert query(warehouse, f"SELECT _row FROM raw.{table} ORDER BY _row") == [
        (i,) for i in range(1, len(good) + 1)
    ]
    assert accounted(result, table) == (len(good) + len(bad), len(good), len(bad))


def test_what_ingestion_lets_through_keeps_every_contract_rule(landing, warehouse):
    """The pipeline does not re-check the contract's rules on the staged tables (every rule is
    checked once): this test holds ingestion to them. Each table gets rows that break a rule
    beside good ones; the staged rows pass the suite derived from the whole contract."""
    cases = {c[0]: c for c in RANGE_CASES}
    names = ["billing__invoices", "billing__invoice_line_items", "support__time_entries", "finance__fx_rates"]
    for table in names:
        _, header, good, bad = cases[table]
        source, name = table.split("__")
        write(
            landing,
            f"{source}/{name}/d1/extract.csv",
            "\n".join([header, *good, *(b for b, _ in bad)]) + "\n",
        )
    ingest(warehouse, *names)

    staged = {f"stg_{t}" for t in names}
    suites = [
        Suite(Path(f"{t.staging_name}.json"), "staging", t.staging_name, contract_suite(t))
        for t in TABLES
        if t.staging_name in staged
    ]
    outcomes = validate_suites(warehouse.working_db_path, suites, {}, warehouse.duckdb_config)
    assert len(outcomes) == len(names)
    assert [(o.suite, f.expectation, f.kwargs) for o in outcomes for f in o.blocking_failures] == []


# --- 2. malformed rows -----------------------------------------------------------------------


def test_ragged_csv_rows_are_quarantined_as_malformed_and_the_rest_loads(landing, warehouse):
    path = "crm/accounts/d1/a.csv"
    too_few, too_many, stray_quote = "A2,Two,saas,US", account("A4") + ",surplus", account("A5", '"Fi"ve')
    # Rows are numbered by record: a quoted field may span lines, and blank lines are no records.
    lines = [
        ACCOUNTS_HEADER,
        account("A1", '"One,\n\nover lines"'),
        "",
        too_few,
        account("A3"),
        too_many,
        "",
        stray_quote,
        account("A6"),
    ]
    write(landing, path, "\n".join(lines) + "\n")
    result = ingest(warehouse, "crm__accounts")

    assert quarantined(warehouse, "crm__accounts") == [
        (path, 2, "malformed_row", {"line": too_few}),
        (path, 4, "malformed_row", {"line": too_many}),
        (path, 5, "malformed_row", {"line": stray_quote}),
    ]
    loaded = query(warehouse, "SELECT _row, account_id, account_name FROM raw.crm__accounts ORDER BY _row")
    assert loaded == [(1, "A1", "One,\n\nover lines"), (3, "A3", "Name"), (6, "A6", "Name")]
    assert accounted(result, "crm__accounts") == (6, 3, 3)


def test_jsonl_lines_that_are_not_objects_are_quarantined_with_their_text(landing, warehouse):
    path = "support/organizations/d1/o.jsonl"
    lines = [
        '{"organization_id": "O1", "name": "One", "updated_at": "2025-01-01T00:00:00"}',
        "[1, 2]",
        "42",
        '{"organization_id": "O3", "name": "broken',
        '{"organization_id": "O5", "name": "Five", "updated_at": "2025-01-01T00:00:00"}',
        '"just a string"',
        "null",
        '{"organization_id": "O8", "name": "Eight", "updated_at": "yesterday"}',
    ]
    write(landing, path, "\n".join(lines) + "\n\n")  # a blank line is no record
    result = ingest(warehouse, "support__organizations")

    malformed = [(path, n, "malformed_row", {"line": lines[n - 1]}) for n in (2, 3, 4, 6, 7)]
    eight = (
        path,
        8,
        "unparseable(updated_at)",
        {"organization_id": "O8", "name": "Eight", "updated_at": "yesterday"},
    )
    assert quarantined(warehouse, "support__organizations") == [*malformed, eight]
    loaded = query(warehouse, "SELECT _row, organization_id FROM raw.support__organizations ORDER BY _row")
    assert loaded == [(1, "O1"), (5, "O5")]
    assert accounted(result, "support__organizations") == (8, 2, 6)


# --- 3. large fields -------------------------------------------------------------------------

FIVE_MB = 5 * 1024 * 1024


def test_a_5_mb_field_loads_and_a_5_mb_malformed_line_is_kept_whole(landing, warehouse):
    big = "x" * FIVE_MB
    malformed = account("A3", big) + ",surplus"
    write(
        landing,
        "crm/accounts/d1/a.csv",
        "\n".join([ACCOUNTS_HEADER, account("A1", big), account("A2"), malformed]) + "\n",
    )
    write(landing, "crm/accounts/d2/a.jsonl", json.dumps({"account_id": "A4", "account_name": big, "country": "US", "segment": "smb", "risk_tier": "low", "created_at": "2025-01-01", "is_deleted": False, "updated_at": "2025-01-01"}) + "\n")  # fmt: skip
    result = ingest(warehouse, "crm__accounts")

    loaded = query(warehouse, "SELECT account_id, length(account_name) FROM raw.crm__accounts ORDER BY 1")
    assert loaded == [("A1", FIVE_MB), ("A2", 4), ("A4", FIVE_MB)]
    assert quarantined(warehouse, "crm__accounts") == [
        ("crm/accounts/d1/a.csv", 3, "malformed_row", {"line": malformed})
    ]
    assert accounted(result, "crm__accounts") == (4, 3, 1)


def test_failure_messages_never_carry_a_huge_value(landing, warehouse):
    huge = "n" * 1_000_000
    line = {"account_id": "A1", "account_name": "One", "country": "US", "segment": "smb", "risk_tier": "low",
            "created_at": "2025-01-01", "is_deleted": False, "updated_at": "2025-01-01", huge: 1, huge.upper(): 2}  # fmt: skip
    write(landing, "crm/accounts/d1/a.jsonl", json.dumps(line) + "\n")
    result = ingest(warehouse, "crm__accounts", raise_on_error=False)

    message = failure_message(result)
    assert "crm/accounts/d1/a.jsonl: column(s) named more than once" in message
    assert len(message) < 3000


# --- 4. extra columns with internal names ----------------------------------------------------

INTERNAL_NAMES = [
    "rowid",
    "landed",
    "_rule",
    "_row",
    "_file",
    "_load_id",
    "json",
    "raw_values",
    "l",
    "c",
    "line",
    "_c0",
]
RENAMED = {
    "rowid": "_extra_rowid",
    "_row": "_extra__row",
    "_file": "_extra__file",
    "_load_id": "_extra__load_id",
}


def _organizations_with_internal_names(landing: Path, fmt: str) -> str:
    """Two organizations with an extra column per internal name; the second has a bad time."""
    rows = [
        {"organization_id": "O1", "name": "One", "external_id": None, "updated_at": "2025-01-01T00:00:00"},
        {"organization_id": "O2", "name": "Two", "external_id": "A2", "updated_at": "never"},
    ]
    for row in rows:
        row.update({name: f"{row['organization_id']}-{name}" for name in INTERNAL_NAMES})
    path = landing / f"support/organizations/d1/o.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame(rows, schema={k: pl.String for k in rows[0]})
    {"csv": frame.write_csv, "jsonl": frame.write_ndjson, "parquet": frame.write_parquet}[fmt](path)
    return path.relative_to(landing).as_posix()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_extra_columns_named_like_internals_never_shadow_the_bookkeeping(landing, warehouse, fmt):
    path = _organizations_with_internal_names(landing, fmt)
    result = ingest(warehouse, "support__organizations")

    # The quarantined row keeps every raw value under its own name.
    ((file, row, rule, values),) = quarantined(warehouse, "support__organizations")
    assert (file, row, rule) == (path, 2, "unparseable(updated_at)")
    assert values == {
        "organization_id": "O2", "name": "Two", "external_id": "A2", "updated_at": "never",
        **{name: f"O2-{name}" for name in INTERNAL_NAMES},
    }  # fmt: skip
    # Lineage is the pipeline's; extras are kept, renamed only where they would collide with it.
    stored = [RENAMED.get(name, name) for name in INTERNAL_NAMES]
    columns = ", ".join(f'"{c}"' for c in stored)
    loaded = query(
        warehouse,
        f"SELECT _file, _row, _load_id = '{result.run_id}', organization_id, {columns} FROM raw.support__organizations",
    )
    assert loaded == [(path, 1, True, "O1", *(f"O1-{name}" for name in INTERNAL_NAMES))]
    assert sorted(
        materialization_metadata(result, ["raw", "support__organizations"])["extra_columns"]
    ) == sorted(stored)
    assert accounted(result, "support__organizations") == (2, 1, 1)


# --- 5. unreadable files ---------------------------------------------------------------------

TRUNCATED_PARQUET = "truncated"  # written from a real Parquet file, cut in half

UNREADABLE = [
    ("crm/accounts/d2/latin1.csv", (ACCOUNTS_HEADER + "\n" + account("A2", "Café") + "\n").encode("latin-1"), "not UTF-8"),
    ("crm/accounts/d2/utf16.csv", (ACCOUNTS_HEADER + "\n" + account("A2") + "\n").encode("utf-16"), "not UTF-8"),
    ("crm/accounts/d2/a.parquet", TRUNCATED_PARQUET, "cannot be read"),
    ("crm/accounts/d2/empty.csv", b"", "empty"),
    ("crm/accounts/d2/empty.jsonl", b"\n", "empty"),
    ("crm/accounts/d2/no_header.csv", (account("A2") + "\n").encode(), "missing required column"),
]  # fmt: skip


def _step_events(result, event_type: DagsterEventType, step_key: str) -> list:
    return [e for e in result.all_events if e.event_type == event_type and e.step_key == step_key]


@pytest.mark.parametrize(
    "relative_path, content, reason", UNREADABLE, ids=[Path(u[0]).name for u in UNREADABLE]
)
def test_an_unreadable_file_fails_at_once_naming_the_file_and_the_reason(
    landing, warehouse, relative_path, content, reason
):
    write(landing, "crm/accounts/d1/a.csv", ACCOUNTS_HEADER + "\n" + account("A1") + "\n")
    ingest(warehouse, "crm__accounts")
    if content == TRUNCATED_PARQUET:
        good = landing / "good.parquet"
        pl.DataFrame({"account_id": ["A2"] * 1000}).write_parquet(good)
        content = good.read_bytes()[: good.stat().st_size // 2]
        good.unlink()
    (landing / relative_path).parent.mkdir(parents=True, exist_ok=True)
    (landing / relative_path).write_bytes(content)
    result = ingest(warehouse, "crm__accounts", raise_on_error=False)

    assert not result.success
    message = failure_message(result)
    assert f"{relative_path}: " in message and reason in message, message
    assert len(_step_events(result, DagsterEventType.STEP_START, "raw__crm__accounts")) == 1  # no retry
    assert _step_events(result, DagsterEventType.STEP_UP_FOR_RETRY, "raw__crm__accounts") == []
    assert query(warehouse, "SELECT account_id FROM raw.crm__accounts") == [("A1",)]


# --- 6. the run command says which file and why ----------------------------------------------


def test_the_run_command_prints_the_unreadable_file_and_the_reason(tmp_path, landing, monkeypatch, capsys):
    from cli import run

    broken = "finance/currencies/2026-01-02/more.csv"
    (landing / broken).parent.mkdir(parents=True)
    (landing / broken).write_bytes("currency,minor_unit_exponent\nISK,0\nCafé,2\n".encode("latin-1"))
    warehouse_dir = tmp_path / "run_warehouse"
    monkeypatch.setenv("EE_LANDING_DIR", str(landing))
    monkeypatch.setenv("EE_WAREHOUSE_DIR", str(warehouse_dir))

    code = run.main([])

    out = capsys.readouterr().out
    assert code == 1
    failed = [line for line in out.splitlines() if "step failed: raw__finance__currencies" in line]
    assert len(failed) == 1 and f"{broken}: " in failed[0] and "not UTF-8" in failed[0], out
    assert "run failed: nothing was published" in out
    assert not (warehouse_dir / "marts.duckdb").exists()


def test_a_step_that_gave_up_after_retries_is_reported_with_its_cause():
    """Transient read errors are still retried; when the retries run out, the progress line
    says why (the cause), not only "Exceeded max_retries"."""
    from dagster._core.execution.plan.objects import StepFailureData
    from dagster._utils.error import SerializableErrorInfo

    from cli.progress import failure_reason

    cause = SerializableErrorInfo("duckdb.IOException: IO Error: Could not read x.csv\n", [], "IOException")
    gave_up = SerializableErrorInfo(
        "Exceeded max_retries of 3\n", [], "RetryRequestedFromPolicy", cause=cause
    )
    reason = failure_reason(StepFailureData(error=gave_up, user_failure_data=None))
    assert reason == "Exceeded max_retries of 3: duckdb.IOException: IO Error: Could not read x.csv"


# --- files loaded before revision 2 ----------------------------------------------------------


def test_files_loaded_under_earlier_rules_are_validated_again(landing, warehouse):
    """An unchanged file is skipped only under unchanged rules: a warehouse loaded under
    revision 1 (no range on amounts) re-validates its files under revision 2."""
    path = "billing/invoices/d1/i.csv"
    _, header, good, bad = RANGE_CASES[0]  # invoices; the first bad one has a negative amount_due
    write(landing, path, "\n".join([header, *good, bad[0][0]]) + "\n")
    ingest(warehouse, "billing__invoices")
    # As revision 1 left it: the negative invoice loaded, and the fingerprint of its rules, which
    # depended on the currency set only.
    currencies = query(warehouse, "SELECT currency FROM staging.stg_finance__currencies ORDER BY 1")
    revision_1 = hashlib.sha256(",".join(c for (c,) in currencies).encode()).hexdigest()[:16]
    with duckdb.connect(str(warehouse.working_db_path)) as con:
        con.execute(f"UPDATE raw.load_manifest SET rules_fingerprint = '{revision_1}'")
        con.execute(
            f"INSERT INTO raw.billing__invoices BY NAME SELECT '{path}' AS _file, 3 AS _row, 'I3' AS invoice_id"
        )
        con.execute("DELETE FROM raw.quarantine")
    again = ingest(warehouse, "billing__invoices")

    meta = materialization_metadata(again, ["raw", "billing__invoices"])
    assert (meta["files_loaded"], meta["files_skipped_unchanged"]) == (1, 0)
    assert [(row, rule) for _, row, rule, _ in quarantined(warehouse, "billing__invoices")] == [
        (3, "out_of_range(amount_due)")
    ]
    assert query(warehouse, "SELECT invoice_id FROM raw.billing__invoices ORDER BY 1") == [("I1",), ("I2",)]
