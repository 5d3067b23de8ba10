"""Golden tests for the economics-depth marts: engagement fatigue, price increases and their
absorption, cohorts with realised margin, and programs at two horizons. Every expected value is
worked out by hand next to its assertion, on two small landings (see ``tests.landing_builder``:
one minute of l1 time costs 1 USD, a custom_workflow exception ticket 10 USD).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from assets.resources import WarehouseResource
from tests.conftest import query, write
from tests.landing_builder import Landing, build

# --- fatigue, price increases, cohorts: January to August 2025 --------------------------------
# as_of_date is 2025-08-20 (P1's last ticket), so as_of_month is 2025-08 (in progress). EUR is
# 0.8 per USD, 0.5 from 15 April and 0.4 from 15 June: constant-currency rules show.
#
# Fatigue (smb, a 100 USD one-time invoice in January each, so their dense range starts there):
#   F1: Jan-Mar 4 logins + 1 campaign touch a month; Apr-Jun 2 logins + 2 touches; an
#       unsubscribe in June.
#   F2: no event at all.
#   F3: Jan-Mar 4 logins a month; Apr-Jun 3 logins + 1 touch (organic decay exactly 0.25).
#   F4: never an organic event; 1 campaign touch a month in Apr-Jun and an unsubscribe in June.
#
# Priced subscriptions (monthly lines run from the 1st to the 1st; prices in cents):
#   S1 of P1 (smb): 10 seats x 1000 in Jan and Feb, x 1005 in Mar (+0.5% exactly: not an
#       increase), Apr without quantity or unit_amount (10050), x 1100 from May to Aug: an
#       increase in May, against March's price. Billing questions in May, July and August.
#   S2 of P2 (mid_market): 1 x 1000 EUR in Mar, 1 x 2000 USD in Apr and May: the currency
#       changed, so no comparison.
#   S3 of P3 (enterprise): quarterly lines of 1 x 30000 (Jan-Mar), 1 x 33000 (Apr-Jun), 1 x 24000
#       (Jul-Sep): monthly unit prices 100, 110, 80 USD.
#   S4 of P4 (smb): 2 x 500 in May, 2 x 600 from Jun to Aug: June + 3 months is after August.
#   S5 of P5 (smb): 1 x 1000 in Feb, 1 x 1200 in Mar, then nothing. A 2-minute ticket in Feb.
#   S6 of an unknown customer CX: 1 x 100 in Jan, 1 x 200 in Feb (unattributed:billing).
#   S7 of P6 (mid_market), in EUR: 1 x 1000 in Apr, 1 x 1100 from May to Aug.
#   R1 (smb): 5000 a month without quantity in Jan, then Apr to Aug: a reactivation.


def month_lines(landing: Landing, customer: str, subscription: str, months: list[int], **line) -> None:
    for month in months:
        landing.invoice_line(
            customer, f"2025-{month:02d}-01", f"2025-{month + 1:02d}-01", subscription_id=subscription, **line
        )


def economics_landing() -> Landing:
    landing = Landing()
    landing.eur_per_usd |= {"2025-04-15": 0.5, "2025-06-15": 0.4}
    for account in ["F1", "F2", "F3", "F4", "P1", "P4", "P5", "R1"]:
        landing.account(account, "smb")
    landing.account("P2", "mid_market")
    landing.account("P6", "mid_market")
    landing.account("P3", "enterprise")
    for account in ["F1", "F2", "F3", "F4"]:
        landing.revenue(account, "2025-01-05", 100)
    for month in [1, 2, 3]:
        for _ in range(4):
            landing.event("F1", f"2025-0{month}-10", "portal_login")
            landing.event("F3", f"2025-0{month}-10", "portal_login")
        landing.event("F1", f"2025-0{month}-11", "campaign_touch")
    for month in [4, 5, 6]:
        for _ in range(2):
            landing.event("F1", f"2025-0{month}-10", "portal_login")
            landing.event("F1", f"2025-0{month}-11", "campaign_touch")
        for _ in range(3):
            landing.event("F3", f"2025-0{month}-10", "portal_login")
        landing.event("F3", f"2025-0{month}-11", "campaign_touch")
        landing.event("F4", f"2025-0{month}-11", "campaign_touch")
    landing.event("F1", "2025-06-12", "unsubscribe")
    landing.event("F4", "2025-06-12", "unsubscribe")
    landing.event("A404", "2025-06-12", "campaign_touch")  # unknown account: unattributed:crm

    month_lines(landing, "CP1", "S1", [1, 2], amount=10000, quantity=10, unit_amount=1000)
    month_lines(landing, "CP1", "S1", [3], amount=10050, quantity=10, unit_amount=1005)
    month_lines(landing, "CP1", "S1", [4], amount=10050)
    month_lines(landing, "CP1", "S1", [5, 6, 7, 8], amount=11000, quantity=10, unit_amount=1100)
    for day in ["2025-05-10", "2025-07-10", "2025-08-20"]:
        landing.ticket("P1", day, category="billing_question")
    month_lines(landing, "CP2", "S2", [3], amount=1000, quantity=1, unit_amount=1000, currency="EUR")
    month_lines(landing, "CP2", "S2", [4, 5], amount=2000, quantity=1, unit_amount=2000)
    for start, end, unit in [("2025-01-01", "2025-04-01", 30000), ("2025-04-01", "2025-07-01", 33000),
                             ("2025-07-01", "2025-10-01", 24000)]:  # fmt: skip
        landing.invoice_line("CP3", start, end, unit, subscription_id="S3", quantity=1, unit_amount=unit)
    month_lines(landing, "CP4", "S4", [5], amount=1000, quantity=2, unit_amount=500)
    month_lines(landing, "CP4", "S4", [6, 7, 8], amount=1200, quantity=2, unit_amount=600)
    month_lines(landing, "CP5", "S5", [2], amount=1000, quantity=1, unit_amount=1000)
    month_lines(landing, "CP5", "S5", [3], amount=1200, quantity=1, unit_amount=1200)
    landing.ticket("P5", "2025-02-10", minutes=2)
    month_lines(landing, "CX", "S6", [1], amount=100, quantity=1, unit_amount=100)
    month_lines(landing, "CX", "S6", [2], amount=200, quantity=1, unit_amount=200)
    month_lines(landing, "CR1", "SR", [1, 4, 5, 6, 7, 8], amount=5000)
    month_lines(landing, "CP6", "S7", [4], amount=1000, quantity=1, unit_amount=1000, currency="EUR")
    month_lines(landing, "CP6", "S7", [5, 6, 7, 8], amount=1100, quantity=1, unit_amount=1100, currency="EUR")
    return landing


@pytest.fixture(scope="module")
def economics(tmp_path_factory) -> WarehouseResource:
    return build(tmp_path_factory.mktemp("economics"), economics_landing())


def rows_by_key(warehouse: WarehouseResource, sql: str, key_columns: int = 2) -> dict:
    """Rows keyed by their first ``key_columns`` values; money stays exact (Decimal)."""
    return {r[:key_columns]: r[key_columns:] for r in query(warehouse, sql, exact=True)}


def test_engagement_fatigue(economics):
    fatigue = rows_by_key(
        economics,
        "SELECT account_id, month::VARCHAR, campaign_touches_3m, campaign_touches_prev_3m, unsubscribes_3m, "
        "unsubscribe_rate_3m, organic_engagement_3m, organic_engagement_prev_3m, engagement_decay, fatigued "
        "FROM marts.engagement_fatigue",
    )
    # F1 in June: touches Apr-Jun 2+2+2 against Jan-Mar 1+1+1; organic 2+2+2 against 4+4+4.
    assert fatigue[("F1", "2025-06-01")] == pytest.approx((6, 3, 1, 1 / 6, 6.0, 12.0, (12 - 6) / 12, True))
    # F1 in May: M-5 is December 2024, before its dense range: fatigued is NULL. The months
    # before January count as zero: touches Dec-Feb 0+1+1, organic 0+4+4.
    assert fatigue[("F1", "2025-05-01")] == pytest.approx((5, 2, 0, 0.0, 8.0, 8.0, 0.0, None))
    # F1 in August: touches fall (Jun-Aug 2 against Mar-May 5): not fatigued, despite the decay.
    assert fatigue[("F1", "2025-08-01")] == pytest.approx((2, 5, 1, 0.5, 2.0, 8.0, (8 - 2) / 8, False))
    # F2: no campaign touch at all: no unsubscribe rate, no decay, not fatigued.
    assert fatigue[("F2", "2025-06-01")] == (0, 0, 0, None, 0.0, 0.0, None, False)
    # F3: touches 3 against 0 and organic 9 against 12: a decay of exactly 0.25 is fatigue.
    assert fatigue[("F3", "2025-06-01")] == pytest.approx((3, 0, 0, 0.0, 9.0, 12.0, 0.25, True))
    # F4: no organic engagement before, so no decay; rising touches and an unsubscribe: fatigued.
    assert fatigue[("F4", "2025-06-01")] == pytest.approx((3, 0, 1, 1 / 3, 0.0, 0.0, None, True))
    # Dense: F2 from January through as_of_month; live accounts only.
    assert [m for (a, m) in fatigue if a == "F2"] == [f"2025-0{m}-01" for m in range(1, 9)]
    assert not [a for (a, _) in fatigue if a.startswith("unattributed:")]


def test_price_increases(economics):
    increases = rows_by_key(
        economics,
        "SELECT subscription_id, month::VARCHAR, account_id, currency, old_unit_monthly, new_unit_monthly, "
        "increase_pct, quadrant_before, mrr_before, mrr_after, billing_questions, outcome FROM marts.price_increases",
    )
    # S1: March's +0.5% is not an increase; April's line has no unit price and breaks nothing,
    # so May compares 11.00 with March's 10.05. MRR before = April's 100.50, after = August's 110.
    # Questions in May and July (August is after M+2). April's quadrant: smb accounts with revenue
    # in Feb-Apr are P1, P5 and R1, engagement all 0 and margin % 1, 20/22, 1: medians 0 and 1.
    assert increases[("S1", "2025-05-01")] == (
        "P1", "USD", Decimal("10.05"), Decimal("11"), pytest.approx(1100 / 1005 - 1), "economic_champion",
        Decimal("100.5"), Decimal("110"), 2, "absorbed",
    )  # fmt: skip
    # S3, quarterly: monthly unit prices 30000/3 and 33000/3 cents. July's 80 is below March's 100.
    # P3 is the only enterprise account with revenue in Jan-Mar: its own medians.
    assert increases[("S3", "2025-04-01")] == (
        "P3", "USD", Decimal("100"), Decimal("110"), pytest.approx(0.1), "economic_champion",
        Decimal("100"), Decimal("80"), 0, "contracted",
    )  # fmt: skip
    # S4: June + 3 is September, after as_of_month: pending, no MRR yet. May's smb accounts with
    # revenue (P1, P4, P5, R1) all have engagement 0 and margin % 1.
    assert increases[("S4", "2025-06-01")] == (
        "P4", "USD", Decimal("5"), Decimal("6"), pytest.approx(0.2), "economic_champion", None, None, 0, "pending",
    )  # fmt: skip
    # S5: churned by June. February's smb medians: engagement [0, 0, 0, 0, 8, 9] -> 0, margin %
    # [1, 1, 1, 1, 0.8, 1] -> 1: P5 (engagement 0, margin 8/10) is engagement theater.
    assert increases[("S5", "2025-03-01")] == (
        "P5", "USD", Decimal("10"), Decimal("12"), pytest.approx(0.2), "engagement_theater",
        Decimal("10"), Decimal("0"), 0, "churned",
    )  # fmt: skip
    # S7, in EUR: 10 -> 11 EUR in May. Both MRRs at August's rate (0.4): April's 10 EUR is 25 USD
    # (not the 20 of April's own rate), August's 11 EUR is 27.50. April's mid_market accounts with
    # revenue, P2 and P6, have engagement 0 and margin % 1.
    assert increases[("S7", "2025-05-01")] == (
        "P6", "EUR", Decimal("10"), Decimal("11"), pytest.approx(0.1), "economic_champion",
        Decimal("25"), Decimal("27.5"), 0, "absorbed",
    )  # fmt: skip
    # S6 of an unknown customer: the pseudo-account, no quadrant.
    assert increases[("S6", "2025-02-01")] == (
        "unattributed:billing", "USD", Decimal("1"), Decimal("2"), pytest.approx(1.0), None,
        Decimal("1"), Decimal("0"), 0, "churned",
    )  # fmt: skip
    # S2 changed currency between two lines: never compared. Nothing else is an increase.
    assert sorted(increases) == [
        ("S1", "2025-05-01"), ("S3", "2025-04-01"), ("S4", "2025-06-01"), ("S5", "2025-03-01"), ("S6", "2025-02-01"),
        ("S7", "2025-05-01"),
    ]  # fmt: skip


def test_price_absorption_has_every_segment_and_quadrant(economics):
    absorption = rows_by_key(
        economics,
        "SELECT segment, quadrant, increases, absorbed, contracted, churned, pending, absorption_rate "
        "FROM marts.price_absorption",
    )
    assert len(absorption) == 24
    # (increases, absorbed, contracted, churned, pending, rate), from the six increases above.
    assert absorption[("all", "all")] == (6, 2, 1, 2, 1, pytest.approx(2 / 5))
    assert absorption[("smb", "all")] == (3, 1, 0, 1, 1, pytest.approx(1 / 2))
    assert absorption[("smb", "economic_champion")] == (2, 1, 0, 0, 1, 1.0)
    assert absorption[("smb", "engagement_theater")] == (1, 0, 0, 1, 0, 0.0)
    assert absorption[("enterprise", "economic_champion")] == (1, 0, 1, 0, 0, 0.0)
    assert absorption[("all", "economic_champion")] == (4, 2, 1, 0, 1, pytest.approx(2 / 3))
    assert absorption[("mid_market", "all")] == (1, 1, 0, 0, 0, 1.0)
    # The pseudo-account counts in segment all only, under no quadrant.
    assert absorption[("all", "none")] == (1, 0, 0, 1, 0, 0.0)
    assert absorption[("mid_market", "at_risk")] == (0, 0, 0, 0, 0, None)
    assert absorption[("smb", "none")] == (0, 0, 0, 0, 0, None)


def test_cohort_retention(economics):
    cohorts = rows_by_key(
        economics,
        "SELECT cohort_month::VARCHAR, months_since, segment, accounts, active_accounts, starting_mrr, mrr, "
        "logo_retention, revenue_retention, cumulative_contribution_margin, margin_per_account "
        "FROM marts.cohort_retention",
        key_columns=3,
    )
    jan = "2025-01-01"
    # January: P1 (100 a month), P3 (quarterly 300: 100), R1 (50, back in April after two
    # months without MRR). January revenue 100 + 50 + 300 * 31/90 = 103.333333; no cost.
    assert cohorts[(jan, 0, "all")] == (
        3, 3, Decimal("250"), Decimal("250"), 1.0, 1.0, Decimal("253.333333"), Decimal("84.444444"),
    )  # fmt: skip
    # February: R1 has no MRR; March: P1's 100.50.
    assert cohorts[(jan, 1, "all")][:6] == (3, 2, Decimal("250"), Decimal("200"), pytest.approx(2 / 3), 0.8)
    # April: R1 is back (a reactivation counts as active again), P3 at 110, P1 at 100.50.
    assert cohorts[(jan, 3, "all")][:6] == (3, 3, Decimal("250"), Decimal("260.5"), 1.0, pytest.approx(1.042))
    assert cohorts[(jan, 1, "smb")][:4] == (2, 1, Decimal("150"), Decimal("100"))
    # The last row is as_of_month (August, months_since 7): P1 110, P3 80, R1 50.
    assert max(k[1] for k in cohorts if k[0] == jan) == 7
    assert cohorts[(jan, 7, "all")][:4] == (3, 3, Decimal("250"), Decimal("240"))
    # February: P5 alone. Margin: February 10 - 2 (its ticket) = 8, March 12, nothing after.
    feb = "2025-02-01"
    assert cohorts[(feb, 0, "smb")] == (1, 1, Decimal("10"), Decimal("10"), 1.0, 1.0, Decimal("8"), Decimal("8"))  # fmt: skip
    assert cohorts[(feb, 2, "smb")][:4] == (1, 0, Decimal("10"), Decimal("0"))
    assert cohorts[(feb, 6, "all")][6:] == (Decimal("20"), Decimal("20"))
    # March: P2's 10 EUR (12.50 USD at March's rate), then 20 USD in April. At April's rate (0.5)
    # its starting MRR is 20 USD: retention 1.0 in constant currency (1.6 at mixed rates).
    assert cohorts[("2025-03-01", 0, "mid_market")][2:4] == (Decimal("12.5"), Decimal("12.5"))
    assert cohorts[("2025-03-01", 1, "mid_market")][2:6] == (Decimal("20"), Decimal("20"), 1.0, 1.0)
    # A segment without accounts in a cohort has no row; all always has one.
    assert (jan, 0, "mid_market") not in cohorts
    assert {k[0] for k in cohorts} == {jan, feb, "2025-03-01", "2025-04-01", "2025-05-01"}  # P6: Apr, P4: May


# --- programs at two horizons: January 2024 to December 2025 ---------------------------------
# 12 treated smb accounts T00-T11 and 12 control smb accounts K00-K11, 100 USD of revenue a
# month each, and custom_workflow exception tickets at 10 USD: K 4 a month; T00-T08 ("early") 2
# in Jun-Aug 2024 and 6 in Mar-May 2025; T09-T11 ("late") 2 in Apr-Jun 2025; otherwise 4.
# Contribution margin = 100 - 10 x tickets. All three programs have a 30-day window.
#   H1, exception_handling_cost (favourable down), launched 2024-04-01: early enrolled at launch
#      (short window Jun-Aug 2024, long Mar-May 2025), late on 2025-02-01 (pre Nov-Jan, short
#      Apr-Jun 2025, long Jan-Mar 2026: after as_of_month, so incomplete).
#   H2, revenue, launched 2024-04-01, all twelve enrolled at launch.
#   H3, contribution_margin, launched 2025-04-01, all twelve enrolled at launch: short window
#      Jun-Aug 2025, long window Mar-May 2026 (not yet due).
HORIZON_PROGRAMS = """program_id,name,launched_on,cost_per_enrolled_account_usd,target_metric,expected_change,evaluation_window_days,kill_threshold,updated_at
H1,Exception coaching,2024-04-01,0,exception_handling_cost,-0.2,30,-0.05,2024-01-01
H2,Upsell push,2024-04-01,0,revenue,0.1,30,0.03,2024-01-01
H3,Margin review,2025-04-01,0,contribution_margin,0.05,30,0.01,2024-01-01
"""


def tickets(prefix: str, index: int, year: int, month: int) -> int:
    if prefix == "K":
        return 4
    if index < 9:  # early
        return (
            2
            if (year, month) in {(2024, 6), (2024, 7), (2024, 8)}
            else 6
            if (year, month) in {(2025, 3), (2025, 4), (2025, 5)}
            else 4
        )
    return 2 if (year, month) in {(2025, 4), (2025, 5), (2025, 6)} else 4


def horizons_landing() -> Landing:
    landing = Landing()
    for prefix in "TK":
        for i in range(12):
            account = f"{prefix}{i:02d}"
            landing.account(account, "smb")
            for year in (2024, 2025):
                for month in range(1, 13):
                    day = f"{year}-{month:02d}-05"
                    landing.revenue(account, day, 100)
                    for _ in range(tickets(prefix, i, year, month)):
                        landing.ticket(account, day, category="custom_workflow")
            if prefix == "T":
                enrollments = [
                    ("H1", "2024-04-01" if i < 9 else "2025-02-01"),
                    ("H2", "2024-04-01"),
                    ("H3", "2025-04-01"),
                ]
                for program, day in enrollments:
                    landing.add("crm/program_enrollments", "program_id,account_id,enrolled_at,updated_at",
                                f"{program},{account},{day}T00:00:00,{day}")  # fmt: skip
    return landing


@pytest.fixture(scope="module")
def horizons(tmp_path_factory) -> WarehouseResource:
    root = tmp_path_factory.mktemp("horizons")
    write(root / "landing", "crm/programs/d/p.csv", HORIZON_PROGRAMS)
    return build(root, horizons_landing())


def test_program_horizons(horizons):
    rows = {
        r[:3]: r[3:]
        for r in query(
            horizons,
            "SELECT program_id, horizon, metric, treated_accounts, control_accounts, treated_change, control_change, "
            "measured_effect, status, outcome FROM marts.program_horizons",
        )
    }
    assert len(rows) == 10  # H1 and H2: 2 metrics x 2 horizons; H3's target is contribution margin
    # H1 short, exception cost: treated 40 -> 20 a month (the late ones over their own windows),
    # control flat. The effect -0.5 is favourable: cost is better down.
    assert rows[("H1", "short", "exception_handling_cost")] == pytest.approx(
        (12, 12, -0.5, 0.0, -0.5, "measured", "reward")
    )
    # ... and contribution margin 60 -> 80.
    assert rows[("H1", "short", "contribution_margin")] == pytest.approx(
        (12, 12, 20 / 60, 0.0, 20 / 60, "measured", "reward")
    )
    # H1 long: the late accounts' window is not over, nine treated accounts are too few; the
    # numbers are published all the same (early: cost 40 -> 60, margin 60 -> 40).
    assert rows[("H1", "long", "exception_handling_cost")] == pytest.approx(
        (9, 12, 0.5, 0.0, 0.5, "insufficient_data", None)
    )
    assert rows[("H1", "long", "contribution_margin")] == pytest.approx(
        (9, 12, -1 / 3, 0.0, -1 / 3, "insufficient_data", None)
    )
    # H2: revenue never moves (neutral); margin rises in Jun-Aug 2024 (early 80, late 60) and
    # falls in Mar-May 2025 (early 40, late 60, 80, 80): reward, then penalty.
    assert rows[("H2", "short", "revenue")] == pytest.approx((12, 12, 0.0, 0.0, 0.0, "measured", "neutral"))
    short_h2 = (9 * 80 + 3 * 60 - 12 * 60) / (12 * 60)
    assert rows[("H2", "short", "contribution_margin")] == pytest.approx(
        (12, 12, short_h2, 0.0, short_h2, "measured", "reward")
    )
    long_h2 = (9 * 40 + 3 * (60 + 80 + 80) / 3 - 12 * 60) / (12 * 60)
    assert rows[("H2", "long", "contribution_margin")] == pytest.approx(
        (12, 12, long_h2, 0.0, long_h2, "measured", "penalty")
    )
    # H3: pre Jan-Mar 2025 (early 60, 60, 40; late 60), post Jun-Aug 2025 (early 60; late 80, 60, 60).
    pre_h3, post_h3 = 9 * (60 + 60 + 40) / 3 + 3 * 60, 9 * 60 + 3 * (80 + 60 + 60) / 3
    short_h3 = (post_h3 - pre_h3) / pre_h3
    assert rows[("H3", "short", "contribution_margin")] == pytest.approx(
        (12, 12, short_h3, 0.0, short_h3, "measured", "reward")
    )
    # Its long window (Mar-May 2026) ends after as_of_month (December 2025): not yet due.
    assert rows[("H3", "long", "contribution_margin")][5:] == ("not_yet_due", None)


def test_program_outcomes_carry_both_horizons(horizons):
    rows = {
        r[0]: r[1:]
        for r in query(
            horizons,
            "SELECT program_id, treated_accounts, measured_effect, verdict, short_term, long_term, horizon_quadrant "
            "FROM marts.program_outcomes",
        )
    }
    assert rows["H1"] == pytest.approx((12, -0.5, "on_track", "reward", None, None))  # -0.5 reaches -0.2
    assert rows["H2"] == pytest.approx((12, 0.0, "kill", "reward", "penalty", "reward_then_penalty"))
    assert rows["H3"][2:] == ("on_track", "reward", None, None)


def test_an_effect_of_exactly_two_percent_is_a_reward(tmp_path):
    """Ten treated accounts go from 100 to 112 a month, ten control accounts from 100 to 110: the
    effect is 0.12 - 0.10 = 0.02 exactly, which is a reward (and reaches an expected 0.02)."""
    landing = Landing()
    for prefix, after in [("A", 112), ("B", 110)]:
        for i in range(10):
            account = f"{prefix}{i}"
            landing.account(account, "smb")
            for month in range(1, 9):
                landing.revenue(account, f"2025-0{month}-05", 100 if month < 6 else after)
            if prefix == "A":
                landing.add("crm/program_enrollments", "program_id,account_id,enrolled_at,updated_at",
                            f"Z,{account},2025-04-01T00:00:00,2025-04-01")  # fmt: skip
    write(
        tmp_path / "landing",
        "crm/programs/d/p.csv",
        "program_id,name,launched_on,cost_per_enrolled_account_usd,target_metric,expected_change,"
        "evaluation_window_days,kill_threshold,updated_at\nZ,Two percent,2025-04-01,0,revenue,0.02,30,0.01,2024-01-01\n",
    )
    warehouse = build(tmp_path, landing)  # pre Jan-Mar, short window Jun-Aug
    horizons = query(
        warehouse,
        "SELECT metric, measured_effect, outcome FROM marts.program_horizons WHERE horizon = 'short'",
    )
    assert sorted(horizons) == [("contribution_margin", 0.02, "reward"), ("revenue", 0.02, "reward")]
    assert query(warehouse, "SELECT verdict, short_term FROM marts.program_outcomes") == [
        ("on_track", "reward")
    ]
