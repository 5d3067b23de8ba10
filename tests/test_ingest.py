"""Raw ingestion and staging against the extract contract, with real materializations."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import failure_message, ingest, materialization_metadata, query, write

ACCOUNTS_HEADER = "account_id,account_name,industry,country,segment,risk_tier,owner_email,created_at,is_deleted,updated_at\n"
TICKETS_HEADER = "ticket_id,organization_id,requester_email,created_at,solved_at,status,priority,channel,category,reopens,csat,updated_at\n"


def account(account_id: str, name: str, updated_at: str, segment: str = "smb", deleted: str = "false") -> str:
    return f"{account_id},{name},saas,US,{segment},low,,2025-01-01T00:00:00,{deleted},{updated_at}\n"


def test_each_bad_input_rule_is_quarantined_with_file_row_and_rule(landing, warehouse):
    write(
        landing,
        "support/tickets/2026-10-01/tickets.csv",
        TICKETS_HEADER
        + "T1,O1,a@x.org,2025-03-01T10:00:00,,open,normal,email,how_to,0,,2025-03-01T10:00:00\n"  # valid
        + "T2,O1,,2025-03-01T10:00:00,,open,URGENT!!,email,how_to,0,,2025-03-01T10:00:00\n"  # bad enum
        + "T3,O1,,yesterday,,open,low,email,bug,0,,2025-03-01T10:00:00\n"  # unparseable date
        + ",O1,,2025-03-01T10:00:00,,open,low,email,bug,0,,2025-03-01T10:00:00\n"  # missing key
        + "T5,O1,,2025-03-01T10:00:00,,solved,low,email,bug,-1,6,2025-03-01T10:00:00\n",  # 2 ranges
    )
    write(
        landing,
        "billing/transactions/2026-10-01/tx.csv",
        "transaction_id,customer_id,occurred_at,status,amount,currency,processing_cost,updated_at\n"
        "X1,C1,2025-03-01T10:00:00,settled,1000,usd,20,2025-03-01T10:00:00\n"
        "X2,C1,2025-03-01T10:00:00,settled,1000,XYZ,20,2025-03-01T10:00:00\n",
    )
    write(
        landing,
        "support/time_entries/2026-10-01/te.jsonl",
        '{"time_entry_id": "E1", "ticket_id": "T1", "agent_id": "a", "agent_tier": "l1", "minutes": -5, "logged_at": "2025-03-01T11:00:00", "updated_at": "2025-03-01T11:00:00"}\n'
        '{"time_entry_id": "E2", "ticket_id": "T1", "agent_id": "a", "agent_tier": "l1", "minutes": 12.5, "logged_at": "2025-03-01T11:00:00", "updated_at": "2025-03-01T11:00:00"}\n',
    )
    ingest(warehouse, "support__tickets", "billing__transactions", "support__time_entries")

    quarantined = query(warehouse, "SELECT table_name, _file, _row, rule FROM raw.quarantine ORDER BY 1, 3")
    tickets = "support/tickets/2026-10-01/tickets.csv"
    assert quarantined == [
        ("billing__transactions", "billing/transactions/2026-10-01/tx.csv", 2, "unknown_currency(currency)"),
        ("support__tickets", tickets, 2, "bad_enum(priority)"),
        ("support__tickets", tickets, 3, "unparseable(created_at)"),
        ("support__tickets", tickets, 4, "null_required(ticket_id)"),
        ("support__tickets", tickets, 5, "out_of_range(reopens); out_of_range(csat)"),
        ("support__time_entries", "support/time_entries/2026-10-01/te.jsonl", 1, "out_of_range(minutes)"),
    ]  # fmt: skip
    raw_values = query(warehouse, "SELECT raw_values FROM raw.quarantine WHERE _row = 3")[0][0]
    assert json.loads(raw_values)["created_at"] == "yesterday"
    # Valid rows are kept, and codes are normalised (currency upper case).
    assert query(warehouse, "SELECT ticket_id FROM raw.support__tickets") == [("T1",)]
    assert query(warehouse, "SELECT currency FROM raw.billing__transactions") == [("USD",)]
    assert query(warehouse, "SELECT minutes FROM raw.support__time_entries") == [(12.5,)]


def test_row_accounting_balances_read_loaded_quarantined(landing, warehouse):
    write(
        landing,
        "crm/accounts/2026-10-01/a.csv",
        ACCOUNTS_HEADER
        + account("A1", "One", "2025-01-01T00:00:00")
        + account("A2", "Two", "2025-01-01T00:00:00", segment="galactic")
        + account("A3", "Three", "not a time"),
    )
    write(
        landing,
        "crm/accounts/2026-10-02/a.csv",
        ACCOUNTS_HEADER + account("A4", "Four", "2025-01-02T00:00:00"),
    )
    result = ingest(warehouse, "crm__accounts")

    meta = materialization_metadata(result, ["raw", "crm__accounts"])
    assert (meta["rows_read"], meta["rows_loaded"], meta["rows_quarantined"]) == (4, 2, 2)
    assert meta["rows_read"] == meta["rows_loaded"] + meta["rows_quarantined"]
    assert meta["dagster/row_count"] == 2
    column_names = [c.name for c in meta["dagster/column_schema"].columns]
    assert column_names[:3] == ["_file", "_row", "_load_id"] and "segment" in column_names
    manifest = query(
        warehouse,
        "SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM raw.load_manifest "
        "WHERE table_name = 'crm__accounts'",
    )
    assert manifest == [(4, 2, 2)]


def _snapshot(warehouse) -> dict[str, list[tuple]]:
    """Every raw, quarantine and staging row, load ids left out (they name the run)."""
    return {
        "raw": query(warehouse, "SELECT * EXCLUDE (_load_id) FROM raw.crm__accounts ORDER BY ALL"),
        "quarantine": query(warehouse, "SELECT * EXCLUDE (_load_id) FROM raw.quarantine ORDER BY ALL"),
        "staging": query(warehouse, "SELECT * FROM staging.stg_crm__accounts ORDER BY ALL"),
    }


def test_reloading_the_same_drops_changes_nothing(landing, warehouse):
    write(
        landing,
        "crm/accounts/2026-10-01/a.csv",
        ACCOUNTS_HEADER + account("A1", "One", "2025-01-01T00:00:00") + account("A2", "x", "bad"),
    )
    ingest(warehouse, "crm__accounts")
    before = _snapshot(warehouse)
    again = ingest(warehouse, "crm__accounts")

    meta = materialization_metadata(again, ["raw", "crm__accounts"])
    assert (meta["files_loaded"], meta["files_skipped_unchanged"], meta["rows_read"]) == (0, 1, 0)
    assert _snapshot(warehouse) == before


# Three drops of the same accounts. Expected winners by the contract's change-data rule:
# A1: the greatest updated_at (drop 2), even though drop 3 re-sends an older version later.
# A2: same updated_at in drops 1 and 3: the later file path (drop 3) wins.
# A3: twice in one file with the same updated_at: the later row wins.
# A4: deleted in drop 2: gone from staging, still in raw.
# A5: one row, which says deleted: never staged. A6: one row: staged as it is.
DROPS = {
    "crm/accounts/2026-10-01/a.csv": ACCOUNTS_HEADER
    + account("A1", "A1 old", "2025-01-01T00:00:00")
    + account("A2", "A2 first", "2025-01-05T00:00:00")
    + account("A4", "A4", "2025-01-01T00:00:00")
    + account("A5", "A5", "2025-01-01T00:00:00", deleted="true")
    + account("A6", "A6 only row", "2025-01-01T00:00:00"),
    "crm/accounts/2026-10-02/a.csv": ACCOUNTS_HEADER
    + account("A1", "A1 new", "2025-02-01T00:00:00")
    + account("A4", "A4", "2025-02-01T00:00:00", deleted="true"),
    "crm/accounts/2026-10-03/a.jsonl": "\n".join(
        json.dumps(
            {"account_id": a, "account_name": n, "country": "US", "segment": "SMB", "risk_tier": "low",
             "created_at": "2025-01-01", "is_deleted": False, "updated_at": u}
        )
        for a, n, u in [
            ("A1", "A1 stale re-send", "2025-01-01T00:00:00"),
            ("A2", "A2 later file", "2025-01-05T00:00:00"),
            ("A3", "A3 earlier row", "2025-01-07T00:00:00"),
            ("A3", "A3 later row", "2025-01-07T00:00:00"),
        ]
    ) + "\n",
}  # fmt: skip
EXPECTED_NAMES = [("A1", "A1 new"), ("A2", "A2 later file"), ("A3", "A3 later row"), ("A6", "A6 only row")]


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_change_data_rule_wins_whatever_the_load_order(landing, warehouse, order):
    paths = list(DROPS)
    for index in order:  # drops arrive one at a time, each followed by a run
        write(landing, paths[index], DROPS[paths[index]])
        ingest(warehouse, "crm__accounts")

    staged = query(warehouse, "SELECT account_id, account_name FROM staging.stg_crm__accounts ORDER BY 1")
    assert staged == EXPECTED_NAMES
    assert query(warehouse, "SELECT count(*) FROM raw.crm__accounts WHERE account_id = 'A4'") == [(2,)]
    assert query(warehouse, "SELECT DISTINCT segment FROM staging.stg_crm__accounts") == [("smb",)]


def test_a_rebuild_stages_what_the_rule_over_every_raw_row_stages(landing, warehouse):
    """A rebuild sends only keys with several raw rows through the window (staging_sql's doc):
    the same rows, lineage included, as the window over every raw row."""
    from pipelines.contract import table
    from pipelines.ingest import raw_table_name
    from pipelines.staging import staging_sql

    accounts = table("crm", "accounts")
    for path, text in DROPS.items():
        write(landing, path, text)
    ingest(warehouse, "crm__accounts")
    rebuilt, windowed = staging_sql(accounts), staging_sql(accounts, raw_table_name(accounts))

    assert [len(query(warehouse, sql)) for sql in (rebuilt, windowed)] == [4, 4]
    assert query(warehouse, f"({rebuilt}) EXCEPT ALL ({windowed})") == []
    assert query(warehouse, f"({windowed}) EXCEPT ALL ({rebuilt})") == []


def test_load_order_gives_identical_staging_tables(tmp_path, landing, warehouse):
    from assets.resources import WarehouseResource

    for path, text in DROPS.items():
        write(landing, path, text)
    ingest(warehouse, "crm__accounts")
    reversed_landing = tmp_path / "landing_reversed"
    reversed_warehouse = WarehouseResource(
        landing_dir=str(reversed_landing), warehouse_dir=str(tmp_path / "warehouse_reversed")
    )
    shutil.copytree(landing / "finance", reversed_landing / "finance")
    for path in reversed(list(DROPS)):
        write(reversed_landing, path, DROPS[path])
        ingest(reversed_warehouse, "crm__accounts")

    assert _snapshot(warehouse)["staging"] == _snapshot(reversed_warehouse)["staging"]


def test_a_changed_file_replaces_the_rows_of_its_earlier_version(landing, warehouse):
    path = "crm/accounts/2026-10-01/a.csv"
    write(landing, path, ACCOUNTS_HEADER + account("A1", "One", "2025-01-01") + account("A2", "x", "bad"))
    ingest(warehouse, "crm__accounts")
    write(landing, path, ACCOUNTS_HEADER + account("A9", "Nine", "2025-01-01"))
    ingest(warehouse, "crm__accounts")

    assert query(warehouse, "SELECT account_id FROM raw.crm__accounts") == [("A9",)]
    assert query(warehouse, "SELECT count(*) FROM raw.quarantine") == [(0,)]
    assert query(
        warehouse, "SELECT count(*) FROM raw.load_manifest WHERE _file = ?".replace("?", f"'{path}'")
    ) == [(1,)]


def test_an_unreadable_file_fails_the_asset_with_its_name_and_keeps_earlier_rows(landing, warehouse):
    write(landing, "crm/accounts/2026-10-01/a.csv", ACCOUNTS_HEADER + account("A1", "One", "2025-01-01"))
    ingest(warehouse, "crm__accounts")
    write(landing, "crm/accounts/2026-10-02/a.csv", ACCOUNTS_HEADER + account("A2", "Two", "2025-01-01"))
    broken = landing / "crm/accounts/2026-10-03/broken.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PAR1 this is not really parquet")
    result = ingest(warehouse, "crm__accounts", raise_on_error=False)

    assert not result.success
    assert "crm/accounts/2026-10-03/broken.parquet: cannot be read" in failure_message(result)
    # All or nothing: the good new file is not half-loaded next to the failure.
    assert query(warehouse, "SELECT account_id FROM raw.crm__accounts") == [("A1",)]


def test_a_missing_required_column_names_the_file_and_the_column(landing, warehouse):
    write(landing, "crm/accounts/2026-10-01/a.csv", "account_id,account_name\nA1,One\n")
    result = ingest(warehouse, "crm__accounts", raise_on_error=False)

    message = failure_message(result)
    assert "crm/accounts/2026-10-01/a.csv" in message
    assert "country" in message and "updated_at" in message


def test_extra_columns_are_kept_in_raw_and_ignored_downstream(landing, warehouse):
    header = ACCOUNTS_HEADER.strip() + ",Sync_Source\n"
    write(
        landing,
        "crm/accounts/2026-10-01/a.csv",
        header + account("A1", "One", "2025-01-01").strip() + ",crm-daily\n",
    )
    ingest(warehouse, "crm__accounts")

    assert query(warehouse, "SELECT account_id, sync_source FROM raw.crm__accounts") == [("A1", "crm-daily")]
    staging_columns = [r[0] for r in query(warehouse, "DESCRIBE staging.stg_crm__accounts")]
    assert "sync_source" not in staging_columns and "account_id" in staging_columns


def test_formats_mix_and_timestamps_are_normalised_to_utc(landing, warehouse):
    """CSV, JSON lines and Parquet in one table; offsets honoured, offset-less means UTC."""
    header = "organization_id,name,external_id,updated_at\n"
    write(landing, "support/organizations/d1/o.csv", header + "O1,One,A1,2025-01-01T10:00:00+02:00\n")
    write(
        landing,
        "support/organizations/d2/o.jsonl",
        '{"ORGANIZATION_ID": "O2", "Name": "Two", "updated_at": "2025-01-01 10:00:00"}\n',
    )
    parquet = landing / "support/organizations/d3/o.parquet"
    parquet.parent.mkdir(parents=True)
    pl.DataFrame(
        {
            "organization_id": ["O3"],
            "name": ["Three"],
            "external_id": [None],
            "updated_at": [datetime(2025, 1, 1, 10)],
        },
        schema_overrides={"external_id": pl.String},
    ).write_parquet(parquet)
    ingest(warehouse, "support__organizations")

    assert query(warehouse, "SELECT organization_id, external_id, updated_at::VARCHAR FROM staging.stg_support__organizations ORDER BY 1") == [
        ("O1", "A1", "2025-01-01 08:00:00"),
        ("O2", None, "2025-01-01 10:00:00"),
        ("O3", None, "2025-01-01 10:00:00"),
    ]  # fmt: skip


def test_tables_without_updated_at_take_the_later_file(landing, warehouse):
    write(
        landing,
        "finance/fx_rates/2026-10-01/fx.csv",
        "rate_date,currency,units_per_usd\n2025-01-03,EUR,0.90\n2025-01-03,jpy,150\n",
    )
    write(
        landing,
        "finance/fx_rates/2026-10-02/fx.csv",
        "rate_date,currency,units_per_usd\n2025-01-03,EUR,0.91\n",
    )
    ingest(warehouse, "finance__fx_rates")

    assert query(
        warehouse, "SELECT currency, units_per_usd FROM staging.stg_finance__fx_rates ORDER BY 1"
    ) == [
        ("EUR", 0.91),
        ("JPY", 150.0),
    ]


def test_a_newly_known_currency_revalidates_quarantined_rows(landing, warehouse):
    write(
        landing,
        "billing/customers/d1/c.csv",
        "customer_id,crm_account_id,currency,email,created_at,updated_at\nC1,A1,SGD,,2025-01-01,2025-01-01\n",
    )
    ingest(warehouse, "billing__customers")
    assert query(warehouse, "SELECT rule FROM raw.quarantine") == [("unknown_currency(currency)",)]

    write(landing, "finance/currencies/2026-01-02/more.csv", "currency,minor_unit_exponent\nSGD,2\n")
    ingest(warehouse, "billing__customers")
    assert query(warehouse, "SELECT count(*) FROM raw.quarantine") == [(0,)]
    assert query(warehouse, "SELECT customer_id, currency FROM staging.stg_billing__customers") == [
        ("C1", "SGD")
    ]


def test_row_numbers_follow_the_file_order_of_a_large_file(landing, warehouse):
    """Parallel CSV reading must not reorder rows: the quarantined row keeps its line's number."""
    lines = [account(f"A{i}", f"n{i}", "2025-01-01") for i in range(1, 50_001)]
    lines[41_234] = account("A41235", "bad", "never")
    write(landing, "crm/accounts/d1/big.csv", ACCOUNTS_HEADER + "".join(lines))
    ingest(warehouse, "crm__accounts")

    assert query(
        warehouse, "SELECT _row, json_extract_string(raw_values, '$.account_id') FROM raw.quarantine"
    ) == [(41_235, "A41235")]
    assert query(warehouse, "SELECT _row FROM raw.crm__accounts WHERE account_id = 'A50000'") == [(50_000,)]


def test_nothing_landed_yet_gives_empty_tables(warehouse):
    ingest(warehouse, "billing__invoices")
    assert query(warehouse, "SELECT count(*) FROM staging.stg_billing__invoices") == [(0,)]


def test_landing_paths_are_relative_and_stable(landing, warehouse):
    write(landing, "crm/accounts/2026-10-01/a.csv", ACCOUNTS_HEADER + account("A1", "One", "2025-01-01"))
    ingest(warehouse, "crm__accounts")
    (file,) = query(warehouse, "SELECT _file FROM raw.crm__accounts")[0]
    assert file == "crm/accounts/2026-10-01/a.csv" and not Path(file).is_absolute()


def _organizations(ids: list[str], **extra: list[str]) -> pl.DataFrame:
    """Organizations as a Parquet extract has them; an id starting with "bad" has a bad time."""
    return pl.DataFrame(
        {
            "organization_id": ids,
            "name": [f"name {i}" for i in ids],
            "updated_at": ["never" if i.startswith("bad") else "2025-01-01T00:00:00" for i in ids],
            **extra,
        }
    )


def test_parquet_files_read_together_keep_their_own_rows_and_counts(landing, warehouse):
    """Parquet files with the same columns are read by one statement: each row keeps its file
    and its row number, each file its own counts, extra columns named like the reader's own
    columns (filename, file_row_number, file_index) are kept as they are."""
    reader_names = {name: ["x", "y", "z"] for name in ("filename", "file_row_number", "file_index")}
    drops = {
        "support/organizations/d1/o.parquet": _organizations(["O1", "bad2", "O3"], **reader_names),
        "support/organizations/d2/o.parquet": _organizations(["bad4", "O5", "O6"], **reader_names),
        "support/organizations/d3/o.parquet": _organizations(["O7", "O8", "bad9"]).select(
            "updated_at", "name", "organization_id"
        ),  # other column order: read by a statement of its own
        "support/organizations/d4/o.parquet": _organizations([]),
    }
    for path, frame in drops.items():
        (landing / path).parent.mkdir(parents=True)
        frame.write_parquet(landing / path)
    result = ingest(warehouse, "support__organizations")

    assert query(
        warehouse, "SELECT _file, _row, rule FROM raw.quarantine ORDER BY _file, _row"
    ) == [
        ("support/organizations/d1/o.parquet", 2, "unparseable(updated_at)"),
        ("support/organizations/d2/o.parquet", 1, "unparseable(updated_at)"),
        ("support/organizations/d3/o.parquet", 3, "unparseable(updated_at)"),
    ]  # fmt: skip
    loaded = query(
        warehouse,
        "SELECT split_part(_file, '/', 3), _row, organization_id, filename, file_row_number, file_index "
        "FROM raw.support__organizations ORDER BY _file, _row",
    )
    assert loaded == [
        ("d1", 1, "O1", "x", "x", "x"), ("d1", 3, "O3", "z", "z", "z"),
        ("d2", 2, "O5", "y", "y", "y"), ("d2", 3, "O6", "z", "z", "z"),
        ("d3", 1, "O7", None, None, None), ("d3", 2, "O8", None, None, None),
    ]  # fmt: skip
    assert query(
        warehouse,
        "SELECT split_part(_file, '/', 3), rows_read, rows_loaded, rows_quarantined, extra_columns "
        "FROM raw.load_manifest WHERE table_name = 'support__organizations' ORDER BY _file",
    ) == [
        ("d1", 3, 2, 1, list(reader_names)), ("d2", 3, 2, 1, list(reader_names)),
        ("d3", 3, 2, 1, []), ("d4", 0, 0, 0, []),
    ]  # fmt: skip
    meta = materialization_metadata(result, ["raw", "support__organizations"])
    assert (meta["rows_read"], meta["rows_loaded"], meta["rows_quarantined"]) == (9, 6, 3)


def test_a_parquet_file_whose_data_cannot_be_read_is_named_among_the_files_read_with_it(landing, warehouse):
    """Its footer reads (so it is read together with the others), its data does not."""
    paths = [f"support/organizations/d{i}/o.parquet" for i in (1, 2, 3)]
    for i, path in enumerate(paths):
        (landing / path).parent.mkdir(parents=True)
        _organizations([f"O{i}"] * 100).write_parquet(landing / path, compression="uncompressed")
    broken = bytearray((landing / paths[1]).read_bytes())
    broken[4:200] = b"\xff" * 196  # the first page, after the magic number
    (landing / paths[1]).write_bytes(bytes(broken))
    result = ingest(warehouse, "support__organizations", raise_on_error=False)

    assert not result.success
    message = failure_message(result)
    assert f"{paths[1]}: cannot be read" in message and paths[0] not in message, message
    assert query(warehouse, "SELECT count(*) FROM raw.support__organizations") == [(0,)]


def test_a_csv_file_naming_an_extra_column_twice_fails_naming_the_column(landing, warehouse):
    write(
        landing,
        "crm/accounts/2026-10-01/a.csv",
        ACCOUNTS_HEADER.strip() + ",note,NOTE\n" + account("A1", "One", "2025-01-01").strip() + ",x,y\n",
    )
    result = ingest(warehouse, "crm__accounts", raise_on_error=False)

    message = failure_message(result)
    assert "crm/accounts/2026-10-01/a.csv: column(s) named more than once" in message and "'note'" in message


LINES_HEADER = "line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,quantity,unit_amount,updated_at\n"


def test_a_subscription_line_whose_amount_is_not_quantity_times_unit_amount_is_quarantined(
    landing, warehouse
):
    write(
        landing,
        "billing/invoice_line_items/2026-10-01/lines.csv",
        LINES_HEADER
        + "L1,I1,subscription,3000,USD,2025-01-01,2025-02-01,false,3,1000,2025-01-01\n"  # 3 x 1000
        + "L2,I1,subscription,2999,USD,2025-01-01,2025-02-01,false,3,1000,2025-01-01\n"  # inconsistent
        + "L3,I1,subscription,1500,USD,2025-01-15,2025-02-01,true,3,1000,2025-01-01\n"  # a proration: exempt
        + "L4,I1,usage,7,USD,2025-01-01,2025-02-01,false,2,5,2025-01-01\n"  # not a subscription line
        + "L5,I1,subscription,4000,USD,2025-01-01,2025-02-01,false,,1000,2025-01-01\n"  # one side missing
        + "L6,I1,subscription,0,USD,2025-01-01,2025-02-01,false,0,1000,2025-01-01\n"  # quantity >= 1
        + "L7,I1,subscription,1,USD,2025-01-01,2025-02-01,false,9223372036854775807,9223372036854775807,2025-01-01\n",
    )
    ingest(warehouse, "billing__invoice_line_items")

    file = "billing/invoice_line_items/2026-10-01/lines.csv"
    assert query(warehouse, "SELECT _file, _row, rule FROM raw.quarantine ORDER BY _row") == [
        (file, 2, "inconsistent_amount"),
        (file, 6, "out_of_range(quantity)"),
        (file, 7, "inconsistent_amount"),  # the product is taken exactly, without overflow
    ]
    assert query(
        warehouse,
        "SELECT line_item_id, quantity, unit_amount FROM staging.stg_billing__invoice_line_items ORDER BY 1",
    ) == [("L1", 3, 1000), ("L3", 3, 1000), ("L4", 2, 5), ("L5", None, 1000)]


def test_a_line_file_without_quantity_and_unit_amount_loads_them_as_null(landing, warehouse):
    write(
        landing,
        "billing/invoice_line_items/2026-10-01/lines.csv",
        "line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,updated_at\n"
        "L1,I1,subscription,3000,USD,2025-01-01,2025-02-01,false,2025-01-01\n",
    )
    ingest(warehouse, "billing__invoice_line_items")
    assert query(warehouse, "SELECT quantity, unit_amount FROM staging.stg_billing__invoice_line_items") == [
        (None, None)
    ]


def test_a_raw_table_of_an_earlier_contract_revision_gets_the_new_columns(landing, warehouse):
    """A warehouse loaded before revision 2 kept `quantity` as an extra text column and has no
    `unit_amount`: the next load retypes the one, adds the other and validates the files again."""
    write(
        landing,
        "billing/invoice_line_items/2026-10-01/lines.csv",
        LINES_HEADER + "L1,I1,subscription,2999,USD,2025-01-01,2025-02-01,false,3,1000,2025-01-01\n",
    )
    ingest(warehouse, "billing__invoice_line_items")
    with warehouse.connect() as con:  # what revision 1 left: quantity as text, no unit_amount
        con.execute("DROP TABLE raw.billing__invoice_line_items")
        con.execute(
            "CREATE TABLE raw.billing__invoice_line_items (_file VARCHAR, _row BIGINT, _load_id VARCHAR, "
            "line_item_id VARCHAR, invoice_id VARCHAR, type VARCHAR, amount BIGINT, currency VARCHAR, "
            "period_start DATE, period_end DATE, proration BOOLEAN, description VARCHAR, "
            "updated_at TIMESTAMP, quantity VARCHAR)"
        )
        con.execute("DELETE FROM raw.quarantine")
        con.execute("UPDATE raw.load_manifest SET rules_fingerprint = 'revision-1'")
    ingest(warehouse, "billing__invoice_line_items")
    types = dict(
        query(
            warehouse,
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'billing__invoice_line_items' AND schema_name = 'raw'",
        )
    )
    assert types["quantity"] == "BIGINT" and types["unit_amount"] == "BIGINT"
    assert query(warehouse, "SELECT _row, rule FROM raw.quarantine") == [(1, "inconsistent_amount")]
