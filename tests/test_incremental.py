"""Incremental runs: a new drop is applied by key, and only what reads a changed table recomputes.

The staged table after every drop must be the table a rebuild from every raw row gives (the
change-data rule over all versions), compared both ways. On the golden fixture a run with no new
file recomputes no model, reuses every check result and makes no new publication; a drop of one
table recomputes exactly the models that read it (directly or not), and the publication takes the
other marts from the previous one, hard-linked, with the marts a full run gives.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from assets.definitions import sql_models
from assets.resources import WarehouseResource
from assets.sql_assets import _failing_rows, relation, table_keys
from pipelines import incremental
from pipelines.changes import differing_by_grain, symmetric_difference
from pipelines.contract import table
from pipelines.sql_models import SQL_DIR, load_checks
from pipelines.staging import staging_sql, staging_table_name
from tests.conftest import forced_rebuild, ingest, materialization_metadata, materialize_all, query, write
from tests.golden_fixture import golden_warehouse, land_a_late_ticket
from tests.landing_builder import Landing, build
from tests.test_ingest import ACCOUNTS_HEADER, account
from tests.test_reproducibility import differences, model_differences

ACCOUNTS = table("crm", "accounts")


def assert_staged_as_rebuilt(warehouse, spec=ACCOUNTS) -> None:
    """The merged table holds exactly the rows of the change-data rule over all raw rows."""
    staged, rebuilt = f"FROM {staging_table_name(spec)}", staging_sql(spec)
    for left, right in ((staged, rebuilt), (rebuilt, staged)):
        assert query(warehouse, f"SELECT count(*) FROM ({left} EXCEPT ALL {right})") == [(0,)]


def staging_run(warehouse, spec=ACCOUNTS) -> dict:
    result = ingest(warehouse, spec.qualified_name)
    meta = materialization_metadata(result, ["staging", spec.staging_name])
    assert_staged_as_rebuilt(warehouse, spec)
    return meta


def names(warehouse) -> list[tuple]:
    return query(warehouse, "SELECT account_id, account_name FROM staging.stg_crm__accounts ORDER BY 1")


def test_each_drop_is_merged_by_key_into_the_table_a_rebuild_gives(landing, warehouse):
    first = ACCOUNTS_HEADER + account("A1", "One", "2025-01-01") + account("A2", "Two", "2025-01-01")
    write(landing, "crm/accounts/d1/a.csv", first)
    assert staging_run(warehouse)["staging"] == "rebuilt"
    version = query(warehouse, "SELECT version FROM meta.versions WHERE relation LIKE '%accounts'")

    again = staging_run(warehouse)  # no new file: the table is not touched
    assert (again["staging"], again["changed"]) == ("unchanged", False)

    # A re-sent identical row under a new path moves A1's lineage, not its values: same version.
    write(landing, "crm/accounts/d2/a.csv", ACCOUNTS_HEADER + account("A1", "One", "2025-01-01"))
    resent = staging_run(warehouse)
    assert (resent["staging"], resent["keys_touched"], resent["changed"]) == ("merged", 1, False)
    assert query(warehouse, "SELECT version FROM meta.versions WHERE relation LIKE '%accounts'") == version

    # A later version of A2, A1 deleted, a new A3; an older re-send of A2 loses.
    write(
        landing, "crm/accounts/d3/a.csv",
        ACCOUNTS_HEADER + account("A2", "Two renamed", "2025-03-01") + account("A1", "One", "2025-03-01", deleted="true")
        + account("A3", "Three", "2025-03-01") + account("A2", "Two stale", "2025-02-01"),
    )  # fmt: skip
    merged = staging_run(warehouse)
    assert (merged["staging"], merged["keys_touched"], merged["changed"]) == ("merged", 3, True)
    assert names(warehouse) == [("A2", "Two renamed"), ("A3", "Three")]

    # A deleted entity comes back when a newer row says it is not deleted.
    write(landing, "crm/accounts/d4/a.csv", ACCOUNTS_HEADER + account("A1", "One again", "2025-04-01"))
    assert staging_run(warehouse)["staging"] == "merged"
    assert names(warehouse) == [("A1", "One again"), ("A2", "Two renamed"), ("A3", "Three")]

    # A file replaced in place: the keys its earlier version held are unknown, so a rebuild.
    write(landing, "crm/accounts/d3/a.csv", ACCOUNTS_HEADER + account("A3", "Three only", "2025-03-01"))
    assert staging_run(warehouse)["staging"] == "rebuilt"
    assert names(warehouse) == [("A1", "One again"), ("A2", "Two"), ("A3", "Three only")]


ENROLLMENTS = table("crm", "program_enrollments")
ENROLLMENTS_HEADER = "program_id,account_id,enrolled_at,updated_at\n"


def enrollments(warehouse) -> list[tuple]:
    sql = f"SELECT program_id, account_id, enrolled_at::DATE::VARCHAR, _file FROM {staging_table_name(ENROLLMENTS)}"
    return query(warehouse, sql + " ORDER BY 1, 2")


def test_a_merge_without_deletions_lets_each_staged_row_stand_for_its_earlier_rows(landing, warehouse):
    """In a table without is_deleted a merge compares a key's new rows with its staged row only
    (not its earlier raw rows): the staged row must win or lose exactly as the earlier rows
    would, on updated_at, then path, then row, keys of two columns included."""
    row = "{},{},{}T00:00:00,{}T00:00:00\n".format
    d = "crm/program_enrollments/{}/e.csv".format
    write(
        landing,
        d("d2"),
        ENROLLMENTS_HEADER
        + row("P1", "A1", "2025-01-05", "2025-01-10")
        + row("P1", "A2", "2025-01-06", "2025-01-10"),
    )
    assert staging_run(warehouse, ENROLLMENTS)["staging"] == "rebuilt"

    # The same updated_at from a path that sorts first loses; from one that sorts last, wins.
    write(landing, d("d1"), ENROLLMENTS_HEADER + row("P1", "A1", "2025-02-01", "2025-01-10"))
    write(landing, d("d3"), ENROLLMENTS_HEADER + row("P1", "A2", "2025-02-02", "2025-01-10"))
    merged = staging_run(warehouse, ENROLLMENTS)
    assert (merged["staging"], merged["keys_touched"], merged["changed"]) == ("merged", 2, True)
    assert enrollments(warehouse) == [
        ("P1", "A1", "2025-01-05", d("d2")),
        ("P1", "A2", "2025-02-02", d("d3")),
    ]

    # An older version loses whatever its path; a newer one wins; within one file the later row
    # wins; a new key is added.
    write(
        landing, d("d4"),
        ENROLLMENTS_HEADER + row("P1", "A2", "2025-03-01", "2025-01-09") + row("P1", "A1", "2025-03-02", "2025-02-01")
        + row("P2", "A1", "2025-03-03", "2025-02-01") + row("P2", "A1", "2025-03-04", "2025-02-01"),
    )  # fmt: skip
    merged = staging_run(warehouse, ENROLLMENTS)
    assert (merged["staging"], merged["keys_touched"], merged["changed"]) == ("merged", 3, True)
    assert enrollments(warehouse) == [
        ("P1", "A1", "2025-03-02", d("d4")), ("P1", "A2", "2025-02-02", d("d3")), ("P2", "A1", "2025-03-04", d("d4")),
    ]  # fmt: skip

    # A re-sent identical row under a path that sorts last moves the lineage only.
    write(landing, d("d5"), ENROLLMENTS_HEADER + row("P2", "A1", "2025-03-04", "2025-02-01"))
    resent = staging_run(warehouse, ENROLLMENTS)
    assert (resent["staging"], resent["keys_touched"], resent["changed"]) == ("merged", 1, False)
    assert enrollments(warehouse)[-1] == ("P2", "A1", "2025-03-04", d("d5"))


def model_runs(result) -> dict[str, bool]:
    """{model: recomputed} of every SQL model materialized by ``result``."""
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.path[-1] in sql_models:
            found[materialization.asset_key.path[-1]] = materialization.metadata["recomputed"].value
    return found


def recompute_modes(result) -> dict[str, str | None]:
    """{model: how it was recomputed (full, incremental; None: not at all)} in ``result``."""
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.path[-1] in sql_models:
            mode = materialization.metadata.get("recompute")
            found[materialization.asset_key.path[-1]] = mode.value if mode else None
    return found


def publish_metadata(result) -> dict:
    return materialization_metadata(result, ["published", "marts"])


def readers_of(table_name: str) -> set[str]:
    """Every model that reads ``table_name``, directly or through other models."""
    found: set[str] = set()
    frontier = {table_name}
    while frontier:
        frontier = {m.name for m in sql_models.values() if set(m.depends_on) & frontier} - found
        found |= frontier
    return found


@pytest.fixture(scope="module")
def golden_twice(tmp_path_factory):
    """The golden fixture run once, then run again with nothing new."""
    warehouse = golden_warehouse(tmp_path_factory.mktemp("incremental"))
    first = materialize_all(warehouse)
    return warehouse, first, materialize_all(warehouse)


def test_a_run_with_no_new_file_recomputes_nothing_and_publishes_nothing(golden_twice):
    warehouse, first, second = golden_twice
    assert set(model_runs(first).values()) == {True}
    assert len(model_runs(second)) == len(sql_models) and set(model_runs(second).values()) == {False}
    evaluations = second.get_asset_check_evaluations()
    assert evaluations and {e.metadata["reused_from_run"].value for e in evaluations} == {first.run_id}
    assert publish_metadata(second)["new_publication"] is False
    assert publish_metadata(second)["publish_id"] == publish_metadata(first)["publish_id"]
    with duckdb.connect(str(warehouse.published_db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM publish_log").fetchone()[0] == 1


def test_a_drop_recomputes_what_reads_its_table_and_the_publication_takes_the_rest(golden_twice, tmp_path):
    warehouse, _, second = golden_twice
    land_a_late_ticket(Path(warehouse.landing_dir))
    third = materialize_all(warehouse)

    recomputed = {name for name, again in model_runs(third).items() if again}
    assert recomputed == readers_of(table("support", "tickets").staging_name)
    assert "dim_account" not in recomputed and "exception_cost" in recomputed
    published = publish_metadata(third)
    assert published["new_publication"] is True
    carried = set(published["marts_carried_over"])
    marts = {m.name for m in sql_models.values() if m.layer == "marts"}
    assert carried == marts - recomputed and "dim_account" in carried
    before = Path(warehouse.warehouse_dir, "publications", publish_metadata(second)["publish_id"])
    for mart in carried:  # one file on disk for both publications
        name = f"parquet/{mart}/{mart}.parquet"
        assert (
            os.stat(before / name).st_ino == os.stat(warehouse.parquet_dir / mart / f"{mart}.parquet").st_ino
        )

    full = golden_warehouse(tmp_path)
    land_a_late_ticket(Path(full.landing_dir))
    materialize_all(full)
    assert differences(full, warehouse) == {}
    assert query(warehouse, "SELECT count(*) FROM staging.stg_support__tickets WHERE ticket_id = 'K99'") == [
        (1,)
    ]


def test_an_untouched_file_is_not_read_again_and_a_touched_one_is_hashed(landing, warehouse):
    path = write(landing, "crm/accounts/d1/a.csv", ACCOUNTS_HEADER + account("A1", "One", "2025-01-01"))
    ingest(warehouse, "crm__accounts")
    manifest = "SELECT file_size, file_mtime_ns FROM raw.load_manifest WHERE _file = 'crm/accounts/d1/a.csv'"
    assert query(warehouse, manifest) == [(path.stat().st_size, path.stat().st_mtime_ns)]

    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # touched only
    meta = materialization_metadata(ingest(warehouse, "crm__accounts"), ["raw", "crm__accounts"])
    assert (meta["files_loaded"], meta["files_skipped_unchanged"]) == (0, 1)  # hashed: same content
    assert query(warehouse, manifest) == [(path.stat().st_size, path.stat().st_mtime_ns)]

    # Other content of the same size under the recorded time stamp: trusted as unchanged, as
    # rsync and git would; a full rebuild hashes every file and loads it.
    stamp = path.stat().st_mtime_ns
    path.write_text(ACCOUNTS_HEADER + account("A1", "Uno", "2025-01-01"))
    os.utime(path, ns=(stamp, stamp))
    ingest(warehouse, "crm__accounts")
    assert names(warehouse) == [("A1", "One")]
    ingest(forced_rebuild(warehouse), "crm__accounts")
    assert names(warehouse) == [("A1", "Uno")]


TRANSACTIONS_HEADER = (
    "transaction_id,customer_id,occurred_at,status,amount,currency,processing_cost,updated_at\n"
)


def land_changes_of_every_incremental_input(landing: Path) -> None:
    """A drop that reaches each input of the incremental models: T5 re-sent as refunded, a new EUR
    transaction T7, customer C2 (T4, T5, invoice I2) moved from A2 to A3, a JPY rate from
    2025-02-11 (T5's day), an EUR rate from 2025-02-03 (T7, invoices I8 and I10), ticket K3
    re-sent as a chargeback (its time entry E4), organization O3 (ticket K4, its entry E5) linked
    to A3, a chargeback unit cost from 2025-03-01 (K5; not K3, of February) and an l1 agent rate
    from 2025-03-01 (E5, E6), an engagement event V3 of the unknown account A9 (unattributed) and
    a campaign touch V4 of A1, and the CRM account A9 created (its event V2 leaves
    'unattributed:crm')."""
    write(landing, "billing/transactions/late/t.csv", TRANSACTIONS_HEADER
          + "T5,C2,2025-02-11T10:00:00,refunded,10000,JPY,200,2025-04-01T00:00:00\n"
          + "T7,C6,2025-02-05T10:00:00,settled,5000,EUR,70,2025-02-05T10:00:00\n")  # fmt: skip
    write(landing, "billing/customers/late/c.csv",
          "customer_id,crm_account_id,currency,email,created_at,updated_at\n"
          "C2,A3,JPY,,2024-06-01T00:00:00,2025-04-01T00:00:00\n")  # fmt: skip
    write(landing, "finance/fx_rates/late/fx.csv",
          "rate_date,currency,units_per_usd\n2025-02-11,JPY,120\n2025-02-03,EUR,0.6\n")  # fmt: skip
    write(landing, "support/tickets/late/k.csv",
          "ticket_id,organization_id,requester_email,created_at,solved_at,status,priority,channel,"
          "category,reopens,csat,updated_at\n"
          "K3,O2,,2025-02-20T09:00:00,,solved,normal,web,chargeback,0,,2025-04-01T00:00:00\n")  # fmt: skip
    write(landing, "support/organizations/late/o.csv",
          "organization_id,name,external_id,updated_at\nO3,Now linked,A3,2025-04-01T00:00:00\n")  # fmt: skip
    write(landing, "finance/exception_unit_costs/late/u.csv",
          "category,effective_from,unit_cost_usd\nchargeback,2025-03-01,25\n")  # fmt: skip
    write(landing, "crm/engagement_events/late/v.csv",
          "event_id,account_id,occurred_at,event_type,channel,feature,nps_score,program_id,updated_at\n"
          "V3,A9,2025-02-06T09:00:00,portal_login,web,,,,2025-02-06T09:00:00\n"
          "V4,A1,2025-03-03T09:00:00,campaign_touch,email,,,,2025-03-03T09:00:00\n")  # fmt: skip
    write(landing, "crm/accounts/late/a.csv",
          "account_id,account_name,industry,country,segment,risk_tier,owner_email,created_at,is_deleted,updated_at\n"
          "A9,Iota,saas,US,smb,low,,2025-02-01T00:00:00,false,2025-04-01T00:00:00\n")  # fmt: skip
    write(
        landing,
        "finance/agent_costs/late/a.csv",
        "agent_tier,effective_from,hourly_cost_usd\nl1,2025-03-01,100\n",
    )


def assert_as_full_run(daily, full) -> None:
    """The published marts and every model table (the incremental models' among them) are those
    of the full run."""
    assert differences(full, daily) == {}
    assert model_differences(full, daily) == {}


def transactions_refresh(result) -> dict:
    return materialization_metadata(result, ["intermediate", "int_transactions_valued"])


def test_a_drop_recomputes_only_the_keys_it_touches_and_equals_a_full_run(tmp_path):
    daily = golden_warehouse(tmp_path / "daily")
    materialize_all(daily)
    land_changes_of_every_incremental_input(Path(daily.landing_dir))
    result = materialize_all(daily)
    refreshed = transactions_refresh(result)
    assert (refreshed["recompute"], refreshed["keys_recomputed"]) == ("incremental", 3)
    keys = {m: materialization_metadata(result, ["intermediate", m]).get("keys_recomputed")
            for m in ("int_invoices_valued", "int_tickets_valued", "int_time_entries_valued")}  # fmt: skip
    # K3, K4, K5; E4 (its ticket), E5 (its ticket, its rate) and the orphan E6 (l1 on
    # 2025-03-02: recomputed, and still left out)
    assert keys == {"int_invoices_valued": 3, "int_tickets_valued": 3, "int_time_entries_valued": 3}
    engaged = materialization_metadata(result, ["intermediate", "int_engagement_by_account_month"])
    assert engaged["keys_recomputed"] == 3  # A1, A9 and 'unattributed:crm' (A9's event left it)
    narrowed = {name for name, mode in recompute_modes(result).items() if mode == "incremental"}
    assert narrowed == {m.name for m in sql_models.values() if m.incremental}
    grain = [e for e in result.get_asset_check_evaluations() if e.check_name == "grain_is_unique"]
    scoped = {e.asset_key.path[-1] for e in grain if e.metadata["rows_checked"].value != "every row"}
    assert scoped == narrowed
    bridge = next(e for e in result.get_asset_check_evaluations() if e.check_name == "bridge_identity")
    assert bridge.passed and bridge.metadata["rows_checked"].value == "keys changed since the last pass"

    full = golden_warehouse(tmp_path / "full")
    land_changes_of_every_incremental_input(Path(full.landing_dir))
    assert transactions_refresh(materialize_all(full))["recompute"] == "full"
    assert_as_full_run(daily, full)
    moved = "SELECT transaction_id, account_id, status FROM intermediate.int_transactions_valued"
    assert {("T4", "A3", "disputed"), ("T5", "A3", "refunded"), ("T7", "A1", "settled")} <= set(
        query(daily, moved)
    )
    engagement = "SELECT account_id, month, events FROM intermediate.int_engagement_by_account_month"
    assert {("A9", date(2025, 1, 1), 1), ("A9", date(2025, 2, 1), 1), ("A1", date(2025, 3, 1), 1)} <= set(
        query(daily, engagement)
    )
    assert not [row for row in query(daily, engagement) if row[0] == "unattributed:crm"]
    tickets = "SELECT ticket_id, account_id, unit_cost FROM intermediate.int_tickets_valued"
    assert {("K3", "A2", 20.0), ("K4", "A3", 0.0), ("K5", "unattributed:support", 25.0)} <= set(
        query(daily, tickets)
    )


def test_a_change_no_changeset_describes_recomputes_the_transactions_in_full(tmp_path):
    """A file replaced in place rebuilds the staged table, which leaves no changeset: the model
    cannot know which keys changed, so it recomputes every row."""
    warehouse = golden_warehouse(tmp_path)
    materialize_all(warehouse)
    path = Path(warehouse.landing_dir, "billing/transactions/d/transactions.csv")
    path.write_text(
        path.read_text().replace("T3,C1,2025-01-12T10:00:00,failed", "T3,C1,2025-01-12T10:00:00,settled")
    )
    refreshed = transactions_refresh(materialize_all(warehouse))
    assert refreshed["recompute"] == "full" and "keys_recomputed" not in refreshed
    assert query(
        warehouse, "SELECT status FROM intermediate.int_transactions_valued WHERE transaction_id = 'T3'"
    ) == [("settled",)]


def land_a_transaction_in_april(landing: Path) -> None:
    write(landing, "billing/transactions/april/t.csv", TRANSACTIONS_HEADER
          + "T8,C1,2025-04-02T10:00:00,settled,10000,USD,100,2025-04-02T10:00:00\n")  # fmt: skip


@pytest.mark.parametrize("by_key", [True, False], ids=["by-key", "most-keys-touched-in-full"])
def test_a_new_month_recomputes_the_revenue_of_every_line_and_equals_a_full_run(
    tmp_path, monkeypatch, by_key
):
    """The reporting period moving from March into April (a transaction of 2 April) brings
    April's share of the lines whose service runs past March (L3, L14, ...): a change of
    ``as_of_month`` touches every line of ``int_revenue_by_line_month``, a move within the month
    none (the other tests). Every line is more than ``FULL_BUILD_SHARE`` of the keys: a table of
    at least ``FULL_BUILD_MIN_KEYS`` keys is then rebuilt in full and says why; the golden
    fixture's few lines go by key unless that minimum is lowered. Either way: a full run's table."""
    if not by_key:
        monkeypatch.setattr(incremental, "FULL_BUILD_MIN_KEYS", 0)
    daily = golden_warehouse(tmp_path / "daily")
    materialize_all(daily)
    lines = query(daily, "SELECT count(*) FROM intermediate.int_invoice_lines_valued")[0][0]
    april = "SELECT line_item_id FROM intermediate.int_revenue_by_line_month WHERE month = '2025-04-01'"
    assert query(daily, april) == []
    land_a_transaction_in_april(Path(daily.landing_dir))
    refreshed = materialization_metadata(
        materialize_all(daily), ["intermediate", "int_revenue_by_line_month"]
    )
    if by_key:
        assert (refreshed["recompute"], refreshed["keys_recomputed"]) == ("incremental", lines)
    else:
        assert refreshed["recompute"] == "full" and "keys_recomputed" not in refreshed
        assert refreshed["recompute_reason"].startswith(f"the change touches {lines} of about")
    assert {("L3",), ("L14",)} <= set(query(daily, april))

    full = golden_warehouse(tmp_path / "full")
    land_a_transaction_in_april(Path(full.landing_dir))
    materialize_all(full)
    assert_as_full_run(daily, full)


def priced_subscription_invoiced_ahead() -> Landing:
    """Subscription S1 of account P1: 10 seats x 1000 cents in January and February, and March's
    line at 10 x 1100 (+10 %), invoiced on 20 February: until a fact of March arrives,
    as_of_month is February and March's line is not yet compared."""
    landing = Landing()
    landing.account("P1", "smb")
    seats = {"subscription_id": "S1", "quantity": 10}
    landing.invoice_line("CP1", "2025-01-01", "2025-02-01", 10000, unit_amount=1000, **seats)
    landing.invoice_line("CP1", "2025-02-01", "2025-03-01", 10000, unit_amount=1000, **seats)
    landing.invoice_line(
        "CP1", "2025-03-01", "2025-04-01", 11000, unit_amount=1100, created_on="2025-02-20", **seats
    )
    return landing


def land_a_ticket_in_march(landing: Path) -> None:
    write(landing, "support/tickets/march/k.csv",
          "ticket_id,organization_id,created_at,status,priority,channel,category,reopens,updated_at\n"
          "KM,OP1,2025-03-05T09:00:00,solved,low,web,how_to,0,2025-03-05T09:00:00\n")  # fmt: skip


def test_a_line_invoiced_ahead_is_compared_once_its_month_is_reported_and_equals_a_full_run(tmp_path):
    """No line of a subscription changes when as_of_month moves into March, yet March's line
    becomes a price increase: the move itself touches every subscription with a line
    (``int_periods`` in ``int_price_increases``' ``touched_by``)."""
    increases = "SELECT subscription_id, month FROM intermediate.int_price_increases"
    daily = build(tmp_path / "daily", priced_subscription_invoiced_ahead())
    assert query(daily, increases) == []
    land_a_ticket_in_march(Path(daily.landing_dir))
    refreshed = materialization_metadata(materialize_all(daily), ["intermediate", "int_price_increases"])
    assert refreshed["recompute"] == "incremental"
    assert query(daily, increases) == [("S1", date(2025, 3, 1))]

    full_landing = tmp_path / "full" / "landing"
    priced_subscription_invoiced_ahead().write_to(full_landing)
    land_a_ticket_in_march(full_landing)
    full = WarehouseResource(
        landing_dir=str(full_landing), warehouse_dir=str(tmp_path / "full" / "warehouse")
    )
    materialize_all(full)
    assert_as_full_run(daily, full)


def test_the_rows_differing_by_grain_are_the_symmetric_difference_and_a_duplicate_is_taken_whole():
    """A table rebuilt in full leaves as its changeset the rows of the grain values that differ:
    changed, added and deleted rows, a NULL in the grain or in a value included; with a grain
    value duplicated, its rows on both sides (the grain check must see the duplicate)."""
    con = duckdb.connect()
    columns = "(account_id, month, amount)"
    con.execute(f"""CREATE TABLE before_rows AS FROM (VALUES ('A1', DATE '2025-01-01', 1.50),
        ('A1', DATE '2025-02-01', 2.00), ('A2', NULL, 3.00), ('A3', DATE '2025-01-01', NULL),
        ('A5', DATE '2025-01-01', NULL)) AS t {columns}""")
    con.execute(f"""CREATE TABLE after_rows AS FROM (VALUES ('A1', DATE '2025-02-01', 2.50),
        ('A2', NULL, 3.00), ('A3', DATE '2025-01-01', NULL), ('A4', DATE '2025-01-01', 4.00),
        ('A5', DATE '2025-01-01', 5.00)) AS t {columns}""")
    by_grain = differing_by_grain(
        "before_rows", "after_rows", ["account_id", "month"], ["account_id", "month", "amount"]
    )
    exact = symmetric_difference("FROM before_rows", "FROM after_rows")
    rows = con.execute(f"SELECT * FROM ({by_grain}) ORDER BY ALL").fetchall()
    assert rows == con.execute(f"SELECT * FROM ({exact}) ORDER BY ALL").fetchall()
    assert sorted({r[0] for r in rows}) == ["A1", "A4", "A5"]  # A1 January deleted, February changed

    con.execute("INSERT INTO after_rows VALUES ('A3', DATE '2025-01-01', NULL)")  # a duplicate
    rows = con.execute(f"SELECT * FROM ({by_grain}) WHERE account_id = 'A3'").fetchall()
    assert len(rows) == 3  # A3's row before, and both of its rows after


def test_a_check_by_key_reads_only_the_rows_of_the_keys_it_is_given(tmp_path):
    """The MRR bridge is declared by account (sql/checks/_checks.yml): given the keys a build
    changed, it reads those accounts' rows only. A row broken in A1 is found when A1 is among
    the keys, and when every row is read; not when only A2 is."""
    warehouse = golden_warehouse(tmp_path)
    materialize_all(warehouse)
    keys = table_keys(sql_models)
    bridge = next(c for c in load_checks(SQL_DIR, set(keys), sql_models) if c.name == "bridge_identity")
    assert bridge.by_key == "account_id"
    reads = [relation(keys[name]) for name in bridge.depends_on]
    model = sql_models["mrr_movements"]
    with warehouse.connect() as con:
        con.execute("BEGIN")
        con.execute(
            "UPDATE marts.mrr_movements SET new = new + 1 WHERE account_id = 'A1' AND month = DATE '2025-02-01'"
        )
        con.execute("CREATE TEMP TABLE only_a2 AS SELECT 'A2' AS account_id")
        con.execute("CREATE TEMP TABLE with_a1 AS SELECT 'A1' AS account_id UNION ALL SELECT 'A2'")
        found = {
            keys_in: _failing_rows(con, bridge, reads, None, model, keys_in)
            for keys_in in (None, "only_a2", "with_a1")
        }
        con.execute("ROLLBACK")
    assert {k: (r["failing"], r["rows_checked"]) for k, r in found.items()} == {
        None: (1, "every row"),
        "only_a2": (0, "keys changed since the last pass"),
        "with_a1": (1, "keys changed since the last pass"),
    }
    assert found["with_a1"]["sample"][0]["account_id"] == "A1"
