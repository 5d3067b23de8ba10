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
    repeat_by_kind,
    within_month,
)

PROGRAMS = pl.DataFrame(
    {
        "program_id": ["P001", "P002", "P003", "P004", "P005", "P006", "P007", "P008"],
        "name": [
            "Automated reconciliation onboarding",
            "Executive webinar series",
            "Enterprise QBR program",
            "In-app guidance",
            "Compliance office hours pilot",
            "Seat expansion push",
            "Payments stack migration",
            "Lifecycle email push",
        ],
        "launched_on": [
            "2025-06-02", "2025-02-03", "2026-08-03", "2025-09-01", "2025-04-01", "2025-04-01",
            "2025-05-05", "2026-03-02",
        ],
        "cost_per_enrolled_account_usd": [40.0, 25.0, 300.0, 5.0, 60.0, 30.0, 80.0, 2.0],
        "target_metric": [
            "exception_handling_cost", "revenue", "gross_margin", "cost_to_serve",
            "exception_handling_cost", "mrr", "exception_handling_cost", "engagement_score",
        ],
        "expected_change": [-0.20, 0.10, 0.05, -0.15, -0.20, 0.10, -0.30, 0.15],
        "evaluation_window_days": [60, 90, 120, 60, 60, 30, 30, 30],
        "kill_threshold": [-0.05, 0.03, 0.01, -0.03, -0.05, 0.03, -0.05, 0.05],
        "owner": [
            "ops", "marketing", "customer_success", "product", "compliance", "sales", "solutions",
            "marketing",
        ],
    }
)  # fmt: skip

# What a program does to its enrolled accounts, month by month: (program, effect, first, stop,
# factor, who). Months count from each account's enrollment month, ``first`` included, ``stop``
# excluded (None: for good). ``factor`` multiplies the quantity the effect names: "exceptions"
# (the rate of exception tickets), "seats" (the quantity of the account's subscription lines),
# "billed" (the share of the plan billed; the rest is credited), "organic" (the rate of every
# engagement event but campaign touches and unsubscribes), "touches" (campaign touches). ``who``:
# every enrolled account, only the program's responders, or only the others (see RESPONDERS).
# Programs launched early in a month with a 30-day window are evaluated from month 2 (short
# horizon: months 2-4; long horizon: months 11-13), which is what the phases below aim at.
PROGRAM_EFFECTS = [
    # Reconciliation onboarding pays off from the month after its 60-day window opens.
    ("P001", "exceptions", 2, None, 0.45, "all"),
    # The seat expansion push sells ~35% more seats at once (a short-term reward), but the seats
    # were oversold: the accounts struggle with more exceptions, the responders churn (see
    # PROGRAM_EVENTS) and the others cut back below where they started (a long-term penalty).
    ("P006", "seats", 1, 6, 1.35, "all"),
    ("P006", "seats", 6, None, 0.85, "others"),
    ("P006", "exceptions", 4, None, 1.6, "all"),
    # The payments stack migration costs first: three times the exceptions while it runs and a
    # migration credit of 35% of the plan (a short-term penalty); then half the exceptions of
    # before and 30% more seats for good (a long-term reward).
    ("P007", "billed", 1, 5, 0.65, "all"),
    ("P007", "exceptions", 1, 5, 3.0, "all"),
    ("P007", "exceptions", 6, None, 0.5, "all"),
    ("P007", "seats", 6, None, 1.3, "all"),
    # The lifecycle email push quadruples campaign touches for six months; its responders tune
    # out (organic engagement falls by half) and some unsubscribe: the fatigue story.
    ("P008", "touches", 0, 6, 4.0, "all"),
    ("P008", "organic", 1, None, 0.5, "responders"),
]  # fmt: skip
# One-off consequences: (program, event, first, stop, probability, who): the event happens, with
# that probability, in a month drawn uniformly in [first, stop) from the enrollment month.
# "churn" ends the account's main subscription (sample.billing), "unsubscribe" stops its campaign
# touches (engagement_events).
PROGRAM_EVENTS = [
    ("P006", "churn", 6, 10, 1.0, "responders"),
    ("P008", "unsubscribe", 1, 3, 0.4, "responders"),
]  # fmt: skip
# Share of each program's enrolled accounts that respond the way PROGRAM_EFFECTS and
# PROGRAM_EVENTS say for "responders".
RESPONDERS = {"P006": 0.45, "P008": 0.5}
NEVER = 10**6  # a month index later than any simulated month

