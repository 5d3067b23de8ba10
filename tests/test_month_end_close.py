"""Month-end close on the golden fixture: closed months stay as signed off, late data is listed.

The story (one warehouse, in order): publish; close February 2025 (January and February closed,
March is the month in progress); land three late files that change February: a re-sent invoice
with another amount (I3 of A3: its monthly plan line 200,000 -> 300,000 KRW), a late time entry
(40 more compliance minutes on A2's reconciliation-break ticket K3) and a corrected FX rate of a
closed day (EUR on 2025-02-03: 0.5 -> 0.4 units per USD, A1's February usage invoice I8); publish;
a late March ticket, publish; two more late files for February (A3's plan line re-sent as signed
off, 20 more minutes on K3), publish (compared for the changed rows only); reopen February;
publish. A second warehouse gets the same landing with no close at all: the
recomputed truth. The expected restatements are derived from the two publications in Python, cell
by cell, not by the SQL under test, and the main cells are worked out by hand.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import AssetSelection, DagsterInstance, materialize

from assets.definitions import all_assets, all_checks, defs, marts
from assets.settings_tables import CLOSED_MONTH_MRR_KEY, CLOSED_PERIODS_KEY
from pipelines.changes import symmetric_difference
from pipelines.closing import (
    COMPARED_THROUGH,
    NOT_COMPARED,
    ClosingError,
    PeriodAction,
    differences_sql,
    differences_table,
    month_grained,
    prepare,
)
from pipelines.sql_models import SqlModel
from tests.conftest import failure_message, forced_rebuild, materialization_metadata, materialize_all, write
from tests.golden_fixture import golden_warehouse, land_a_late_ticket

FEBRUARY = date(2025, 2, 1)
MONTH_GRAINED = month_grained(marts)
OTHER_MARTS = [m for m in marts if m not in MONTH_GRAINED]
LATE_FILES = {
    "billing/invoices/late/i.csv": "invoice_id,customer_id,subscription_id,status,currency,amount_due,"
    "amount_paid,created_at,due_at,paid_at,updated_at\n"
    "I3,C3,S3,paid,KRW,350000,350000,2025-02-01T10:00:00,,2025-02-02T00:00:00,2025-03-10T00:00:00\n",
    "billing/invoice_line_items/late/l.csv": "line_item_id,invoice_id,type,amount,currency,period_start,"
    "period_end,proration,description,updated_at\n"
    "L5,I3,subscription,300000,KRW,2025-02-01,2025-03-01,false,monthly plan,2025-03-10T00:00:00\n",
    "support/time_entries/late/t.csv": "time_entry_id,ticket_id,agent_id,agent_tier,minutes,logged_at,updated_at\n"
    "E7,K3,ag3,compliance,40,2025-02-21T10:00:00,2025-03-10T10:00:00\n",
    "finance/fx_rates/late/fx.csv": "rate_date,currency,units_per_usd\n2025-02-03,EUR,0.4\n",
}


# Later still, for February again: A3's plan line re-sent as signed off (200,000 KRW) and 20 more
# compliance minutes on A2's ticket K3.
CORRECTIONS = {
    "billing/invoice_line_items/correction/l.csv": "line_item_id,invoice_id,type,amount,currency,period_start,"
    "period_end,proration,description,updated_at\n"
    "L5,I3,subscription,200000,KRW,2025-02-01,2025-03-01,false,monthly plan,2025-03-25T00:00:00\n",
    "support/time_entries/correction/t.csv": "time_entry_id,ticket_id,agent_id,agent_tier,minutes,logged_at,"
    "updated_at\nE8,K3,ag3,compliance,20,2025-02-22T10:00:00,2025-03-25T10:00:00\n",
}


def land_late_files(landing: Path) -> None:
    for path, text in LATE_FILES.items():
        write(landing, path, text)


def land_corrections(landing: Path) -> None:
    for path, text in CORRECTIONS.items():
        write(landing, path, text)


def pending_checks(result) -> dict:
    """{mart: the run's pending_restatements evaluation}."""
    return {
        e.asset_key.path[-1]: e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "pending_restatements"
    }


def run(warehouse, action: str = "", month: str = "", reason: str = ""):
    """The whole pipeline, with a close or reopen as the ``period_close`` step's run config."""
    config = {"action": action, "month": month, "reason": reason} if action else {}
    return materialize(
        [*all_assets, *all_checks],
        resources={"warehouse": warehouse},
        run_config={"ops": {"period_close": {"config": config}}},
        raise_on_error=False,
    )


def published(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse.published_db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def table(warehouse, mart, where: str = "true") -> list[tuple]:
    return published(warehouse, f"SELECT * FROM {mart.name} WHERE {where} ORDER BY ALL")


def closed(warehouse) -> dict[str, list[tuple]]:
    return {m.name: table(warehouse, m, f"month <= DATE '{FEBRUARY}'") for m in MONTH_GRAINED}


def publish_id(warehouse) -> str:
    return published(warehouse, "SELECT publish_id FROM publish_log ORDER BY published_at DESC LIMIT 1")[0][0]


def run_ok(warehouse, *action: str):
    """``run`` that must succeed."""
    result = run(warehouse, *action)
    assert result.success, failure_message(result)
    return result


def publication(warehouse) -> dict:
    """What the story compares of one publication: its id, every mart, its ledger."""
    return {
        "publish_id": publish_id(warehouse),
        "marts": {m.name: table(warehouse, m) for m in marts},
        "restatements": published(warehouse, "SELECT * FROM restatements ORDER BY ALL"),
        "period_closes": published(warehouse, "SELECT * FROM period_closes ORDER BY event_id"),
    }


def land_and_run(land, warehouse, never_closed):
    """The same late files in both warehouses; one run of each (the never-closed one: the
    recomputed truth, every mart). Returns the closed warehouse's run."""
    for landing in (warehouse.landing_dir, never_closed.landing_dir):
        land(Path(landing))
    result = run_ok(warehouse)
    materialize_all(never_closed)
    return result, {m.name: table(never_closed, m) for m in marts}


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> dict:
    """Publish, close February, land late files, publish, a plain daily run, more late files for
    February, a full rebuild, reopen February, publish; and the never-closed warehouse of the
    same landing."""
    root = tmp_path_factory.mktemp("close")
    warehouse = golden_warehouse(root / "closing")
    never_closed = golden_warehouse(root / "never_closed")
    materialize_all(warehouse)
    run_ok(warehouse, "close", "2025-02", "February signed off")
    signed_off = {"publish_id": publish_id(warehouse), "closed": closed(warehouse)}

    restating_run, truth = land_and_run(land_late_files, warehouse, never_closed)
    restated = publication(warehouse)
    restated["checks"] = pending_checks(restating_run)
    # A plain daily run that changes an open month only (a late March ticket): the pending cells
    # keep the publication that first saw them.
    land_and_run(land_a_late_ticket, warehouse, never_closed)
    later = publication(warehouse)
    # February changes again: compared for the changed rows only (the frozen rows are those of
    # the last comparison); the kept cells must be those a comparison of every row gives.
    correcting_run, truth_corrected = land_and_run(land_corrections, warehouse, never_closed)
    corrected = publication(warehouse)
    corrected["checks"] = pending_checks(correcting_run)
    corrected["kept_vs_every_row"] = kept_against_every_row(warehouse)

    run_ok(forced_rebuild(warehouse))  # a full rebuild still serves the frozen months
    rebuilt_closed = closed(warehouse)

    run_ok(warehouse, "reopen", "2025-02", "late invoice of A3")
    return {
        "warehouse": warehouse,
        "signed_off": signed_off,
        "restated": restated,
        "truth": truth,
        "later": later,
        "corrected": corrected,
        "truth_corrected": truth_corrected,
        "rebuilt_closed": rebuilt_closed,
        "reopened": publication(warehouse),
        "never_closed": never_closed,
    }


def kept_against_every_row(warehouse) -> dict[str, int]:
    """{mart: cells differing between the kept differences (``compare_closed_months``) and a
    comparison of every row of the closed months, made now}."""
    with duckdb.connect(str(warehouse.working_db_path), read_only=True) as con:
        counts = {}
        for mart in MONTH_GRAINED:
            kept = f"SELECT * FROM {differences_table(mart)}"
            every_row = f"SELECT * FROM ({differences_sql(mart, COMPARED_THROUGH)})"
            sql = f"SELECT count(*) FROM ({symmetric_difference(kept, every_row)})"
            counts[mart.name] = con.execute(sql).fetchone()[0]
        return counts


def columns(mart) -> list[str]:
    return list(mart.column_types)


def rows_by_grain(mart, rows: list[tuple]) -> dict[tuple, dict]:
    names = columns(mart)
    keyed = {}
    for row in rows:
        record = dict(zip(names, row))
        keyed[tuple(record[g] for g in mart.grain)] = record
    return keyed


def differs(data_type: str, old, new) -> bool:
    """The restatement rule, written again here: money by half a cent or more, else at all."""
    if old is None or new is None:
        return old is not new
    if data_type.startswith("DECIMAL"):
        return abs(new - old) >= Decimal("0.005")
    return old != new


def expected_restatements(signed_off: dict, truth: dict) -> dict[tuple, tuple]:
    """{(mart, grain values, column): (closed, recomputed)} between the signed-off rows of the
    closed months and the never-closed warehouse's rows of the same months."""
    expected = {}
    for mart in MONTH_GRAINED:
        frozen = rows_by_grain(mart, signed_off[mart.name])
        recomputed = rows_by_grain(
            mart, [r for r in truth[mart.name] if r[columns(mart).index("month")] <= FEBRUARY]
        )
        for key in frozen.keys() | recomputed.keys():
            for column, data_type in mart.column_types.items():
                if column in mart.grain or column in NOT_COMPARED:
                    continue
                old = frozen.get(key, {}).get(column)
                new = recomputed.get(key, {}).get(column)
                if differs(data_type, old, new):
                    expected[mart.name, key, column] = (old, new)
    return expected


def listed_restatements(rows: list[tuple]) -> dict[tuple, tuple]:
    """The published restatements as {(mart, grain values, column): (closed, recomputed)},
    values parsed back from their text by each column's contract type."""
    types = {m.name: m.column_types for m in MONTH_GRAINED}
    grains = {m.name: m.grain for m in MONTH_GRAINED}
    listed = {}
    for mart, row_key, column, _month, old, new, *_ in rows:
        key_values = json.loads(row_key)
        assert list(key_values) == list(grains[mart])
        key = tuple(date.fromisoformat(v) if g == "month" else v for g, v in key_values.items())
        parse = {"DOUBLE": float, "BIGINT": int, "VARCHAR": str}.get(types[mart][column], Decimal)
        listed[mart, key, column] = tuple(None if v is None else parse(v) for v in (old, new))
    return listed


def test_closed_months_stay_as_signed_off_after_late_data(story):
    for mart in MONTH_GRAINED:
        month = columns(mart).index("month")
        published_closed = [r for r in story["restated"]["marts"][mart.name] if r[month] <= FEBRUARY]
        assert published_closed == story["signed_off"]["closed"][mart.name], mart.name
    # And the late data did change them: a close that froze nothing would pass the line above.
    truth_revenue = rows_by_grain(MONTH_GRAINED[0], story["truth"]["account_month_economics"])
    assert truth_revenue["A3", FEBRUARY]["revenue"] == Decimal("350")


def test_a_full_rebuild_after_a_close_still_serves_the_frozen_months(story):
    assert story["rebuilt_closed"] == story["signed_off"]["closed"]


def test_open_months_use_the_new_data(story):
    for mart in MONTH_GRAINED:
        names, month = columns(mart), columns(mart).index("month")
        open_rows = [r for r in story["restated"]["marts"][mart.name] if r[month] > FEBRUARY]
        truth = [r for r in story["truth"][mart.name] if r[month] > FEBRUARY]
        keep = [i for i, n in enumerate(names) if n not in NOT_COMPARED]
        assert [tuple(r[i] for i in keep) for r in open_rows] == [tuple(r[i] for i in keep) for r in truth]
    for mart in OTHER_MARTS:  # never frozen
        assert story["restated"]["marts"][mart.name] == story["truth"][mart.name], mart.name


def test_restatements_list_exactly_the_changed_cells(story):
    rows = story["restated"]["restatements"]
    grain_of = {m.name: m.grain for m in MONTH_GRAINED}
    expected = expected_restatements(story["signed_off"]["closed"], story["truth"])
    assert listed_restatements(rows) == expected
    assert {(r[7], r[8]) for r in rows} == {(story["restated"]["publish_id"], "pending")}
    # By hand. A3's February plan line: 200,000 -> 300,000 KRW at 1,000 per USD.
    assert expected["account_month_economics", ("A3", FEBRUARY), "revenue"] == (Decimal(250), Decimal(350))
    assert expected["mrr_movements", ("A3", FEBRUARY), "mrr"] == (Decimal(200), Decimal(300))
    # A2: 40 more compliance minutes at 180 USD an hour = 120 more exception-handling cost.
    assert expected["exception_cost", ("A2", FEBRUARY, "reconciliation_break"), "agent_minutes"] == (
        20.0,
        60.0,
    )
    assert expected["account_month_economics", ("A2", FEBRUARY), "cost_to_serve"] == (
        Decimal(65),
        Decimal(185),
    )
    # A1: usage invoice I8 of 80 EUR on 2025-02-03, at 0.5 then 0.4 EUR per USD: 160 -> 200.
    old, new = expected["account_month_economics", ("A1", FEBRUARY), "revenue"]
    assert new - old == Decimal(40)
    # January is closed too, but no late file touches it.
    assert {key[1][grain_of[key[0]].index("month")] for key in expected} == {FEBRUARY}
    money = [r for r in rows if r[2] == "revenue" and r[1] == '{"account_id":"A3","month":"2025-02-01"}']
    assert money[0][3:7] == (FEBRUARY, "250.000000", "350.000000", 100.0)


def test_a_pending_cell_keeps_the_publication_that_first_saw_it(story):
    later = story["later"]
    assert later["publish_id"] != story["restated"]["publish_id"]  # the March ticket published
    assert later["restatements"] == story["restated"]["restatements"]


def test_the_pending_restatements_check_warns_with_count_and_largest_difference(story):
    listed = listed_restatements(story["restated"]["restatements"])
    for mart in MONTH_GRAINED:
        evaluation = story["restated"]["checks"][mart.name]
        count = sum(1 for key in listed if key[0] == mart.name)
        assert evaluation.severity.value == "WARN"
        assert evaluation.passed == (count == 0), mart.name
        assert evaluation.metadata["pending_restatements"].value == count, mart.name
        assert sum(evaluation.metadata["by_column"].value.values()) == count, mart.name
    largest = story["restated"]["checks"]["account_month_economics"].metadata["largest_difference"].value
    assert largest == 120.0  # money only: A2's cost lines, +120 (the margin lines -120)
    minutes = story["restated"]["checks"]["exception_cost"].metadata
    assert minutes["by_column"].value["agent_minutes"] == 1 and minutes["largest_difference"].value == 120.0


def test_late_data_for_a_closed_month_again_is_compared_for_the_changed_rows_only(story):
    corrected, restated = story["corrected"], story["restated"]
    expected = expected_restatements(story["signed_off"]["closed"], story["truth_corrected"])
    assert listed_restatements(corrected["restatements"]) == expected
    # A3's plan line is back as signed off: its revenue and MRR are no longer restated; A2's
    # K3 has 60 + 20 compliance minutes (signed off: 20), 180 more exception cost than signed off.
    assert ("account_month_economics", ("A3", FEBRUARY), "revenue") not in expected
    assert ("mrr_movements", ("A3", FEBRUARY), "mrr") not in expected
    assert expected["exception_cost", ("A2", FEBRUARY, "reconciliation_break"), "agent_minutes"] == (
        20.0,
        80.0,
    )
    assert expected["account_month_economics", ("A2", FEBRUARY), "cost_to_serve"] == (
        Decimal(65),
        Decimal(245),
    )
    # Cells still pending keep the publication that first saw them.
    first_seen = {(r[0], r[1], r[2]): r[7] for r in restated["restatements"]}
    assert all(
        r[7] == first_seen.get((r[0], r[1], r[2]), corrected["publish_id"]) for r in corrected["restatements"]
    )
    # The first run after the close compared every row; this one the changed rows only, and kept
    # exactly the cells a comparison of every row gives.
    economics = "account_month_economics"
    assert restated["checks"][economics].metadata["compared"].value == "every row of the closed months"
    assert "changed since the last comparison" in corrected["checks"][economics].metadata["compared"].value
    assert corrected["kept_vs_every_row"] == {m.name: 0 for m in MONTH_GRAINED}


def test_the_mrr_bridge_holds_from_the_published_previous_month(story):
    mart = next(m for m in MONTH_GRAINED if m.name == "mrr_movements")
    rows = rows_by_grain(mart, story["restated"]["marts"]["mrr_movements"])
    adjustments = {}
    for (account, month), row in rows.items():
        previous = rows.get((account, date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)))
        movements = (
            row["new"]
            + row["reactivation"]
            + row["expansion"]
            - row["contraction"]
            - row["churn"]
            + row["fx_effect"]
        )
        assert row["mrr"] - (previous["mrr"] if previous else 0) == movements + row["prior_period_adjustment"]
        if row["prior_period_adjustment"]:
            adjustments[account, month] = row["prior_period_adjustment"]
    # March, A3: the recomputed February MRR (300) minus the frozen one (200).
    assert adjustments == {("A3", date(2025, 3, 1)): Decimal(100)}


def test_reopen_publishes_the_recomputed_months_and_applies_the_restatements(story):
    reopened = story["reopened"]
    assert reopened["marts"] == story["truth_corrected"]
    pending = listed_restatements(story["corrected"]["restatements"])
    assert listed_restatements(reopened["restatements"]) == pending
    assert {(r[7], r[8]) for r in reopened["restatements"]} == {(story["restated"]["publish_id"], "applied")}


def test_period_closes_holds_the_whole_history(story):
    events = story["reopened"]["period_closes"]
    assert [(e[0], e[1], e[2], e[3], e[5], e[6]) for e in events] == [
        (1, "close", FEBRUARY, "February signed off", getpass.getuser(), story["signed_off"]["publish_id"]),
        (
            2,
            "reopen",
            date(2025, 1, 1),
            "late invoice of A3",
            getpass.getuser(),
            story["reopened"]["publish_id"],
        ),
    ]
    assert events[0][4] < events[1][4]  # recorded in UTC, in order


def test_closing_nothing_changes_nothing(story):
    never_closed = story["never_closed"]
    assert published(never_closed, "SELECT count(*) FROM period_closes") == [(0,)]
    assert published(never_closed, "SELECT count(*) FROM restatements") == [(0,)]
    assert published(
        never_closed, "SELECT count(*) FROM mrr_movements WHERE prior_period_adjustment <> 0"
    ) == [(0,)]


def test_what_cannot_be_closed_or_reopened_is_refused_and_the_ui_job_closes(tmp_path):
    warehouse = golden_warehouse(tmp_path)
    materialize_all(warehouse)
    before = publish_id(warehouse)
    in_progress = run(warehouse, "close", "2025-03", "too early")
    assert not in_progress.success
    assert "close 2025-03: the month is not over" in failure_message(in_progress)
    not_closed = run(warehouse, "reopen", "2025-01", "nothing to reopen")
    assert not not_closed.success
    assert "reopen 2025-01: not closed (no month is closed)" in failure_message(not_closed)
    assert publish_id(warehouse) == before
    assert published(warehouse, "SELECT count(*) FROM period_closes") == [(0,)]

    # The UI's way: the month_end_close job (Jobs), its step's config filled in the launchpad.
    with DagsterInstance.ephemeral() as instance:
        closing = defs.resolve_job_def("month_end_close").execute_in_process(
            instance=instance,
            resources={"warehouse": warehouse},
            run_config={
                "ops": {"period_close": {"config": {"action": "close", "month": "2025-01", "reason": "UI"}}}
            },
        )
        assert closing.success, failure_message(closing)
        assert materialization_metadata(closing, ["staging", "closed_periods"])["closed_through"] == "2025-01"
        assert published(warehouse, "SELECT action, closed_through, reason FROM period_closes") == [
            ("close", date(2025, 1, 1), "UI")
        ]
        # A later run of the same instance without the period_close step would publish with the
        # state that run read (its close request included): refused.
        partial = materialize(
            [*all_assets, *all_checks],
            selection=AssetSelection.all() - AssetSelection.assets(CLOSED_PERIODS_KEY, CLOSED_MONTH_MRR_KEY),
            resources={"warehouse": warehouse},
            instance=instance,
            raise_on_error=False,
        )
        assert "publish refused: the closed months were read by another run" in failure_message(partial)
    again = run(warehouse, "close", "2024-12", "older")
    assert "close 2024-12: already closed (closed through 2025-01)" in failure_message(again)
    # The first run after a close serves the months it froze from the publication (the same
    # numbers); from then on a run with nothing new publishes nothing.
    frozen = closed(warehouse)
    run_ok(warehouse)
    assert closed(warehouse) == frozen
    quiet = run_ok(warehouse)
    assert materialization_metadata(quiet, ["published", "marts"])["new_publication"] is False


@pytest.mark.parametrize(
    ("action", "month", "reason", "message"),
    [
        ("close", "2025-13", "x", "month '2025-13': expected YYYY-MM"),
        ("close", "2025-02", " ", "close 2025-02: a reason is required"),
        ("freeze", "2025-02", "x", "action 'freeze': expected close or reopen"),
    ],
)
def test_a_malformed_request_is_refused_before_any_run(action, month, reason, message):
    with pytest.raises(ClosingError, match=message):
        PeriodAction.parse(action, month, reason, "someone")


def test_a_row_on_one_side_only_is_restated_in_every_column_and_tolerances_hold(tmp_path):
    mart = SqlModel(
        name="m", layer="marts", path=tmp_path, sql="", depends_on=(), grain=("account_id", "month"),
        column_types={"account_id": "VARCHAR", "month": "DATE", "amount": "DECIMAL(38,6)", "ratio": "DOUBLE"},
    )  # fmt: skip
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE SCHEMA frozen; CREATE SCHEMA marts")
        columns = "(account_id VARCHAR, month DATE, amount DECIMAL(38,6), ratio DOUBLE)"
        con.execute(f"CREATE TABLE frozen.m {columns}; CREATE TABLE marts.m {columns}")
        con.execute(
            "INSERT INTO frozen.m VALUES ('gone', '2025-01-01', 0, NULL), ('kept', '2025-01-01', 1.000000, 0.3), "
            "('moved', '2025-01-01', 1, 0.3)"
        )
        con.execute(
            "INSERT INTO marts.m VALUES ('new', '2025-01-01', NULL, NULL), ('kept', '2025-01-01', 1.004999, 0.1 + 0.2), "
            "('moved', '2025-01-01', 1, 0.3000000004)"
        )
        cells = differences_sql(mart, "DATE '2025-01-01'")
        found, scoped = (
            con.execute(f"SELECT row_key, column_name, closed_value, recomputed_value FROM ({sql}) ORDER BY ALL").fetchall()
            for sql in (cells, differences_sql(mart, "DATE '2025-01-01'", "SELECT * FROM (VALUES ('gone', DATE '2025-01-01'), "
                        "('moved', DATE '2025-01-01'), ('kept', DATE '2025-01-01')) AS k(account_id, month)"))
        )  # fmt: skip
    assert found == [
        ('{"account_id":"gone","month":"2025-01-01"}', "amount", "0.000000", None),
        ('{"account_id":"gone","month":"2025-01-01"}', "ratio", None, None),
        ('{"account_id":"moved","month":"2025-01-01"}', "ratio", "0.3", "0.3000000004"),
        ('{"account_id":"new","month":"2025-01-01"}', "amount", None, None),
        ('{"account_id":"new","month":"2025-01-01"}', "ratio", None, None),
    ]  # kept's amount moved by less than half a cent, its ratio in the last bit (0.1 + 0.2): not restated
    assert [row for row in found if "new" not in row[0]] == scoped  # limited to keys: those rows alone


def test_a_column_added_after_a_close_is_null_in_the_closed_months(story, tmp_path):
    economics = next(m for m in MONTH_GRAINED if m.name == "account_month_economics")
    extended = replace(economics, column_types={**economics.column_types, "zz_added": "DOUBLE"})
    contracts = [extended if m is economics else m for m in marts]
    with duckdb.connect(str(tmp_path / "working.duckdb")) as con:
        for extended_marts in (marts, contracts):  # the second call must copy again
            prepare(con, Path(story["warehouse"].warehouse_dir), extended_marts, None)
        nulls = con.execute("SELECT count(*), count(zz_added) FROM frozen.account_month_economics").fetchone()
    assert nulls[0] > 0 and nulls[1] == 0
