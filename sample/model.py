"""A vectorised simulation of a payments platform's customers: the sample extracts' content.

Everything is drawn with numpy over whole arrays (accounts, subscriptions, billing periods,
account-months), never row by row, so scale 10 (about 100k accounts, 20M transactions) takes
minutes. Each function returns polars frames with the contract's columns (final state of every
entity plus, for entities that change, their earlier versions: see ``versions``).

The story the data tells: a few percent of accounts are "engagement theater" (very engaged and
very expensive to serve through exceptions); the reconciliation onboarding program halves the
exceptions of its enrolled accounts; the webinar series changes nothing; the enterprise QBR
program is too recent to judge; a pilot has only nine accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.contract import EXCEPTION_CATEGORIES

START_MONTH = np.datetime64("2024-11", "M")
MONTHS = 24
END = np.datetime64("2026-11-01", "ms")  # exclusive: the data runs through 2026-10-31
ACCOUNTS_PER_SCALE = 10_000

COUNTRIES = np.array(["US", "GB", "DE", "FR", "JP", "KR", "SG", "AU", "IN"])
COUNTRY_WEIGHTS = np.array([0.45, 0.08, 0.10, 0.07, 0.08, 0.06, 0.05, 0.06, 0.05])
COUNTRY_CURRENCY = {
    "US": "USD", "GB": "USD", "DE": "EUR", "FR": "EUR", "JP": "JPY",
    "KR": "KRW", "SG": "SGD", "AU": "AUD", "IN": "INR",
}  # fmt: skip
CURRENCY_EXPONENT = {"USD": 2, "EUR": 2, "SGD": 2, "AUD": 2, "INR": 2, "JPY": 0, "KRW": 0}
# Starting units per USD of the simulated FX walk.
FX_START = {"EUR": 0.92, "JPY": 150.0, "KRW": 1350.0, "SGD": 1.34, "AUD": 1.52, "INR": 83.5}

SEGMENTS = np.array(["smb", "mid_market", "enterprise"])
SEGMENT_WEIGHTS = np.array([0.6, 0.3, 0.1])
PLAN_USD_PER_MONTH = np.array([150.0, 1_200.0, 8_000.0])  # median list price by segment
TX_PER_MONTH = np.array([4.0, 12.0, 40.0])
TX_MEDIAN_USD = np.array([80.0, 400.0, 2_500.0])
TICKETS_PER_MONTH = np.array([0.3, 0.8, 2.0])
INTERVALS = np.array(["month", "quarter", "year"])
INTERVAL_MONTHS = np.array([1, 3, 12])

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


@dataclass
class Sample:
    """All generated frames, keyed by ``<source>__<table>``."""

    frames: dict[str, pl.DataFrame]


def _month_start(month_index: np.ndarray) -> np.ndarray:
    return (START_MONTH + month_index).astype("datetime64[D]").astype("datetime64[ms]")


def _ids(prefix: str, n: int, offset: int = 0) -> pl.Series:
    return pl.Series(np.arange(offset, offset + n)).cast(pl.String).str.zfill(8).str.replace("^", prefix)


def _pick(rng: np.random.Generator, values: np.ndarray, weights, n: int) -> np.ndarray:
    return values[rng.choice(len(values), size=n, p=np.asarray(weights) / np.sum(weights))]


def _seconds(days: np.ndarray) -> np.ndarray:
    """A duration of ``days`` (fractional), truncated to whole seconds."""
    return (np.asarray(days) * 86_400).astype(np.int64).astype("timedelta64[s]").astype("timedelta64[ms]")


def _where(mask: np.ndarray, values: np.ndarray) -> pl.Series:
    """``values`` where ``mask`` holds, NULL elsewhere (keeps the values' type)."""
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(pl.lit(pl.Series(values)))).to_series()