ORGANIC_EVENT_TYPES = np.array(
    ["portal_login", "feature_use", "report_download", "webinar", "nps_response", "qbr_meeting"]
)
ORGANIC_EVENT_WEIGHTS = [0.4, 0.3, 0.1, 0.03, 0.03, 0.02]
ORGANIC_EVENTS_PER_MONTH = 5.7  # for an account of engagement 1 (enterprises: 1.5 times that)
# Campaign touches per active month: the newsletter (one a month, two for enterprises), the same
# every month until the account unsubscribes, so that campaign pressure only rises when a push
# adds touches. A few accounts unsubscribe without any push.
NEWSLETTERS_PER_MONTH = np.array([1, 1, 2])
BASELINE_UNSUBSCRIBE_RATE = 0.002  # per active account-month


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
    """Program enrollments and what each program does to its enrolled accounts, by month."""

    launched: np.ndarray  # per program, in PROGRAMS order
    enrolled: list[np.ndarray]  # account indexes enrolled in each program
    # [program, account] -> enrollment month (index from START_MONTH), NEVER when not enrolled.
    # Every per-account array here has one more entry at the end, for account -1 (a billing
    # customer without a CRM account), which no program enrolls.
    enrolled_month: np.ndarray
    responder: np.ndarray  # [program, account] -> responds to the program (RESPONDERS)
    event_months: dict[str, np.ndarray]  # event -> [account] -> its month, NEVER when none
    frames: dict[str, pl.DataFrame]

    def factor(self, effect: str, account: np.ndarray, month: np.ndarray) -> np.ndarray:
        """The product of the PROGRAM_EFFECTS factors of ``effect`` on each (account, month)
        (1 where no program acts); account -1 is no CRM account."""
        result = np.ones(len(account))
        for program, name, first, stop, factor, who in PROGRAM_EFFECTS:
            if name != effect:
                continue
            p = _program_index(program)
            since = month - self.enrolled_month[p][account]
            acts = (
                (since >= first)
                & (since < (NEVER if stop is None else stop))
                & _who(self.responder[p][account], who)
            )
            result = np.where(acts, result * factor, result)
        return result

    def event_month(self, event: str, account: np.ndarray) -> np.ndarray:
        """The month of ``event`` of each account (NEVER when it does not happen)."""
        return self.event_months[event][account]


def _program_index(program_id: str) -> int:
    return PROGRAMS["program_id"].to_list().index(program_id)


def _who(responder: np.ndarray, who: str) -> np.ndarray:
    return {"all": np.ones_like(responder), "responders": responder, "others": ~responder}[who]


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
    """Eight programs and who enrolled, among the accounts that are customers at launch:
    reconciliation onboarding (P001) targets the accounts with the most exceptions and halves
    them; the webinar series (P002, SMB and mid-market) and in-app guidance enrol anyone; the
    enterprise QBR program is too recent to judge; the compliance pilot has only nine accounts.
    The seat expansion push (P006, mid-market), the payments stack migration (P007, SMB) and the
    lifecycle email push (P008) enrol established accounts that are in no other program, so that
    their effects (PROGRAM_EFFECTS, PROGRAM_EVENTS) stand out. A few enrollments point to unknown
    accounts or programs."""
    n, segment, account_id = accounts.n, accounts.segment, accounts.account_id
    launched = PROGRAMS["launched_on"].str.to_date().to_numpy().astype("datetime64[ms]")

    def customers_at_launch(program: str, days: int = 0) -> np.ndarray:
        """Accounts created before the program's launch (at least ``days`` before): a program
        enrolls customers, not accounts that do not exist yet."""
        return accounts.created_at < launched[_program_index(program)] - duration(days)

    top_exceptions = accounts.exceptions > np.quantile(accounts.exceptions, 0.6)
    enterprises = segment == 2
    enrolled_sets = [
        _enroll(rng, np.flatnonzero(top_exceptions & customers_at_launch("P001")), max(12, int(0.06 * n))),
        _enroll(rng, np.flatnonzero((segment < 2) & customers_at_launch("P002")), max(12, int(0.08 * n))),
        _enroll(rng, np.flatnonzero(enterprises & customers_at_launch("P003")), max(12, min(150, int(enterprises.sum() * 0.15)))),
        _enroll(rng, np.flatnonzero(customers_at_launch("P004")), max(12, int(0.05 * n))),
        _enroll(rng, np.flatnonzero(customers_at_launch("P005")), 9),
    ]  # fmt: skip
    # The later programs: a share of their segments' accounts that have been customers for a
    # quarter at launch and that no earlier program enrolled.
    for program, segments, share in (("P006", [1], 0.25), ("P007", [0], 0.15), ("P008", [0, 1, 2], 0.25)):
        taken = np.zeros(n, bool)
        taken[np.concatenate(enrolled_sets)] = True
        pool = np.flatnonzero(np.isin(segment, segments) & customers_at_launch(program, 90) & ~taken)
        enrolled_sets.append(_enroll(rng, pool, int(share * len(pool))))
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
    n_programs = PROGRAMS.height
    enrolled_month = np.full((n_programs, n + 1), NEVER)
    enrolled_month[en_prog, en_acct] = (en_at.astype("datetime64[M]") - START_MONTH).astype(int)
    responder = np.zeros((n_programs, n + 1), bool)
    for program, share in RESPONDERS.items():
        p = _program_index(program)
        responder[p] = (enrolled_month[p] < NEVER) & (rng.random(n + 1) < share)
    event_months: dict[str, np.ndarray] = {}
    for program, event, first, stop, probability, who in PROGRAM_EVENTS:
        p = _program_index(program)
        happens = (enrolled_month[p] < NEVER) & _who(responder[p], who) & (rng.random(n + 1) < probability)
        month = np.where(happens, enrolled_month[p] + rng.integers(first, stop, n + 1), NEVER)
        event_months[event] = np.minimum(event_months.get(event, NEVER), month)
    return Programs(
        launched=launched,
        enrolled=enrolled_sets,
        enrolled_month=enrolled_month,
        responder=responder,
        event_months=event_months,
        frames={"crm__program_enrollments": enrollments, "crm__programs": programs},
    )


