"""Golden tests: the account economics marts on a hand-written fixture, values worked out by hand.

Each expected number below is the arithmetic of docs/metrics.md applied by hand to the rows of
``golden_fixture.py`` (the comment says which rows), never a value read back from the pipeline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.resources import WarehouseResource
from pipelines.sql_models import SQL_DIR, use_model_schemas
from tests.conftest import materialize_all, query
from tests.golden_fixture import golden_warehouse

CENT = 0.005  # "to the cent": every mart value within half a cent of the hand computation


def build(tmp_path: Path, reporting_currency: str = "USD") -> WarehouseResource:
    warehouse = golden_warehouse(tmp_path, reporting_currency)
    materialize_all(warehouse)
    return warehouse


@pytest.fixture(scope="module")
def golden(tmp_path_factory) -> WarehouseResource:
    return build(tmp_path_factory.mktemp("golden"))


def economics(golden, account_id: str) -> dict[str, dict[str, float]]:
    """{month: {column: value}} of one account's account_month_economics rows."""
    con_rows = query(
        golden,
        "SELECT * FROM marts.account_month_economics WHERE account_id = ? ORDER BY month".replace(
            "?", f"'{account_id}'"
        ),
    )
    columns = [r[0] for r in query(golden, "DESCRIBE marts.account_month_economics")]
    return {str(row[1])[:7]: dict(zip(columns, row)) for row in con_rows}


def assert_close(actual: dict, expected: dict) -> None:
    for column, value in expected.items():
        if value is None:
            assert actual[column] is None, column
        else:
            assert actual[column] == pytest.approx(value, abs=CENT), column


ZERO_COSTS = dict(processing_cost=0, payment_fees=0, infra_cost=0, support_cost=0, exception_handling_cost=0)


def test_as_of_month_and_dense_rows(golden):
    assert query(golden, "SELECT as_of_month::VARCHAR FROM intermediate.int_periods") == [("2025-03-01",)]
    rows = query(
        golden,
        "SELECT account_id, count(*), min(month)::VARCHAR FROM marts.account_month_economics GROUP BY 1 ORDER BY 1",
    )
    assert rows == [
        ("A1", 3, "2025-01-01"),
        ("A2", 3, "2025-01-01"),
        ("A3", 3, "2025-01-01"),  # first active in January through an engagement event, no revenue yet
        ("unattributed:billing", 3, "2025-01-01"),  # February stays as a zero row
        ("unattributed:crm", 3, "2025-01-01"),
        ("unattributed:support", 1, "2025-03-01"),
    ]


def test_usd_annual_plan_discount_eur_usage_and_costs_of_a1(golden):
    a1 = economics(golden, "A1")
    annual_net = 1200 - 120  # L1 annual plan + L2 discount, spread over 365 days
    jan_revenue = annual_net * 31 / 365 + 80 / 0.8  # + L11: EUR 80 invoiced Sat 1 Feb at Friday's 0.8
    jan_cogs = 2.50 + 1.00 + 3.50 + 0.01 + (30 + 45) + 15
    # processing T1 + T2 (T3 failed); fee H1; infra T1 at 0.01; support E1 0.5h x 60 and
    # E2 0.5h x 90 (rate changed on the 16th); exception K2's chargeback unit cost 15 (created
    # 31 Jan, its time entry E3 falls in February).
    assert_close(a1["2025-01"], dict(
        revenue=jan_revenue, mrr=100 - 10, processing_cost=3.50, payment_fees=3.50, infra_cost=0.01,
        support_cost=75, exception_handling_cost=15, cost_to_serve=90, cogs=jan_cogs,
        gross_margin=jan_revenue - jan_cogs, gross_margin_pct=(jan_revenue - jan_cogs) / jan_revenue,
        engagement_cost=40, contribution_margin=jan_revenue - jan_cogs - 40,
        contribution_margin_pct=(jan_revenue - jan_cogs - 40) / jan_revenue,
    ))  # fmt: skip
    feb_revenue = annual_net * 28 / 365 + 80 / 0.5  # L12 invoiced Mon 3 Feb at the new 0.5
    assert_close(a1["2025-02"], dict(
        revenue=feb_revenue, mrr=90, processing_cost=0, infra_cost=0,
        payment_fees=4 / 0.8,  # H4 refunded charge, fee EUR 4 on Sat 1 Feb
        support_cost=0, exception_handling_cost=120,  # E3: 1h l2 on K2
        cogs=5 + 120, engagement_cost=40,
    ))  # fmt: skip
    mar_revenue = annual_net * 31 / 365
    assert_close(a1["2025-03"], dict(
        revenue=mar_revenue, mrr=90, cogs=0, gross_margin=mar_revenue, gross_margin_pct=1.0,
        engagement_cost=40,  # P1 window 20 Jan + 45 days = 6 March: January through March
        contribution_margin=mar_revenue - 40, **ZERO_COSTS,
    ))  # fmt: skip


