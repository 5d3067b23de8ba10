"""Golden tests for the engagement marts and program verdicts, values worked out by hand.

Two small landings: one for the account-level marts (trajectory, quadrants, Spearman), one for
the program difference-in-differences (it needs at least ten accounts per arm). Costs are built
from l1 agent time at 60 USD an hour (one minute = one dollar) and custom_workflow exception
tickets at 10 USD each, revenue from one-time invoice lines, so every number is easy to follow.
"""

from __future__ import annotations

import math

import pytest

from assets.resources import WarehouseResource
from tests.conftest import query, write
from tests.landing_builder import Landing, build

# --- account-level marts -------------------------------------------------------------------
# G1 (enterprise): cost to serve 10, 20, 0 (no ticket), 40, 50, 60 in Jan-Jun 2025.
# Q1-Q5 (smb), January 2025 only: revenue 100 each; engagement 4, 2, 2, 0, 1; cost to serve
# 10, 50, 30, 30, 40 (so contribution margin % 0.9, 0.5, 0.7, 0.7, 0.6). Q6 (smb): no revenue,
# cost to serve 20. M1, M2 (mid_market): engagement 1 and 3, margin % 0.2 and 0.4.
ACCOUNT_MARTS = Landing()
ACCOUNT_MARTS.account("G1", "enterprise")
ACCOUNT_MARTS.revenue("G1", "2025-01-05", 100)
for month, minutes in [(1, 10), (2, 20), (4, 40), (5, 50), (6, 60)]:
    ACCOUNT_MARTS.ticket("G1", f"2025-0{month}-10", minutes=minutes)
for account, events, cost in [
    ("Q1", ["feature_use", "feature_use"], 10), ("Q2", ["feature_use"], 50), ("Q3", ["portal_login", "portal_login"], 30),
    ("Q4", [], 30), ("Q5", ["portal_login"], 40),
]:  # fmt: skip
    ACCOUNT_MARTS.account(account, "smb")
    ACCOUNT_MARTS.revenue(account, "2025-01-03", 100)
    ACCOUNT_MARTS.ticket(account, "2025-01-04", minutes=cost)
    for event_type in events:
        ACCOUNT_MARTS.event(account, "2025-01-06", event_type)
ACCOUNT_MARTS.account("Q6", "smb")
ACCOUNT_MARTS.ticket("Q6", "2025-01-04", minutes=20)
for account, logins, cost in [("M1", 1, 80), ("M2", 3, 60)]:
    ACCOUNT_MARTS.account(account, "mid_market")
    ACCOUNT_MARTS.revenue(account, "2025-01-03", 100)
    ACCOUNT_MARTS.ticket(account, "2025-01-04", minutes=cost)
    for _ in range(logins):
        ACCOUNT_MARTS.event(account, "2025-01-06", "portal_login")


@pytest.fixture(scope="module")
def accounts_warehouse(tmp_path_factory) -> WarehouseResource:
    return build(tmp_path_factory.mktemp("engagement"), ACCOUNT_MARTS)


def test_cost_to_serve_slope_over_six_months_with_an_inactive_month(accounts_warehouse):
    rows = query(
        accounts_warehouse,
        "SELECT month::VARCHAR, cost_to_serve, cts_slope_6m, cts_trend FROM marts.cost_to_serve_trajectory WHERE account_id = 'G1' ORDER BY month",
    )
    by_month = {r[0][:7]: r[1:] for r in rows}
    assert by_month["2025-02"] == (20.0, None, None)  # two months: no slope yet
    # Jan-Mar: 10, 20, 0 at x = 1, 2, 3: slope = sum((x-2)(y-10)) / sum((x-2)^2) = -10 / 2
    assert by_month["2025-03"] == pytest.approx((0.0, -5.0, "falling"))  # below -5% of mean 10
    # Jan-Jun: 10, 20, 0, 40, 50, 60: x mean 3.5, y mean 30, Sxy = 190, Sxx = 17.5
    assert by_month["2025-06"] == pytest.approx((60.0, 190 / 17.5, "rising"))
    ratio = query(
        accounts_warehouse,
        "SELECT cost_to_serve_ratio FROM marts.cost_to_serve_trajectory WHERE account_id = 'G1' AND month = '2025-01-01'",
    )
    assert ratio == [(pytest.approx(10 / 100),)]