def engagement_events(
    rng: np.random.Generator, accounts: Accounts, active: AccountMonths, programs: Programs
) -> dict[str, pl.DataFrame]:
    """Engagement in every active account-month. Organic events (logins, feature use, webinars,
    NPS answers...): more for engaged (theater) accounts and enterprises, fewer for the accounts a
    program tired ("organic" in PROGRAM_EFFECTS). Campaign touches: the newsletter, the same every
    month so that campaign pressure rises only under a push ("touches"), and none after the
    account unsubscribes (a push's responders, and a few accounts without any push). Theater
    accounts answer NPS as detractors; the webinar series (P002) tags its enrolled accounts'
    webinar and campaign events, the email push (P008) the touches it adds."""
    acct, month = active.account, active.month
    segment = accounts.segment[acct]
    organic_rate = (
        ORGANIC_EVENTS_PER_MONTH * accounts.engagement[acct] * np.where(segment == 2, 1.5, 1.0)
        * programs.factor("organic", acct, month)
    )  # fmt: skip
    unsubscribed_in = programs.event_month("unsubscribe", np.arange(accounts.n))
    baseline = rng.random(len(acct)) < BASELINE_UNSUBSCRIBE_RATE
    np.minimum.at(unsubscribed_in, acct[baseline], month[baseline])
    newsletter = np.where(month <= unsubscribed_in[acct], NEWSLETTERS_PER_MONTH[segment], 0)
    ev_cm, kind = repeat_by_kind(
        [
            rng.poisson(organic_rate),
            newsletter,
            rng.poisson(newsletter * (programs.factor("touches", acct, month) - 1)),  # the push
            (month == unsubscribed_in[acct]).astype(int),
        ]
    )
    ne = len(ev_cm)
    ev_acct = acct[ev_cm]
    ev_type = np.concatenate(
        [
            pick(rng, ORGANIC_EVENT_TYPES, ORGANIC_EVENT_WEIGHTS, (kind == 0).sum()),
            np.full(np.isin(kind, [1, 2]).sum(), "campaign_touch"),
            np.full((kind == 3).sum(), "unsubscribe"),
        ]
    )  # kind by kind, as the rows are
    ev_at = within_month(rng, month[ev_cm])
    promoter_bias = np.where(accounts.theater[ev_acct], -2.0, 1.0)
    nps = np.clip(np.rint(rng.normal(7.5 + promoter_bias, 2.0)), 0, 10).astype(np.int64)
    webinar_series = (
        np.isin(ev_acct, programs.enrolled[1])
        & np.isin(ev_type, ["webinar", "campaign_touch"])
        & (ev_at >= programs.launched[1])
    )
    push = kind == 2
    frame = pl.DataFrame(
        {
            "event_id": ids("V", ne),
            "account_id": accounts.account_id.gather(ev_acct),
            "occurred_at": ev_at,
            "event_type": ev_type,
            "channel": np.select(
                [np.isin(ev_type, ["portal_login", "feature_use", "report_download"]), np.isin(ev_type, ["campaign_touch", "unsubscribe"]), ev_type == "qbr_meeting"],
                ["web", "email", "in_person"], "in_app"),
            "feature": only_where(ev_type == "feature_use", pick(rng, np.array(["payouts", "reports", "api_keys", "reconciliation", "disputes"]), [1] * 5, ne)),
            "nps_score": only_where(ev_type == "nps_response", nps),
            "program_id": only_where(push | webinar_series, np.where(push, "P008", "P002")),
            "updated_at": ev_at,
        }
    )  # fmt: skip
    return {"crm__engagement_events": frame}