def _add_months(day: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar-month arithmetic on dates whose day of month is at most 28."""
    d = day.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    offset = d - month.astype("datetime64[D]")
    return ((month + months).astype("datetime64[D]") + offset).astype("datetime64[ms]")


def fx_walk(rng: np.random.Generator) -> pl.DataFrame:
    """Weekday FX rates (weekends are gaps) from two months before the data starts."""
    days = np.arange(np.datetime64("2024-09-02"), END.astype("datetime64[D]"))
    weekdays = days[((days.astype("datetime64[D]").view("int64") - 4) % 7) < 5]
    frames = []
    for currency, start in FX_START.items():
        steps = rng.normal(0, 0.004, size=len(weekdays))
        frames.append(
            pl.DataFrame(
                {
                    "rate_date": weekdays.astype("datetime64[D]"),
                    "currency": currency,
                    "units_per_usd": start * np.exp(np.cumsum(steps)),
                }
            )
        )
    return pl.concat(frames)


def simulate(scale: float, seed: int) -> Sample:
    rng = np.random.default_rng(seed)
    n = max(50, int(ACCOUNTS_PER_SCALE * scale))
    f: dict[str, pl.DataFrame] = {}

    # --- accounts ------------------------------------------------------------------------
    segment = rng.choice(3, size=n, p=SEGMENT_WEIGHTS)
    country = _pick(rng, COUNTRIES, COUNTRY_WEIGHTS, n)
    theater = rng.random(n) < 0.08
    engagement = rng.lognormal(0, 0.5, n) * np.where(theater, 3.0, 1.0)
    exceptions = rng.lognormal(0, 0.6, n) * np.where(theater, 4.0, 1.0)
    risk = np.where(
        theater, _pick(rng, np.array(["medium", "high"]), [1, 1], n),
        _pick(rng, np.array(["low", "medium", "high"]), [0.5, 0.35, 0.15], n),
    )  # fmt: skip
    created_days = rng.integers(-365, MONTHS * 30 - 60, size=n)
    created_at = _month_start(np.zeros(n, int)) + _seconds(created_days + rng.random(n))
    account_id = _ids("A", n)
    deleted = rng.random(n) < 0.005
    f["crm__accounts"] = pl.DataFrame(
        {
            "account_id": account_id,
            "account_name": pl.Series(np.arange(n)).cast(pl.String).str.replace("^", "Account "),
            "industry": _where(
                rng.random(n) >= 0.05,
                _pick(rng, np.array(["fintech", "retail", "saas", "travel", "marketplace"]), [5, 5, 4, 2, 3], n),
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
    change_at = np.maximum(created_at, END - _seconds(rng.uniform(0.1, 40, n)))
    f["crm__accounts__versions"] = (
        f["crm__accounts"]
        .filter(pl.Series(changed))
        .with_columns(
            risk_tier=pl.lit("high"),
            is_deleted=pl.Series(deleted[changed]),
            updated_at=pl.Series(change_at[changed]),
        )
    )

    contacts_per = rng.integers(1, 5, n)
    contact_account = np.repeat(np.arange(n), contacts_per)
    m = len(contact_account)
    contact_at = created_at[contact_account] + _seconds(rng.uniform(0, 30, m))
    f["crm__contacts"] = pl.DataFrame(
        {
            "contact_id": _ids("K", m),
            "account_id": account_id.gather(contact_account),
            "full_name": pl.Series(np.arange(m)).cast(pl.String).str.replace("^", "Person "),
            "email": pl.Series(np.arange(m)).cast(pl.String).str.replace("^(.*)$", "p$1@example.org"),
            "phone": pl.Series(rng.integers(1_000_000, 9_999_999, m)).cast(pl.String).str.replace("^", "+1-555-"),
            "is_deleted": rng.random(m) < 0.01,
            "updated_at": contact_at,
        }
    )  # fmt: skip

    # --- billing customers: one per account, some unlinked ----------------------------------
    has_customer = rng.random(n) < 0.98
    cust_account = np.flatnonzero(has_customer)
    n_unlinked = max(3, int(0.015 * n))
    nc = len(cust_account) + n_unlinked
    # Unlinked customers: every other one has no CRM link, the rest point to unknown accounts.
    link = _where(
        np.concatenate([np.ones(len(cust_account), bool), np.arange(n_unlinked) % 2 == 0]),
        np.concatenate([account_id.gather(cust_account).to_numpy(), [f"A9{i:07d}" for i in range(n_unlinked)]]),
    )  # fmt: skip
    cust_country = np.concatenate([country[cust_account], _pick(rng, COUNTRIES, COUNTRY_WEIGHTS, n_unlinked)])
    cust_segment = np.concatenate([segment[cust_account], np.zeros(n_unlinked, int)])
    cust_currency = np.vectorize(COUNTRY_CURRENCY.get)(cust_country)
    cust_created = np.concatenate(
        [created_at[cust_account], _month_start(rng.integers(0, MONTHS - 3, n_unlinked))]
    ) + _seconds(rng.uniform(0, 3, nc))
    cust_theater = np.concatenate([theater[cust_account], np.zeros(n_unlinked, bool)])
    cust_risk = np.concatenate([risk[cust_account], np.full(n_unlinked, "medium")])
    customer_id = _ids("C", nc)
    f["billing__customers"] = pl.DataFrame(
        {
            "customer_id": customer_id,
            "crm_account_id": link,
            "currency": cust_currency,
            "email": customer_id.str.replace("^(.*)$", "billing+$1@example.com"),
            "created_at": cust_created,
            "updated_at": cust_created,
        }
    )
    cust_account_full = np.concatenate([cust_account, np.full(n_unlinked, -1)])

    # --- subscriptions: main plan, churn and reactivation, add-ons -------------------------
    fx_nominal = np.vectorize(lambda c: FX_START.get(c, 1.0) * 10 ** CURRENCY_EXPONENT[c])
    cust_minor_per_usd = fx_nominal(cust_currency)
    hazard = np.select([cust_risk == "low", cust_risk == "medium"], [0.012, 0.02], 0.035)
    anchor = np.maximum(cust_created, _month_start(np.zeros(nc, int)) - _seconds(200))
    anchor_day = anchor.astype("datetime64[D]")
    anchor_day = anchor_day - (
        (anchor_day - anchor_day.astype("datetime64[M]").astype("datetime64[D]")).astype(int) // 28 * 3
    ).astype("timedelta64[D]")  # keep day of month <= 28 so month arithmetic stays exact
    interval = rng.choice(3, size=nc, p=[0.7, 0.15, 0.15])
    lifetime = rng.geometric(hazard)  # months until churn
    price = PLAN_USD_PER_MONTH[cust_segment] * rng.lognormal(0, 0.35, nc)
    reactivates = rng.random(nc) < 0.35
    gap = rng.integers(2, 9, nc)

    sub_cust = np.concatenate(
        [np.arange(nc), np.arange(nc)[reactivates], np.arange(nc)[rng.random(nc) < 0.06]]
    )
    kind = np.concatenate(
        [
            np.zeros(nc, int),
            np.ones(reactivates.sum(), int),
            np.full(len(sub_cust) - nc - reactivates.sum(), 2),
        ]
    )
    ns = len(sub_cust)
    first_end_months = lifetime + (-lifetime) % INTERVAL_MONTHS[interval]  # whole billing periods
    sub_interval = np.where(kind == 2, 0, interval[sub_cust])
    sub_start = np.where(
        kind == 0, 0, np.where(kind == 1, first_end_months[sub_cust] + gap[sub_cust], rng.integers(2, 12, ns))
    )
    sub_months = np.where(
        kind == 1,
        rng.geometric(hazard[sub_cust]) * 2,
        np.where(kind == 2, rng.integers(3, 30, ns), first_end_months[sub_cust]),
    )
    sub_months = sub_months + (-sub_months) % INTERVAL_MONTHS[sub_interval]
    sub_started_at = _add_months(anchor_day[sub_cust], sub_start) + _seconds(rng.uniform(0, 0.2, ns))
    sub_ended_at = _add_months(anchor_day[sub_cust], sub_start + sub_months)
    sub_price = np.where(kind == 2, 0.2, 1.0) * price[sub_cust]
    keep = sub_started_at < END - _seconds(2)
    sub_cust, kind, sub_interval, sub_started_at, sub_ended_at, sub_price, sub_months = (
        a[keep] for a in (sub_cust, kind, sub_interval, sub_started_at, sub_ended_at, sub_price, sub_months)
    )
    ns = len(sub_cust)
    canceled = sub_ended_at < END
    subscription_id = _ids("S", ns)
    sub_segment = cust_segment[sub_cust]
    f["billing__subscriptions"] = pl.DataFrame(
        {
            "subscription_id": subscription_id,
            "customer_id": customer_id.gather(sub_cust),
            "plan_id": pl.Series(SEGMENTS[sub_segment]) + "_" + pl.Series(INTERVALS[sub_interval]) + np.where(kind == 2, "_addon", ""),
            "status": np.where(canceled, "canceled", "active"),
            "billing_interval": INTERVALS[sub_interval],
            "started_at": sub_started_at,
            "canceled_at": pl.Series(np.where(canceled, sub_ended_at, np.datetime64("NaT"))),
            "updated_at": np.where(canceled, sub_ended_at, sub_started_at),
        }
    )  # fmt: skip
    f["billing__subscriptions__versions"] = (
        f["billing__subscriptions"].filter(pl.Series(canceled)).with_columns(
            status=pl.lit("active"), canceled_at=pl.lit(None, pl.Datetime("us")),
            updated_at=pl.col("started_at"),
        )
    )  # fmt: skip

    # --- invoices: one per billing period ---------------------------------------------------
    periods = sub_months // INTERVAL_MONTHS[sub_interval]
    inv_sub = np.repeat(np.arange(ns), periods)
    k = np.arange(len(inv_sub)) - np.repeat(np.cumsum(periods) - periods, periods)
    step = INTERVAL_MONTHS[sub_interval][inv_sub]
    period_start = _add_months(sub_started_at[inv_sub].astype("datetime64[D]"), k * step)
    period_end = _add_months(period_start, step)
    in_range = (period_start >= _month_start(np.zeros(1, int))[0] - _seconds(1)) & (period_start < END)
    inv_sub, k, step, period_start, period_end = (
        a[in_range] for a in (inv_sub, k, step, period_start, period_end)
    )
    ni = len(inv_sub)
    inv_cust = sub_cust[inv_sub]
    inv_currency = cust_currency[inv_cust]
    minor = cust_minor_per_usd[inv_cust]
    created = period_start + _seconds(rng.uniform(0, 0.25, ni))
    upgraded = (rng.random(ns) < 0.15)[inv_sub] & (k >= 4)
    plan_amount = np.rint(sub_price[inv_sub] * step * minor * np.where(upgraded, 1.5, 1.0)).astype(np.int64)
    segment_pay_days = np.array([5.0, 15.0, 30.0])[cust_segment[inv_cust]]
    paid_at = created + _seconds(rng.exponential(segment_pay_days))
    roll = rng.random(ni)
    uncollectible = roll < np.where(cust_risk[inv_cust] == "high", 0.04, 0.01)
    void = (roll >= 0.98) & (roll < 0.99)
    draft = (created > END - _seconds(7)) & (rng.random(ni) < 0.5)  # not yet finalised
    written_off_at = created + _seconds(60)
    status = np.select(
        [draft, void, uncollectible & (written_off_at < END), uncollectible, paid_at < END],
        ["draft", "void", "uncollectible", "open", "paid"], "open",
    )  # fmt: skip
    invoice_id = _ids("I", ni)

    # line items: subscription, usage, discount, credit, one-time setup, proration
    def lines(mask, kind_, amount, start, end, proration, desc):
        idx = np.flatnonzero(mask)
        return pl.DataFrame(
            {
                "inv": idx, "type": kind_, "amount": np.asarray(amount)[idx].astype(np.int64),
                "period_start": np.asarray(start)[idx].astype("datetime64[D]"),
                "period_end": np.asarray(end)[idx].astype("datetime64[D]"),
                "proration": proration, "description": desc,
            }
        )  # fmt: skip

    usage = np.rint(plan_amount / step * rng.uniform(0.05, 0.6, ni)).astype(np.int64)
    discounted = (rng.random(ns) < 0.10)[inv_sub]
    first_invoice = k == 0
    proration_amount = np.rint(plan_amount / 3 * (1 / 3) * rng.uniform(0.3, 1.0, ni)).astype(np.int64)
    proration_start = period_start - _seconds(rng.integers(3, 25, ni))
    line_frames = [
        lines(np.ones(ni, bool), "subscription", plan_amount, period_start, period_end, False, "plan"),
        lines((step == 1) & (rng.random(ni) < 0.6), "usage", usage, _add_months(period_start, -np.ones(ni, int)), period_start, False, "metered usage"),
        lines(discounted, "discount", -np.rint(plan_amount * 0.1), period_start, period_end, False, "10% discount"),
        lines(rng.random(ni) < 0.02, "credit", -np.rint(plan_amount * 0.05), period_start, period_start, False, "service credit"),
        lines(first_invoice & (rng.random(ni) < 0.5), "one_time", np.rint(plan_amount * 0.5 / step), period_start, period_start, False, "setup fee"),
        lines(upgraded & (k == 4), "subscription", proration_amount, proration_start, period_start, True, "upgrade proration"),
    ]  # fmt: skip
    line = pl.concat(line_frames).sort("inv", maintain_order=True)
    amount_due = line.group_by("inv").agg(pl.col("amount").sum()).sort("inv")["amount"].to_numpy()
    amount_due = np.maximum(amount_due, 0)
    inv_updated = np.select([status == "paid", status == "uncollectible"], [paid_at, written_off_at], created)
    f["billing__invoices"] = pl.DataFrame(
        {
            "invoice_id": invoice_id,
            "customer_id": customer_id.gather(inv_cust),
            "subscription_id": subscription_id.gather(inv_sub),
            "status": status,
            "currency": inv_currency,
            "amount_due": amount_due,
            "amount_paid": np.where(status == "paid", amount_due, 0),
            "created_at": created,
            "due_at": created + _seconds(30),
            "paid_at": pl.Series(np.where(status == "paid", paid_at, np.datetime64("NaT"))),
            "updated_at": inv_updated,
        }
    )
    f["billing__invoices__versions"] = (
        f["billing__invoices"].filter(pl.Series(np.isin(status, ["paid", "uncollectible"])))
        .with_columns(status=pl.lit("open"), amount_paid=0, paid_at=pl.lit(None, pl.Datetime("us")), updated_at=pl.col("created_at"))
    )  # fmt: skip
    f["billing__invoice_line_items"] = line.with_columns(
        line_item_id=_ids("L", line.height),
        invoice_id=invoice_id.gather(line["inv"]),
        currency=pl.Series(inv_currency[line["inv"].to_numpy()]),
        updated_at=pl.Series(created[line["inv"].to_numpy()]),
    ).select("line_item_id", "invoice_id", "type", "amount", "currency", "period_start", "period_end", "proration", "description", "updated_at")  # fmt: skip

    # --- charges: collection of invoices ----------------------------------------------------
    paid_idx = np.flatnonzero(status == "paid")
    failed_idx = np.flatnonzero((status == "uncollectible") | ((status == "paid") & (rng.random(ni) < 0.08)))
    refunded = rng.random(len(paid_idx)) < 0.005
    ch_inv = np.concatenate([paid_idx, failed_idx])
    ch_at = np.concatenate(
        [paid_at[paid_idx], created[failed_idx] + _seconds(rng.uniform(0.5, 2, len(failed_idx)))]
    )
    ch_amount = amount_due[ch_inv]
    ch_status = np.concatenate(
        [np.where(refunded, "refunded", "succeeded"), np.full(len(failed_idx), "failed")]
    )
    fee = np.where(ch_status == "failed", 0, np.rint(ch_amount * 0.029 + 0.3 * minor[ch_inv] / 100))
    f["billing__charges"] = pl.DataFrame(
        {
            "charge_id": _ids("H", len(ch_inv)),
            "invoice_id": invoice_id.gather(ch_inv),
            "customer_id": customer_id.gather(inv_cust[ch_inv]),
            "created_at": ch_at,
            "amount": ch_amount,
            "fee": fee.astype(np.int64),
            "currency": inv_currency[ch_inv],
            "status": ch_status,
            "updated_at": ch_at,
        }
    )  # fmt: skip

    # --- active customer-months drive transactions, tickets and engagement ----------------
    main = kind != 2
    first_m = ((sub_started_at[main].astype("datetime64[M]") - START_MONTH).astype(int)).clip(0, MONTHS)
    last_m = ((sub_ended_at[main].astype("datetime64[M]") - START_MONTH).astype(int)).clip(-1, MONTHS - 1)
    span = np.maximum(last_m - first_m + 1, 0)
    cm_sub = np.repeat(np.arange(main.sum()), span)
    cm_month = first_m[cm_sub] + np.arange(len(cm_sub)) - np.repeat(np.cumsum(span) - span, span)
    cm_cust = sub_cust[main][cm_sub]

    # transactions
    tx_rate = TX_PER_MONTH[cust_segment[cm_cust]] * rng.lognormal(0, 0.3, len(cm_cust))
    tx_count = rng.poisson(tx_rate)
    tx_cm = np.repeat(np.arange(len(cm_cust)), tx_count)
    nt = len(tx_cm)
    tx_cust = cm_cust[tx_cm]
    tx_at = _month_start(cm_month[tx_cm]) + _seconds(rng.uniform(0, 28, nt))
    tx_at = np.minimum(tx_at, END - _seconds(0.01))
    tx_amount = np.rint(
        TX_MEDIAN_USD[cust_segment[tx_cust]] * rng.lognormal(0, 0.8, nt) * cust_minor_per_usd[tx_cust]
    ).astype(np.int64)
    dispute_boost = np.where(cust_theater[tx_cust], 4.0, 1.0)
    u = rng.random(nt)
    tx_status = np.select(
        [u < 0.025, u < 0.043, u < 0.043 + 0.007 * dispute_boost], ["failed", "refunded", "disputed"], "settled"
    )  # fmt: skip
    f["billing__transactions"] = pl.DataFrame(
        {
            "transaction_id": _ids("T", nt),
            "customer_id": customer_id.gather(tx_cust),
            "occurred_at": tx_at,
            "status": tx_status,
            "amount": tx_amount,
            "currency": cust_currency[tx_cust],
            "processing_cost": np.rint(tx_amount * rng.uniform(0.012, 0.022, nt)).astype(np.int64),
            "updated_at": tx_at,
        }
    )

    # --- programs and enrollments -----------------------------------------------------------
    launched = PROGRAMS["launched_on"].str.to_date().to_numpy().astype("datetime64[ms]")
    top_exceptions = np.flatnonzero(exceptions > np.quantile(exceptions, 0.6))

    def enroll(pool: np.ndarray, size: int) -> np.ndarray:
        return rng.choice(pool, size=min(len(pool), size), replace=False)

    everyone = np.arange(n)
    enrolled_sets = [
        enroll(top_exceptions, max(12, int(0.06 * n))),
        enroll(everyone, max(12, int(0.08 * n))),
        enroll(np.flatnonzero(segment == 2), max(12, min(150, int((segment == 2).sum() * 0.15)))),
        enroll(everyone, max(12, int(0.05 * n))),
        enroll(everyone, 9),
    ]
    en_prog = np.concatenate([np.full(len(s), i) for i, s in enumerate(enrolled_sets)])
    en_acct = np.concatenate(enrolled_sets)
    en_at = launched[en_prog] + _seconds(rng.uniform(0, 20, len(en_prog)))
    en_ids = np.concatenate(
        [account_id.gather(en_acct).to_numpy(), ["A99000001", "A99000002"], ["A00000000"]]
    )
    f["crm__program_enrollments"] = pl.DataFrame(
        {
            "program_id": np.concatenate([PROGRAMS["program_id"].to_numpy()[en_prog], ["P001", "P002"], ["P999"]]),
            "account_id": en_ids,
            "enrolled_at": np.concatenate([en_at, launched[[0, 1]], launched[[0]]]),
        }
    ).with_columns(updated_at=pl.col("enrolled_at"))  # fmt: skip
    f["crm__programs"] = PROGRAMS.with_columns(
        updated_at=pl.col("launched_on").str.to_datetime() - pl.duration(days=30)
    )
    # Reconciliation onboarding (P001) halves exceptions from the month after its window opens.
    p001_month = np.full(n, MONTHS + 1)
    p001_month[enrolled_sets[0]] = (
        (en_at[en_prog == 0] + _seconds(30)).astype("datetime64[M]") - START_MONTH
    ).astype(int) + 1

    # --- support: organizations, tickets, time entries --------------------------------------
    has_org = rng.random(n) < 0.97
    org_account = np.flatnonzero(has_org)
    n_orphan_orgs = max(2, int(0.005 * n))
    no = len(org_account) + n_orphan_orgs
    external = _where(
        np.concatenate([rng.random(len(org_account)) >= 0.03, np.ones(n_orphan_orgs, bool)]),
        np.concatenate([account_id.gather(org_account).to_numpy(), [f"A98{i:06d}" for i in range(n_orphan_orgs)]]),
    )  # fmt: skip
    organization_id = _ids("O", no)
    f["support__organizations"] = pl.DataFrame(
        {
            "organization_id": organization_id,
            "name": organization_id.str.replace("^", "Org "),
            "external_id": external,
            "updated_at": np.concatenate([created_at[org_account], _month_start(np.zeros(n_orphan_orgs, int))]),
        }
    )  # fmt: skip
    org_of_account = np.full(n, -1)
    org_of_account[org_account] = np.arange(len(org_account))

    linked = cm_cust < len(cust_account)
    tk_acct_cm = cust_account_full[cm_cust[linked]]
    tk_month = cm_month[linked]
    exc_now = exceptions[tk_acct_cm] * np.where(tk_month >= p001_month[tk_acct_cm], 0.45, 1.0)
    base_rate = TICKETS_PER_MONTH[segment[tk_acct_cm]]
    exc_count = rng.poisson(base_rate * 0.25 * exc_now)
    other_count = rng.poisson(base_rate * 0.75 * np.sqrt(engagement[tk_acct_cm]))
    t_cm = np.concatenate(
        [np.repeat(np.arange(len(tk_acct_cm)), exc_count), np.repeat(np.arange(len(tk_acct_cm)), other_count)]
    )
    is_exc = np.concatenate([np.ones(exc_count.sum(), bool), np.zeros(other_count.sum(), bool)])
    nk = len(t_cm)
    t_acct = tk_acct_cm[t_cm]
    category = np.where(
        is_exc,
        _pick(rng, np.array(EXCEPTION_CATEGORIES), [0.35, 0.2, 0.2, 0.1, 0.15], nk),
        _pick(rng, np.array(["how_to", "bug", "billing_question"]), [0.5, 0.3, 0.2], nk),
    )  # fmt: skip
    t_created = np.minimum(
        _month_start(tk_month[t_cm]) + _seconds(rng.uniform(0, 30.9, nk)), END - _seconds(0.01)
    )
    solved_at = t_created + _seconds(rng.exponential(2.0, nk))
    t_solved = solved_at < END
    t_has_org = (org_of_account[t_acct] >= 0) & (rng.random(nk) >= 0.01)
    t_org_id = _where(t_has_org, organization_id.to_numpy()[np.maximum(org_of_account[t_acct], 0)])
    ticket_id = _ids("Z", nk)
    t_status = np.where(
        t_solved,
        np.where(rng.random(nk) < 0.1, "closed", "solved"),
        _pick(rng, np.array(["new", "open", "pending"]), [1, 2, 1], nk),
    )
    f["support__tickets"] = pl.DataFrame(
        {
            "ticket_id": ticket_id,
            "organization_id": t_org_id,
            "requester_email": pl.Series(rng.integers(0, 10**6, nk)).cast(pl.String).str.replace("^(.*)$", "user$1@customer.example"),
            "created_at": t_created,
            "solved_at": pl.Series(np.where(t_solved, solved_at, np.datetime64("NaT"))),
            "status": t_status,
            "priority": _pick(rng, np.array(["low", "normal", "high", "urgent"]), [0.2, 0.5, 0.2, 0.1], nk),
            "channel": _pick(rng, np.array(["email", "web", "chat", "phone", "api"]), [0.35, 0.25, 0.2, 0.1, 0.1], nk),
            "category": category,
            "reopens": rng.poisson(0.2, nk),
            "csat": _where(t_solved & (rng.random(nk) < 0.4), rng.integers(1, 6, nk)),
            "updated_at": np.where(t_solved, solved_at, t_created),
        }
    )  # fmt: skip
    f["support__tickets__versions"] = (
        f["support__tickets"].filter(pl.Series(t_solved)).with_columns(
            status=pl.lit("open"), solved_at=pl.lit(None, pl.Datetime("us")), csat=pl.lit(None, pl.Int64), updated_at=pl.col("created_at")
        )
    )  # fmt: skip

    per_ticket = 1 + rng.poisson(np.where(is_exc, 2.2, 1.2))
    te_t = np.repeat(np.arange(nk), per_ticket)
    nte = len(te_t)
    te_cat = category[te_t]
    te_tier = np.where(
        te_cat == "compliance_query",
        "compliance",
        np.where(is_exc[te_t] | (rng.random(nte) < 0.2), "l2", "l1"),
    )
    logged = np.minimum(t_created[te_t] + _seconds(rng.exponential(1.5, nte)), END - _seconds(0.01))
    f["support__time_entries"] = pl.DataFrame(
        {
            "time_entry_id": _ids("E", nte),
            "ticket_id": ticket_id.gather(te_t),
            "agent_id": pl.Series(rng.integers(1, 60, nte)).cast(pl.String).str.replace("^", "agent-"),
            "agent_tier": te_tier,
            "minutes": np.round(rng.lognormal(np.where(is_exc[te_t], 3.5, 2.6), 0.6), 1),
            "logged_at": logged,
            "updated_at": logged,
        }
    )  # fmt: skip

    # --- engagement events ------------------------------------------------------------------
    ev_acct_cm = tk_acct_cm
    ev_rate = 6.5 * engagement[ev_acct_cm] * np.where(segment[ev_acct_cm] == 2, 1.5, 1.0)
    ev_count = rng.poisson(ev_rate)
    ev_cm = np.repeat(np.arange(len(ev_acct_cm)), ev_count)
    ne = len(ev_cm)
    ev_acct = ev_acct_cm[ev_cm]
    ev_type = _pick(
        rng,
        np.array(
            [
                "portal_login",
                "feature_use",
                "report_download",
                "campaign_touch",
                "webinar",
                "nps_response",
                "qbr_meeting",
            ]
        ),
        [0.4, 0.3, 0.1, 0.12, 0.03, 0.03, 0.02],
        ne,
    )
    ev_at = np.minimum(
        _month_start(tk_month[ev_cm]) + _seconds(rng.uniform(0, 30.9, ne)), END - _seconds(0.01)
    )
    promoter_bias = np.where(theater[ev_acct], -2.0, 1.0)
    nps = np.clip(np.rint(rng.normal(7.5 + promoter_bias, 2.0)), 0, 10).astype(np.int64)
    in_program = (
        np.isin(ev_acct, enrolled_sets[1])
        & np.isin(ev_type, ["webinar", "campaign_touch"])
        & (ev_at >= launched[1])
    )
    f["crm__engagement_events"] = pl.DataFrame(
        {
            "event_id": _ids("V", ne),
            "account_id": account_id.gather(ev_acct),
            "occurred_at": ev_at,
            "event_type": ev_type,
            "channel": np.select(
                [np.isin(ev_type, ["portal_login", "feature_use", "report_download"]), ev_type == "campaign_touch", ev_type == "qbr_meeting"],
                ["web", "email", "in_person"], "in_app"),
            "feature": _where(ev_type == "feature_use", _pick(rng, np.array(["payouts", "reports", "api_keys", "reconciliation", "disputes"]), [1] * 5, ne)),
            "nps_score": _where(ev_type == "nps_response", nps),
            "program_id": _where(in_program, np.full(ne, "P002")),
            "updated_at": ev_at,
        }
    )  # fmt: skip

    # --- finance reference data ---------------------------------------------------------------
    f["finance__currencies"] = pl.DataFrame(
        {"currency": list(CURRENCY_EXPONENT), "minor_unit_exponent": list(CURRENCY_EXPONENT.values())}
    )
    f["finance__fx_rates"] = fx_walk(rng)
    f["finance__agent_costs"] = pl.DataFrame(
        {
            "agent_tier": ["l1", "l1", "l2", "l2", "compliance", "compliance"],
            "effective_from": ["2024-01-01", "2025-07-16", "2024-01-01", "2025-07-16", "2024-01-01", "2026-01-01"],
            "hourly_cost_usd": [38.0, 41.5, 55.0, 60.0, 85.0, 92.0],
        }
    )  # fmt: skip
    f["finance__exception_unit_costs"] = pl.DataFrame(
        {
            "category": ["reconciliation_break", "chargeback", "chargeback", "manual_review", "compliance_query", "custom_workflow"],
            "effective_from": ["2024-01-01", "2024-01-01", "2025-04-01", "2024-01-01", "2024-01-01", "2024-01-01"],
            "unit_cost_usd": [5.0, 15.0, 20.0, 8.0, 25.0, 12.0],
        }
    )  # fmt: skip
    f["finance__infra_costs"] = pl.DataFrame(
        {"effective_from": ["2024-01-01", "2025-09-01"], "cost_per_settled_transaction_usd": [0.012, 0.010]}
    )
    return Sample(f)
