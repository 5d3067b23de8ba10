"""The month in progress and quarantined facts (revision 2 of the metric rules), by hand.

A run on Wednesday 12 March 2025 (the latest fact is a ticket created that day):
- M1 (smb) renews on the 20th: paid invoices for [20 Jan, 20 Feb) and [20 Feb, 20 Mar). On 12
  March the February invoice still covers it: MRR 100 in March, no churn. Measured at 31 March
  (the old rule) it showed as churned.
- M2 (smb) renews on the 10th: paid [10 Feb, 10 Mar), and the renewal [10 Mar, 10 Apr) still in
  draft. A draft counts for MRR (never for revenue): MRR 100 in March, no churn; March revenue
  is the 9 March days of the paid February invoice only.
- M3 (smb) really churned: paid [1 Feb, 1 Mar), nothing after: March churn 100.
- Q1 (mid_market) has facts that are quarantined with no_rate_in_effect (EUR rates start on
  1 January 2025): a settled EUR transaction on 15 December 2024 (its infra rate is in effect
  from 2024, its FX is not) and an EUR invoice created on 20 December 2024 with its line. They
  add no cost, no revenue, do not make December 2024 an active month, and the reconciliation
  check passes, so the run publishes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.resources import WarehouseResource
from tests.conftest import materialize_all, query, write

CENT = 0.005


def write_landing(landing: Path) -> None:
    write(landing, "finance/currencies/d/c.csv", "currency,minor_unit_exponent\nUSD,2\nEUR,2\n")
    write(landing, "finance/fx_rates/d/fx.csv", "rate_date,currency,units_per_usd\n2025-01-01,EUR,0.8\n")
    write(
        landing,
        "finance/infra_costs/d/i.csv",
        "effective_from,cost_per_settled_transaction_usd\n2024-01-01,0.01\n",
    )
    write(
        landing,
        "finance/agent_costs/d/a.csv",
        "agent_tier,effective_from,hourly_cost_usd\nl1,2024-01-01,60\n",
    )
    accounts = "account_id,account_name,country,segment,risk_tier,created_at,is_deleted,updated_at\n"
    customers = "customer_id,crm_account_id,currency,created_at,updated_at\n"
    for account, segment in (("M1", "smb"), ("M2", "smb"), ("M3", "smb"), ("Q1", "mid_market")):
        accounts += f"{account},{account},US,{segment},low,2024-12-01,false,2024-12-01\n"
        customers += f"C{account},{account},{'EUR' if account == 'Q1' else 'USD'},2024-12-01,2024-12-01\n"
    write(landing, "crm/accounts/d/a.csv", accounts)
    write(landing, "billing/customers/d/c.csv", customers)
    periods = [
        ("M1a", "M1", "paid", "2025-01-20", "2025-02-20"),
        ("M1b", "M1", "paid", "2025-02-20", "2025-03-20"),
        ("M2a", "M2", "paid", "2025-02-10", "2025-03-10"),
        ("M2b", "M2", "draft", "2025-03-10", "2025-04-10"),
        ("M3a", "M3", "paid", "2025-02-01", "2025-03-01"),
    ]
    invoices = "invoice_id,customer_id,status,currency,amount_due,amount_paid,created_at,paid_at,updated_at\n"
    lines = "line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,updated_at\n"
    for invoice, account, status, start, end in periods:
        paid_at = start if status == "paid" else ""
        invoices += f"{invoice},C{account},{status},USD,10000,10000,{start},{paid_at},{start}\n"
        lines += f"L{invoice},{invoice},subscription,10000,USD,{start},{end},false,{start}\n"
    invoices += "QI,CQ1,paid,EUR,50000,50000,2024-12-20,2024-12-20,2024-12-20\n"
    lines += "LQI,QI,one_time,50000,EUR,2024-12-20,2024-12-20,false,2024-12-20\n"
    write(landing, "billing/invoices/d/i.csv", invoices)
    write(landing, "billing/invoice_line_items/d/l.csv", lines)
    write(
        landing,
        "billing/transactions/d/t.csv",
        "transaction_id,customer_id,occurred_at,status,amount,currency,processing_cost,updated_at\n"
        "QT,CQ1,2024-12-15T10:00:00,settled,10000,EUR,500,2024-12-15T10:00:00\n"
        "OK,CQ1,2025-01-15T10:00:00,settled,10000,EUR,80,2025-01-15T10:00:00\n",
    )
    write(
        landing,
        "support/organizations/d/o.csv",
        "organization_id,name,external_id,updated_at\nO1,One,M1,2024-12-01\n",
    )
    write(
        landing,
        "support/tickets/d/t.csv",
        "ticket_id,organization_id,created_at,status,priority,channel,category,reopens,updated_at\n"
        "K1,O1,2025-03-12T09:00:00,open,low,web,how_to,0,2025-03-12T09:00:00\n",
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> WarehouseResource:
    root = tmp_path_factory.mktemp("in_progress")
    write_landing(root / "landing")
    warehouse = WarehouseResource(landing_dir=str(root / "landing"), warehouse_dir=str(root / "warehouse"))
    materialize_all(warehouse)  # every blocking check passes: reconciliation included
    return warehouse


def march(warehouse, account: str) -> tuple:
    return query(
        warehouse,
        "SELECT m.mrr, m.previous_mrr, m.new, m.churn, e.revenue FROM marts.mrr_movements m "
        "JOIN marts.account_month_economics e USING (account_id, month) "
        f"WHERE account_id = '{account}' AND month = DATE '2025-03-01'",
    )[0]


def test_as_of_date_is_the_latest_fact_that_counts(warehouse):
    assert query(
        warehouse, "SELECT as_of_date::VARCHAR, as_of_month::VARCHAR FROM intermediate.int_periods"
    ) == [("2025-03-12", "2025-03-01")]


def test_a_customer_billed_later_in_the_month_is_not_churned(warehouse):
    # [20 Feb, 20 Mar) covers 12 March: previous 100 (28 Feb is covered too), no movement.
    assert march(warehouse, "M1") == pytest.approx((100, 100, 0, 0, 100 * 19 / 28), abs=CENT)


def test_a_draft_renewal_counts_for_mrr_but_not_for_revenue(warehouse):
    # Revenue: 9 of the 28 days of [10 Feb, 10 Mar) fall in March; the draft adds nothing.
    assert march(warehouse, "M2") == pytest.approx((100, 100, 0, 0, 100 * 9 / 28), abs=CENT)


def test_a_real_churn_is_still_churn(warehouse):
    assert march(warehouse, "M3") == pytest.approx((0, 100, 0, 100, 0), abs=CENT)
    retention = query(
        warehouse,
        "SELECT starting_mrr, churn FROM marts.retention WHERE month = DATE '2025-03-01' AND segment = 'smb'",
    )
    assert retention == [pytest.approx((300, 100), abs=CENT)]


def test_quarantined_facts_contribute_nothing_and_move_no_boundary(warehouse):
    assert query(
        warehouse, "SELECT table_name, entity_key, rule FROM intermediate.rate_quarantine ORDER BY 1, 2"
    ) == [
        ("invoice_line_items", "LQI", "no_rate_in_effect"),
        ("invoices", "QI", "no_rate_in_effect"),
        ("transactions", "QT", "no_rate_in_effect"),
    ]
    q1 = query(
        warehouse,
        "SELECT month::VARCHAR, revenue, processing_cost, infra_cost FROM marts.account_month_economics "
        "WHERE account_id = 'Q1' ORDER BY month",
    )
    # First active month is January (transaction OK: EUR 0.80 / 0.8 = 1.00 USD, infra 0.01), not
    # December: the quarantined December facts do not count.
    assert q1 == [
        ("2025-01-01", 0, pytest.approx(1.00), pytest.approx(0.01)),
        ("2025-02-01", 0, 0, 0),
        ("2025-03-01", 0, 0, 0),
    ]
    first_month = query(warehouse, "SELECT min(month)::VARCHAR FROM marts.retention")
    assert first_month == [("2025-01-01",)]


def test_money_is_exact_decimal_in_the_marts(warehouse):
    types = dict(
        query(
            warehouse,
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = 'mrr_movements'",
        )
    )
    assert types["mrr"] == types["churn"] == types["prior_period_adjustment"] == "DECIMAL(38,6)"
    # 100 * 19 / 28 = 67.857142857...: rounded half-even once, to 6 decimals
    exact = query(
        warehouse,
        "SELECT revenue FROM marts.account_month_economics WHERE account_id = 'M1' AND month = DATE '2025-03-01'",
        exact=True,
    )
    assert str(exact[0][0]) == "67.857143"
