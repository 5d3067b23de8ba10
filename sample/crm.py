"""CRM: accounts and their contacts, customer-success programs, engagement events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sample.common import (
    COUNTRIES,
    COUNTRY_WEIGHTS,
    END,
    MONTHS,
    SEGMENT_WEIGHTS,
    SEGMENTS,
    START_MONTH,
    duration,
    ids,
    month_start,
    only_where,
    pick,
)

PROGRAMS = pl.DataFrame(
    {
        "program_id": ["P001", "P002", "P003", "P004", "P005"],
        "name": [
            "Automated reconciliation onboarding",
            "Executive webinar series",
            "Enterprise QBR program",
            "In-app guidance",
            "Compliance office hours pilot",
        ],
        "launched_on": ["2025-06-02", "2025-02-03", "2026-08-03", "2025-09-01", "2025-04-01"],
        "cost_per_enrolled_account_usd": [40.0, 25.0, 300.0, 5.0, 60.0],
        "target_metric": [
            "exception_handling_cost", "revenue", "gross_margin", "cost_to_serve",
            "exception_handling_cost",
        ],
        "expected_change": [-0.20, 0.10, 0.05, -0.15, -0.20],
        "evaluation_window_days": [60, 90, 120, 60, 60],
        "kill_threshold": [-0.05, 0.03, 0.01, -0.03, -0.05],
        "owner": ["ops", "marketing", "customer_success", "product", "compliance"],
    }
)  # fmt: skip

EVENT_TYPES = np.array(
    [
        "portal_login",
        "feature_use",
        "report_download",
        "campaign_touch",
        "webinar",
        "nps_response",
        "qbr_meeting",
    ]
)
EVENT_WEIGHTS = [0.4, 0.3, 0.1, 0.12, 0.03, 0.03, 0.02]


@dataclass(frozen=True)
class Accounts:
    """The CRM accounts: one array entry per account, indexed ``0 .. n-1``."""

    n: int
    account_id: pl.Series
    segment: np.ndarray  # index into SEGMENTS
    country: np.ndarray
    theater: np.ndarray  # "engagement theater": very engaged, very expensive to serve
    engagement: np.ndarray  # relative engagement level
    exceptions: np.ndarray  # relative rate of exception tickets
    risk: np.ndarray
    created_at: np.ndarray
    frames: dict[str, pl.DataFrame]


@dataclass(frozen=True)
class AccountMonths:
    """Months (index from START_MONTH) in which an account had an active main subscription."""

    account: np.ndarray
    month: np.ndarray


@dataclass(frozen=True)
class Programs:
    """Program enrollments, and when the reconciliation onboarding starts paying off."""

    launched: np.ndarray  # per program, in PROGRAMS order
    enrolled: list[np.ndarray]  # account indexes enrolled in each program
    onboarded_from_month: np.ndarray  # per account: month from which P001 halves exceptions
    frames: dict[str, pl.DataFrame]


def accounts(rng: np.random.Generator, n: int) -> Accounts:
    """Accounts by segment and country; about 8% are "engagement theater" (very engaged, four
    times the exceptions, riskier). Later versions re-rate some accounts to high risk and delete
    a few."""
    segment = rng.choice(3, size=n, p=SEGMENT_WEIGHTS)
    country = pick(rng, COUNTRIES, COUNTRY_WEIGHTS, n)
    theater = rng.random(n) < 0.08
    engagement = rng.lognormal(0, 0.5, n) * np.where(theater, 3.0, 1.0)
    exceptions = rng.lognormal(0, 0.6, n) * np.where(theater, 4.0, 1.0)
    risk = np.where(
        theater, pick(rng, np.array(["medium", "high"]), [1, 1], n),
        pick(rng, np.array(["low", "medium", "high"]), [0.5, 0.35, 0.15], n),
    )  # fmt: skip
    created_days = rng.integers(-365, MONTHS * 30 - 60, size=n)
    created_at = month_start(np.zeros(n, int)) + duration(created_days + rng.random(n))
    account_id = ids("A", n)
    deleted = rng.random(n) < 0.005
    frame = pl.DataFrame(
        {
            "account_id": account_id,
            "account_name": pl.Series(np.arange(n)).cast(pl.String).str.replace("^", "Account "),
            "industry": only_where(
                rng.random(n) >= 0.05,
                pick(rng, np.array(["fintech", "retail", "saas", "travel", "marketplace"]), [5, 5, 4, 2, 3], n),
            ),
            "country": country,
            "segment": SEGMENTS[segment],
            "risk_tier": risk,
            "owner_email": pl.Series(rng.integers(1, 40, n)).cast(pl.String).str.replace(
                "^(.*)$", "owner$1@example.com"
            ),
            "created_at": created_at,
            "is_deleted": False,
            "updated_at": created_at,
        }
    )  # fmt: skip
    # Later versions: a risk re-rating for some accounts, a deletion for a few.
    changed = (rng.random(n) < 0.03) | deleted
    change_at = np.maximum(created_at, END - duration(rng.uniform(0.1, 40, n)))
    versions = frame.filter(pl.Series(changed)).with_columns(
        risk_tier=pl.lit("high"),
        is_deleted=pl.Series(deleted[changed]),
        updated_at=pl.Series(change_at[changed]),
    )
    return Accounts(
        n=n,
        account_id=account_id,
        segment=segment,
        country=country,
        theater=theater,
        engagement=engagement,
        exceptions=exceptions,
        risk=risk,
        created_at=created_at,
        frames={"crm__accounts": frame, "crm__accounts__versions": versions},
    )


def contacts(rng: np.random.Generator, accounts: Accounts) -> dict[str, pl.DataFrame]:
    """One to four contacts per account, added in the account's first month; 1% deleted."""
    contacts_per = rng.integers(1, 5, accounts.n)
    contact_account = np.repeat(np.arange(accounts.n), contacts_per)
    m = len(contact_account)
    contact_at = accounts.created_at[contact_account] + duration(rng.uniform(0, 30, m))
    frame = pl.DataFrame(
        {
            "contact_id": ids("K", m),
            "account_id": accounts.account_id.gather(contact_account),
            "full_name": pl.Series(np.arange(m)).cast(pl.String).str.replace("^", "Person "),
            "email": pl.Series(np.arange(m)).cast(pl.String).str.replace("^(.*)$", "p$1@example.org"),
            "phone": pl.Series(rng.integers(1_000_000, 9_999_999, m)).cast(pl.String).str.replace("^", "+1-555-"),
            "is_deleted": rng.random(m) < 0.01,
            "updated_at": contact_at,
        }
    )  # fmt: skip
    return {"crm__contacts": frame}


