"""Golden tests for MRR movements, retention and working capital, values worked out by hand.

Fixture (USD unless said; every invoice is paid at creation unless said):
- B1 smb: annual plan 1,200 from Jan 2025 (MRR 100), renewed Jan 2026 at 2,640 (MRR 220).
- B2 smb: monthly 100 (Jan 2025), 150 (Feb), 120 (Mar), nothing Apr-May, 80 from Jun 2025.
- B3 mid_market: monthly 50 from Jan 2025, plus a second subscription of 20 from Mar 2025.
- B4 enterprise: monthly EUR 100; EUR is 0.8 per USD until 30 Mar 2025, 0.5 from 31 Mar.
- B5 smb: monthly 100 Jan-Jun 2025, then churned (a member of the Jan 2025 cohort).
- B6 smb: a one-time invoice of 300 created 20 Jan 2025 and paid 10 Feb 12:00 (across a month
  end), and an uncollectible invoice of 100 created 1 Feb, written off 15 Mar.
Monthly invoices run through Feb 2026, so as_of_month is 2026-02.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assets.resources import WarehouseResource
from tests.conftest import materialize_all, query, write

CENT = 0.005
ACCOUNTS = {"B1": "smb", "B2": "smb", "B3": "mid_market", "B4": "enterprise", "B5": "smb", "B6": "smb"}


def month_start(index: int) -> date:
    """Month ``index`` counted from January 2025."""
    return date(2025 + index // 12, index % 12 + 1, 1)


def monthly(account: str, first: int, last: int, amount: float, sub: str = "") -> list[tuple]:
    """One monthly invoice per month ``first``..``last`` (inclusive) of ``amount`` per month."""
    return [(account, sub, month_start(m), month_start(m + 1), amount) for m in range(first, last + 1)]


PERIODS = [
    ("B1", "", date(2025, 1, 1), date(2026, 1, 1), 1200),
    ("B1", "", date(2026, 1, 1), date(2027, 1, 1), 2640),
    *monthly("B2", 0, 0, 100), *monthly("B2", 1, 1, 150), *monthly("B2", 2, 2, 120),
    *monthly("B2", 5, 13, 80),
    *monthly("B3", 0, 13, 50), *monthly("B3", 2, 13, 20, sub="addon"),
    *monthly("B4", 0, 13, 100),
    *monthly("B5", 0, 5, 100),
]  # fmt: skip


def write_landing(landing: Path) -> None:
    write(landing, "finance/currencies/d/c.csv", "currency,minor_unit_exponent\nUSD,2\nEUR,2\n")
    write(
        landing,
        "finance/fx_rates/d/fx.csv",
        "rate_date,currency,units_per_usd\n2025-01-01,EUR,0.8\n2025-03-31,EUR,0.5\n",
    )
    accounts = "account_id,account_name,country,segment,risk_tier,created_at,is_deleted,updated_at\n"
    customers = "customer_id,crm_account_id,currency,created_at,updated_at\n"
    for account, segment in ACCOUNTS.items():
        accounts += f"{account},{account},US,{segment},low,2024-12-01,false,2024-12-01\n"
        currency = "EUR" if account == "B4" else "USD"
        customers += f"C{account},{account},{currency},2024-12-01,2024-12-01\n"
    write(landing, "crm/accounts/d/a.csv", accounts)
    write(landing, "billing/customers/d/c.csv", customers)
    invoices = "invoice_id,customer_id,status,currency,amount_due,amount_paid,created_at,paid_at,updated_at\n"
    lines = "line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,updated_at\n"
    for i, (account, _subscription, start, end, amount) in enumerate(PERIODS):
        currency = "EUR" if account == "B4" else "USD"
        cents = int(round(amount * 100))
        invoices += f"I{i},C{account},paid,{currency},{cents},{cents},{start},{start},{start}\n"
        lines += f"L{i},I{i},subscription,{cents},{currency},{start},{end},false,{start}\n"
    invoices += "W1,CB6,paid,USD,30000,30000,2025-01-20T00:00:00,2025-02-10T12:00:00,2025-02-10T12:00:00\n"
    invoices += "W2,CB6,uncollectible,USD,10000,0,2025-02-01T00:00:00,,2025-03-15T09:00:00\n"
    lines += "LW1,W1,one_time,30000,USD,2025-01-20,2025-01-20,false,2025-01-20\n"
    lines += "LW2,W2,one_time,10000,USD,2025-02-01,2025-02-01,false,2025-02-01\n"
    write(landing, "billing/invoices/d/i.csv", invoices)
    write(landing, "billing/invoice_line_items/d/l.csv", lines)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> WarehouseResource:
    root = tmp_path_factory.mktemp("mrr")
    write_landing(root / "landing")
    warehouse = WarehouseResource(landing_dir=str(root / "landing"), warehouse_dir=str(root / "warehouse"))
    materialize_all(warehouse)
    return warehouse


MOVEMENT_COLUMNS = (
    "mrr",
    "previous_mrr",
    "new",
    "reactivation",
    "expansion",
    "contraction",
    "churn",
    "fx_effect",
)


def movements(warehouse, account: str) -> dict[str, tuple]:
    rows = query(
        warehouse,
        f"SELECT month::VARCHAR, {', '.join(MOVEMENT_COLUMNS)} FROM marts.mrr_movements WHERE account_id = '{account}' ORDER BY month",
    )
    return {r[0][:7]: r[1:] for r in rows}


def expect(actual: tuple, **values: float) -> None:
    full = {c: 0.0 for c in MOVEMENT_COLUMNS} | values
    assert actual == pytest.approx(tuple(full[c] for c in MOVEMENT_COLUMNS), abs=CENT)


def test_annual_plan_is_normalised_to_months_and_renewal_expands(warehouse):
    b1 = movements(warehouse, "B1")
    expect(b1["2025-01"], mrr=100, new=100)  # 1,200 over 365 days: round(365 / 30.4375) = 12
    expect(b1["2025-12"], mrr=100, previous_mrr=100)
    expect(b1["2026-01"], mrr=220, previous_mrr=100, expansion=120)  # 2,640 / 12


def test_upgrade_downgrade_churn_and_reactivation_after_a_gap(warehouse):
    b2 = movements(warehouse, "B2")
    expect(b2["2025-01"], mrr=100, new=100)
    expect(b2["2025-02"], mrr=150, previous_mrr=100, expansion=50)
    expect(b2["2025-03"], mrr=120, previous_mrr=150, contraction=30)
    expect(b2["2025-04"], mrr=0, previous_mrr=120, churn=120)
    expect(b2["2025-05"])  # still gone: a zero row, no movement
    expect(b2["2025-06"], mrr=80, reactivation=80)  # had MRR before: not new


def test_a_second_subscription_is_expansion_not_new(warehouse):
    b3 = movements(warehouse, "B3")
    expect(b3["2025-02"], mrr=50, previous_mrr=50)
    expect(b3["2025-03"], mrr=70, previous_mrr=50, expansion=20)


def test_an_fx_move_shows_in_fx_effect_not_in_expansion(warehouse):
    b4 = movements(warehouse, "B4")
    expect(b4["2025-02"], mrr=100 / 0.8, previous_mrr=100 / 0.8)
    # March ends at 0.5 EUR per USD: last month's EUR 100 is 200 at March's rate (constant
    # currency) against 125 at February's; the whole change is FX.
    expect(b4["2025-03"], mrr=100 / 0.5, previous_mrr=100 / 0.5, fx_effect=100 / 0.5 - 100 / 0.8)
    expect(b4["2025-04"], mrr=200, previous_mrr=200)


def retention_row(warehouse, month: str, segment: str) -> dict:
    columns = [
        "starting_mrr",
        "new",
        "reactivation",
        "expansion",
        "contraction",
        "churn",
        "nrr_1m",
        "grr_1m",
        "nrr_12m",
        "grr_12m",
    ]
    rows = query(
        warehouse,
        f"SELECT {', '.join(columns)} FROM marts.retention WHERE month = '{month}' AND segment = '{segment}'",
    )
    return dict(zip(columns, rows[0]))


def test_one_month_retention(warehouse):
    # April 2025: previous month at April's rates: B1 100 + B2 120 + B3 70 + B4 EUR 100 / 0.5
    # + B5 100 = 590; B2 churns 120.
    april = retention_row(warehouse, "2025-04-01", "all")
    starting = 100 + 120 + 70 + 200 + 100
    assert april == pytest.approx(dict(
        starting_mrr=starting, new=0, reactivation=0, expansion=0, contraction=0, churn=120,
        nrr_1m=(starting - 120) / starting, grr_1m=(starting - 120) / starting, nrr_12m=None, grr_12m=None,
    ))  # fmt: skip
    smb = retention_row(warehouse, "2025-04-01", "smb")
    assert smb["starting_mrr"] == pytest.approx(100 + 120 + 100) and smb["churn"] == pytest.approx(120)
    # January 2025 has no starting MRR: ratios are NULL, new MRR is all there is.
    january = retention_row(warehouse, "2025-01-01", "all")
    assert january["starting_mrr"] == 0 and january["nrr_1m"] is None
    assert january["new"] == pytest.approx(100 + 100 + 50 + 100 / 0.8 + 100)


def test_twelve_month_cohort_with_a_churned_member(warehouse):
    # Cohort = MRR > 0 in Jan 2025: B1..B5. Both sides at Jan 2026's rates (EUR at 0.5).
    then = {"B1": 100, "B2": 100, "B3": 50, "B4": 200, "B5": 100}
    now = {"B1": 220, "B2": 80, "B3": 70, "B4": 200, "B5": 0}
    row = retention_row(warehouse, "2026-01-01", "all")
    assert row["nrr_12m"] == pytest.approx(sum(now.values()) / sum(then.values()))
    assert row["grr_12m"] == pytest.approx(sum(min(now[a], then[a]) for a in then) / sum(then.values()))
    smb = retention_row(warehouse, "2026-01-01", "smb")  # B1, B2, B5
    assert smb["nrr_12m"] == pytest.approx((220 + 80 + 0) / (100 + 100 + 100))
    assert smb["grr_12m"] == pytest.approx((100 + 80 + 0) / (100 + 100 + 100))
    assert retention_row(warehouse, "2025-12-01", "all")["nrr_12m"] is None  # no cohort yet
    segments = query(warehouse, "SELECT count(*), count(DISTINCT segment) FROM marts.retention")
    assert segments == [(14 * 4, 4)]  # every month of the data range x (all + 3 segments)


def test_receivables_dso_and_days_to_pay_across_a_month_end(warehouse):
    rows = query(
        warehouse,
        "SELECT month::VARCHAR, ar_end, billed_90d, dso, days_to_pay FROM marts.working_capital WHERE account_id = 'B6' ORDER BY month",
    )
    by_month = {r[0][:7]: r[1:] for r in rows}
    # Jan: W1 (300) unpaid on the 31st and billed in the 90 days to 31 Jan.
    assert by_month["2025-01"] == pytest.approx((300, 300, 90.0, None))
    # Feb: W1 paid on the 10th after 21.5 days; W2 (100) open at month end; both billed since 1 Dec.
    assert by_month["2025-02"] == pytest.approx((100, 400, 100 / 400 * 90, 21.5))
    # Mar: W2 written off on the 15th leaves AR at March's end; window 1 Jan - 31 Mar.
    assert by_month["2025-03"] == pytest.approx((0, 400, 0.0, None))
    assert by_month["2025-04"] == pytest.approx((0, 100, 0.0, None))  # window 31 Jan - 30 Apr
    assert by_month["2025-05"] == pytest.approx((0, 0, None, None))  # nothing billed: DSO NULL


def test_monthly_working_capital_covers_all_invoices(warehouse):
    rows = query(
        warehouse,
        "SELECT ar_end, billed_90d, days_to_pay FROM marts.working_capital_monthly WHERE month = '2025-02-01'",
    )
    # Every other invoice is paid at creation: in billed_90d, never in AR, 0 days to pay.
    # Created 1 Dec - 28 Feb: W1 300 + W2 100; B1 1,200; B2 100 + 150; B3 50 + 50;
    # B4 EUR 100 + 100 at February's 0.8; B5 100 + 100.
    billed = 400 + 1200 + (100 + 150) + (50 + 50) + (100 + 100) / 0.8 + (100 + 100)
    # Paid in February: W1 (21.5 days) and the February invoices of B2, B3, B4, B5 (0 days).
    paid_in_february = 300 + 150 + 50 + 100 / 0.8 + 100
    assert rows[0] == pytest.approx((100, billed, 300 * 21.5 / paid_in_february))