def test_quadrants_at_exactly_the_median(accounts_warehouse):
    rows = dict(
        query(
            accounts_warehouse,
            "SELECT account_id, quadrant FROM marts.engagement_economics WHERE month = '2025-01-01'",
        )
    )
    # smb medians over Q1-Q5 (Q6 has no revenue): engagement [0, 1, 2, 2, 4] -> 2; margin %
    # [0.5, 0.6, 0.7, 0.7, 0.9] -> 0.7. Q2, Q3 sit on the engagement median, Q3, Q4 on the margin one.
    assert rows["Q1"] == "economic_champion"  # 4 >= 2, 0.9 >= 0.7
    assert rows["Q2"] == "engagement_theater"  # 2 >= 2, 0.5 < 0.7
    assert rows["Q3"] == "economic_champion"  # 2 >= 2, 0.7 >= 0.7
    assert rows["Q4"] == "quiet_value"  # 0 < 2, 0.7 >= 0.7
    assert rows["Q5"] == "at_risk"  # 1 < 2, 0.6 < 0.7
    assert rows["Q6"] is None  # no revenue in the trailing 3 months
    # mid_market, an even count: medians are the means of the two middle values (2 and 0.3).
    assert rows["M1"] == "at_risk" and rows["M2"] == "economic_champion"
    q1 = query(
        accounts_warehouse,
        "SELECT engagement_score, engagement_score_3m, revenue_3m, cost_to_serve_3m, contribution_margin_pct_3m FROM marts.engagement_economics WHERE account_id = 'Q1' AND month = '2025-04-01'",
    )
    assert q1 == [pytest.approx((0.0, 0.0, 0.0, 0.0, None))]  # January has left the window
    q1_jan = query(
        accounts_warehouse,
        "SELECT engagement_score_3m, contribution_margin_pct_3m FROM marts.engagement_economics WHERE account_id = 'Q1' AND month = '2025-02-01'",
    )
    assert q1_jan == [pytest.approx((4.0, 0.9))]


def test_spearman_with_ties(accounts_warehouse):
    # January, smb: engagement Q1..Q6 = 4, 2, 2, 0, 1, 0; cost = 10, 50, 30, 30, 40, 20.
    # Average ranks: engagement 6, 4.5, 4.5, 1.5, 3, 1.5; cost 1, 6, 3.5, 3.5, 5, 2.
    # Deviations from 3.5: dx = 2.5, 1, 1, -2, -0.5, -2; dy = -2.5, 2.5, 0, 0, 1.5, -1.5.
    rho = -1.5 / math.sqrt(16.5 * 17)  # sum dx*dy / sqrt(sum dx^2 * sum dy^2)
    rows = {
        r[0]: r[1:]
        for r in query(
            accounts_warehouse,
            "SELECT segment, accounts, spearman_engagement_cost_to_serve FROM marts.engagement_cost_correlation WHERE month = '2025-01-01'",
        )
    }
    assert rows["smb"] == (6, pytest.approx(rho))
    assert rows["mid_market"] == (2, None)  # fewer than 3 accounts
    assert rows["enterprise"] == (1, None)
    assert rows["all"][0] == 9


def test_nps_per_segment(tmp_path):
    landing = Landing()
    landing.account("N1", "smb")
    landing.revenue("N1", "2025-01-02", 10)
    for score in [10, 9, 8, 6, 0]:
        landing.add("crm/engagement_events", "event_id,account_id,occurred_at,event_type,nps_score,updated_at",
                    f"S{score},N1,2025-01-05T00:00:00,nps_response,{score},2025-01-05T00:00:00")  # fmt: skip
    landing.add(
        "crm/engagement_events",
        "event_id,account_id,occurred_at,event_type,nps_score,updated_at",
        "S99,A404,2025-01-05T00:00:00,nps_response,10,2025-01-05T00:00:00",
    )  # unknown account
    warehouse = build(tmp_path, landing)
    rows = {
        r[0]: r[1:]
        for r in query(
            warehouse,
            "SELECT segment, responses, promoters, detractors, nps FROM marts.nps WHERE month = '2025-01-01'",
        )
    }
    assert rows["smb"] == (5, 2, 2, pytest.approx(0.0))  # (2 - 2) / 5
    assert rows["all"] == (6, 3, 2, pytest.approx((3 - 2) / 6 * 100))
    assert rows["enterprise"] == (0, 0, 0, None)