def _enroll(rng: np.random.Generator, pool: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(pool, size=min(len(pool), size), replace=False)


def programs(rng: np.random.Generator, accounts: Accounts) -> Programs:
    """Five programs and who enrolled: reconciliation onboarding (P001) targets the accounts with
    the most exceptions and halves them from the month after its evaluation window opens; the
    webinar series (P002) and in-app guidance enrol anyone; the enterprise QBR program is too
    recent to judge; the compliance pilot has only nine accounts. A few enrollments point to
    unknown accounts or programs."""
    n, segment, account_id = accounts.n, accounts.segment, accounts.account_id
    launched = PROGRAMS["launched_on"].str.to_date().to_numpy().astype("datetime64[ms]")
    top_exceptions = np.flatnonzero(accounts.exceptions > np.quantile(accounts.exceptions, 0.6))
    everyone = np.arange(n)
    enrolled_sets = [
        _enroll(rng, top_exceptions, max(12, int(0.06 * n))),
        _enroll(rng, everyone, max(12, int(0.08 * n))),
        _enroll(rng, np.flatnonzero(segment == 2), max(12, min(150, int((segment == 2).sum() * 0.15)))),
        _enroll(rng, everyone, max(12, int(0.05 * n))),
        _enroll(rng, everyone, 9),
    ]
    en_prog = np.concatenate([np.full(len(s), i) for i, s in enumerate(enrolled_sets)])
    en_acct = np.concatenate(enrolled_sets)
    en_at = launched[en_prog] + duration(rng.uniform(0, 20, len(en_prog)))
    en_ids = np.concatenate(
        [account_id.gather(en_acct).to_numpy(), ["A99000001", "A99000002"], ["A00000000"]]
    )
    enrollments = pl.DataFrame(
        {
            "program_id": np.concatenate([PROGRAMS["program_id"].to_numpy()[en_prog], ["P001", "P002"], ["P999"]]),
            "account_id": en_ids,
            "enrolled_at": np.concatenate([en_at, launched[[0, 1]], launched[[0]]]),
        }
    ).with_columns(updated_at=pl.col("enrolled_at"))  # fmt: skip
    programs = PROGRAMS.with_columns(
        updated_at=pl.col("launched_on").str.to_datetime() - pl.duration(days=30)
    )
    # Reconciliation onboarding (P001) halves exceptions from the month after its window opens.
    onboarded_from_month = np.full(n, MONTHS + 1)
    onboarded_from_month[enrolled_sets[0]] = (
        (en_at[en_prog == 0] + duration(30)).astype("datetime64[M]") - START_MONTH
    ).astype(int) + 1
    return Programs(
        launched=launched,
        enrolled=enrolled_sets,
        onboarded_from_month=onboarded_from_month,
        frames={"crm__program_enrollments": enrollments, "crm__programs": programs},
    )


def engagement_events(
    rng: np.random.Generator, accounts: Accounts, active: AccountMonths, programs: Programs
) -> dict[str, pl.DataFrame]:
    """Logins, feature use, campaign touches, NPS answers... in every active account-month, more
    for engaged (theater) accounts and enterprises. Theater accounts answer NPS as detractors; the
    webinar series (P002) tags its enrolled accounts' webinar and campaign events."""
    ev_acct_cm = active.account
    ev_rate = 6.5 * accounts.engagement[ev_acct_cm] * np.where(accounts.segment[ev_acct_cm] == 2, 1.5, 1.0)
    ev_count = rng.poisson(ev_rate)
    ev_cm = np.repeat(np.arange(len(ev_acct_cm)), ev_count)
    ne = len(ev_cm)
    ev_acct = ev_acct_cm[ev_cm]
    ev_type = pick(rng, EVENT_TYPES, EVENT_WEIGHTS, ne)
    ev_at = np.minimum(
        month_start(active.month[ev_cm]) + duration(rng.uniform(0, 30.9, ne)), END - duration(0.01)
    )
    promoter_bias = np.where(accounts.theater[ev_acct], -2.0, 1.0)
    nps = np.clip(np.rint(rng.normal(7.5 + promoter_bias, 2.0)), 0, 10).astype(np.int64)
    in_program = (
        np.isin(ev_acct, programs.enrolled[1])
        & np.isin(ev_type, ["webinar", "campaign_touch"])
        & (ev_at >= programs.launched[1])
    )
    frame = pl.DataFrame(
        {
            "event_id": ids("V", ne),
            "account_id": accounts.account_id.gather(ev_acct),
            "occurred_at": ev_at,
            "event_type": ev_type,
            "channel": np.select(
                [np.isin(ev_type, ["portal_login", "feature_use", "report_download"]), ev_type == "campaign_touch", ev_type == "qbr_meeting"],
                ["web", "email", "in_person"], "in_app"),
            "feature": only_where(ev_type == "feature_use", pick(rng, np.array(["payouts", "reports", "api_keys", "reconciliation", "disputes"]), [1] * 5, ne)),
            "nps_score": only_where(ev_type == "nps_response", nps),
            "program_id": only_where(in_program, np.full(ne, "P002")),
            "updated_at": ev_at,
        }
    )  # fmt: skip
    return {"crm__engagement_events": frame}