def test_jpy_quarterly_plan_and_proration_of_a2(golden):
    a2 = economics(golden, "A2")
    quarter_usd = 30000 / 100  # L3: JPY has no minor unit; 100 JPY per USD
    # 90-day period [15 Jan, 15 Apr): 17 + 28 + 31 days in the marts, 14 April days deferred.
    # MRR: 30000 / round(90 / 30.4375) = 10000 JPY = 100 USD a month.
    assert_close(a2["2025-01"], dict(revenue=quarter_usd * 17 / 90 + 5000 / 100, mrr=100, **ZERO_COSTS))
    feb_cogs = 3.00 + 2.00 + 0.01 + 5 + 60  # T4 disputed + T5 settled (+ infra); K3 unit 5 + E4 1/3h x 180
    assert_close(a2["2025-02"], dict(
        revenue=quarter_usd * 28 / 90, mrr=100, processing_cost=5.00, infra_cost=0.01,
        exception_handling_cost=65, cost_to_serve=65, cogs=feb_cogs,
    ))  # fmt: skip
    # P2 enrolled 1 March with a 90-day window: only March is in the marts.
    assert_close(a2["2025-03"], dict(revenue=quarter_usd * 31 / 90, mrr=100, engagement_cost=10))


def test_krw_credit_one_time_and_invoice_statuses_of_a3(golden):
    a3 = economics(golden, "A3")
    assert_close(
        a3["2025-01"], dict(revenue=0, mrr=0, cogs=0, gross_margin_pct=None, contribution_margin_pct=None)
    )
    # L5 monthly plan 200; L6 zero-day credit -50 and L7 one_time 100 both in the invoice month.
    assert_close(a3["2025-02"], dict(revenue=200 - 50 + 100, mrr=200, payment_fees=5000 / 1000))
    # March revenue: only the uncollectible invoice I6 counts (I4 void and I5 draft never are
    # revenue). MRR counts drafts (revision 2: a draft is the next period of a live
    # subscription): I6's 200 + I5's 200; the void I4 never counts.
    assert_close(a3["2025-03"], dict(revenue=200, mrr=200 + 200))


def test_unattributed_pseudo_accounts_keep_what_does_not_link(golden):
    billing = economics(golden, "unattributed:billing")
    # January: I9 of the customer without a CRM link (50) and I11 of an unknown customer (10).
    assert_close(billing["2025-01"], dict(revenue=50 + 10, mrr=0))
    assert_close(billing["2025-02"], dict(revenue=0, mrr=0, cogs=0))
    # March: I10 of the deleted account's EUR customer, EUR 100 at 0.5 over [5 Mar, 5 Apr):
    # 27 of 31 days; T6 of the unknown customer (0.50 + infra 0.02 after the 15 Feb change).
    assert_close(billing["2025-03"], dict(
        revenue=200 * 27 / 31, mrr=200, processing_cost=0.50, infra_cost=0.02, cogs=0.52,
    ))  # fmt: skip
    support = economics(golden, "unattributed:support")
    # K4 of an organization without a link: E5 0.2h x 90; K5 without organization: chargeback 20.
    assert_close(support["2025-03"], dict(support_cost=18, exception_handling_cost=20, cost_to_serve=38))
    crm = economics(golden, "unattributed:crm")
    assert_close(crm["2025-02"], dict(engagement_cost=40))  # P1 enrollment of unknown account A9
    assert_close(crm["2025-03"], dict(engagement_cost=40))