# --- programs --------------------------------------------------------------------------------
# 12 treated smb accounts T*, 12 control smb accounts K*, 9 pilot smb accounts P* (enrolled in
# the pilot only), 2025. Revenue 100 a month (controls: 110 from June). Exception tickets at 10
# USD: treated 4 a month until May, 2 from June; everyone else 4 until May, 3 from June.
# Programs launch 1 April 2025 with a 30-day window: pre = Jan-Mar, post = Jun-Aug (1 May + 0
# days is a month start, so the first month that begins after it is June).
PROGRAMS_CSV = """program_id,name,launched_on,cost_per_enrolled_account_usd,target_metric,expected_change,evaluation_window_days,kill_threshold,updated_at
A,Reconciliation onboarding,2025-04-01,0,exception_handling_cost,-0.2,30,-0.05,2025-01-01
B,Webinars,2025-04-01,0,revenue,0.1,30,0.03,2025-01-01
C,Pilot,2025-04-01,0,exception_handling_cost,-0.2,30,-0.05,2025-01-01
D,Too recent,2025-11-01,0,revenue,0.1,30,0.03,2025-01-01
"""


def program_landing() -> Landing:
    landing = Landing()
    groups = {"T": 12, "K": 12, "P": 9}
    for prefix, count in groups.items():
        for i in range(count):
            account = f"{prefix}{i:02d}"
            landing.account(account, "smb")
            for month in range(1, 13):
                day = f"2025-{month:02d}-05"
                landing.revenue(account, day, 110 if prefix == "K" and month >= 6 else 100)
                tickets = 4 if month < 6 else (2 if prefix == "T" else 3)
                for _ in range(tickets):
                    landing.ticket(account, day, category="custom_workflow")
            programs = {"T": ["A", "B", "D"], "P": ["C"], "K": []}[prefix]
            for program in programs:
                enrolled = "2025-11-01" if program == "D" else "2025-04-01"
                landing.add("crm/program_enrollments", "program_id,account_id,enrolled_at,updated_at",
                            f"{program},{account},{enrolled}T00:00:00,{enrolled}")  # fmt: skip
    return landing


@pytest.fixture(scope="module")
def programs_warehouse(tmp_path_factory) -> WarehouseResource:
    landing = program_landing()
    root = tmp_path_factory.mktemp("programs")
    write(root / "landing", "crm/programs/d/p.csv", PROGRAMS_CSV)
    return build(root, landing)


def test_program_verdicts(programs_warehouse):
    rows = {
        r[0]: r[1:]
        for r in query(
            programs_warehouse,
            "SELECT program_id, treated_accounts, control_accounts, treated_change, control_change, measured_effect, verdict, evaluated_through::VARCHAR FROM marts.program_outcomes",
        )
    }
    # A: treated 40 -> 20 a month (-0.5); control (12 K + 9 P never enrolled in A) 40 -> 30 (-0.25);
    # effect -0.25 reaches the expected -0.2.
    assert rows["A"] == pytest.approx((12, 21, -0.5, -0.25, -0.25, "on_track", "2025-12-01"))
    # B: treated revenue flat; control 12 K (100 -> 110) + 9 P (flat): (21*100 + 12*10 - 2100) / 2100.
    control_b = 12 * 10 / (21 * 100)
    assert rows["B"] == pytest.approx((12, 21, 0.0, control_b, -control_b, "kill", "2025-12-01"))
    # C: nine treated accounts (40 -> 30: -0.25) are not enough, but the changes are published.
    # Its control is 12 T (40 -> 20) + 12 K (40 -> 30): (12*20 + 12*30 - 24*40) / (24*40) = -0.375.
    assert rows["C"] == pytest.approx((9, 24, -0.25, -0.375, 0.125, "insufficient_data", "2025-12-01"))
    # D: launched 1 Nov: its post window (Jan-Mar 2026) ends after as_of_month.
    assert rows["D"][5] == "not_yet_due"