def test_exception_cost_by_category(golden):
    rows = query(
        golden,
        "SELECT account_id, month::VARCHAR, category, exception_count, agent_minutes, agent_cost, unit_cost, exception_handling_cost FROM marts.exception_cost ORDER BY 1, 2",
    )
    assert rows == [
        ("A1", "2025-01-01", "chargeback", 1, 0.0, 0.0, 15.0, 15.0),
        ("A1", "2025-02-01", "chargeback", 0, 60.0, 120.0, 0.0, 120.0),
        ("A2", "2025-02-01", "reconciliation_break", 1, 20.0, pytest.approx(60.0), 5.0, pytest.approx(65.0)),
        ("unattributed:support", "2025-03-01", "chargeback", 1, 0.0, 0.0, 20.0, 20.0),
    ]


def test_the_reconciliation_check_catches_cost_lines_the_mart_got_wrong(golden):
    """The check recomputes the cost lines from staging on its own: on the fixture it finds
    nothing; a mart whose infrastructure and processing costs are off (a wrong rule) fails it on
    exactly those two columns."""
    check = (SQL_DIR / "checks" / "account_month_economics__reconciles_with_staging.sql").read_text()
    with golden.connect() as con:
        use_model_schemas(con)
        assert con.execute(check).fetchall() == []
        con.execute("BEGIN")
        try:
            con.execute(
                "UPDATE marts.account_month_economics SET infra_cost = infra_cost + 0.01, "
                "processing_cost = processing_cost - 1 WHERE account_id = 'A1' AND month = DATE '2025-01-01'"
            )
            failing = {row[0] for row in con.execute(check).fetchall()}
        finally:
            con.execute("ROLLBACK")
    assert failing == {"infra_cost", "processing_cost"}


def test_dim_account_attribution_and_orphans(golden):
    assert query(golden, "SELECT account_id, segment FROM marts.dim_account ORDER BY 1") == [
        ("A1", "smb"), ("A2", "enterprise"), ("A3", "mid_market"),
        ("unattributed:billing", None), ("unattributed:crm", None), ("unattributed:support", None),
    ]  # fmt: skip
    revenue = {
        "A1": 1080 * 90 / 365 + 100 + 160,
        "A2": 300 * 76 / 90 + 50,
        "A3": 250 + 200,
        "unattributed": 60 + 200 * 27 / 31,
    }
    cost_to_serve = {"K1": 75, "K2": 15 + 120, "K3": 5 + 60, "K4": 18, "K5": 20}
    rows = {(r[0], r[1]): r[2:] for r in query(golden, "SELECT * FROM marts.attribution")}
    linked_revenue = revenue["A1"] + revenue["A2"] + revenue["A3"]
    expected = {
        ("billing", "customers"): (6, 4, 2, 4 / 6, sum(revenue.values()), linked_revenue),
        ("support", "organizations"): (4, 2, 2, 0.5, sum(cost_to_serve.values()), 75 + 135 + 65),
        ("support", "tickets"): (5, 3, 2, 0.6, sum(cost_to_serve.values()), 75 + 135 + 65),
    }
    assert rows.keys() == expected.keys()
    for key, values in expected.items():
        assert rows[key] == pytest.approx(values, abs=CENT), key
    assert query(
        golden, "SELECT table_name, entity_key, missing_parent_key FROM intermediate.orphans ORDER BY 1"
    ) == [
        ("invoice_line_items", "L16", "I404"),
        ("program_enrollments", "P404/A1", "P404"),
        ("time_entries", "E6", "K404"),
    ]


def test_reporting_currency_is_configurable(tmp_path):
    eur = build(tmp_path, reporting_currency="EUR")
    rows = query(
        eur,
        "SELECT processing_cost, support_cost FROM marts.account_month_economics WHERE account_id = 'A1' AND month = '2025-01-01'",
    )
    # USD 3.50 processing on 10-11 Jan at 0.8 EUR per USD; agent cost USD 75 on 10 and 20 Jan.
    assert rows[0] == pytest.approx((3.50 * 0.8, 75 * 0.8))
