"""Billing: customers, subscriptions, invoices and their line items, charges, transactions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sample.common import (
    COUNTRIES,
    COUNTRY_CURRENCY,
    COUNTRY_WEIGHTS,
    CURRENCY_EXPONENT,
    END,
    FX_START,
    MONTHS,
    SEGMENTS,
    START_MONTH,
    add_months,
    duration,
    ids,
    month_start,
    only_where,
    pick,
)
from sample.crm import AccountMonths, Accounts, Programs

PLAN_USD_PER_MONTH = np.array([150.0, 1_200.0, 8_000.0])  # median list price by segment
TX_PER_MONTH = np.array([4.0, 12.0, 40.0])
TX_MEDIAN_USD = np.array([80.0, 400.0, 2_500.0])
INTERVALS = np.array(["month", "quarter", "year"])
INTERVAL_MONTHS = np.array([1, 3, 12])
# Seats of a main plan by segment: a minimum plus a Poisson number more; the plan's price is
# spread over them (unit_amount), so that seat changes move MRR and price changes move the unit.
SEATS = np.array([[2, 2.0], [5, 12.0], [20, 60.0]])
# Price increases (docs/metrics.md, "Price increases"): share of the main plans that get one,
# its size on the unit price, and the first month (index from START_MONTH) it can take effect.
INCREASE_SHARE = 0.16  # of the plans still running at the decided month: ~10% of all
INCREASE_PCT = (0.03, 0.12)
INCREASE_FROM_MONTH = 3  # February 2025
# The chance that a customer re-bids after an increase, a logistic function of its log
# engagement, log exception rate and log price level: (intercept, engagement, exceptions, price).
REBID = (-2.6, 1.0, 3.0, -5.0)
REBID_CHURN = 0.4  # share of the re-bids on monthly and quarterly plans that cancel
CUT_FACTOR = (0.55, 0.85)  # the seats a re-bid that does not cancel keeps
NO_PERIOD = 10**6  # a period number no subscription reaches
# The billing system went live on the data's first day: it bills nothing from before (not the
# start of a running period, not the usage or the proration of days before it).
GO_LIVE = month_start(np.zeros(1, int))[0]


@dataclass(frozen=True)
class Customers:
    """Billing customers: the first ``n_linked`` belong to CRM accounts, the rest are unlinked."""

    n: int
    n_linked: int
    customer_id: pl.Series
    account: np.ndarray  # account index, -1 for unlinked customers
    currency: np.ndarray
    minor_per_usd: np.ndarray  # minor currency units per USD at the FX walk's start
    segment: np.ndarray
    created_at: np.ndarray
    theater: np.ndarray
    engagement: np.ndarray  # the account's relative engagement (1 for unlinked customers)
    exceptions: np.ndarray  # the account's relative exception rate (1 for unlinked customers)
    risk: np.ndarray
    frames: dict[str, pl.DataFrame]


@dataclass(frozen=True)
class _PriceIncreases:
    """Per subscription: the billing period from which its unit price rises (NO_PERIOD: never),
    by how much, and what the customer does about it."""

    at: np.ndarray  # period number of the first line at the new price
    pct: np.ndarray  # relative increase of the unit price
    months: np.ndarray  # the subscription's length in months, shorter when a re-bid cancels it
    cut_at: np.ndarray  # period number from which a re-bid keeps fewer seats (NO_PERIOD: never)
    cut_factor: np.ndarray  # the share of the seats it keeps


@dataclass(frozen=True)
class Subscriptions:
    """Subscriptions, one array entry each (after dropping those starting after the data ends)."""

    n: int
    subscription_id: pl.Series
    customer: np.ndarray  # customer index
    kind: np.ndarray  # 0 main plan, 1 reactivation, 2 add-on
    interval: np.ndarray  # index into INTERVALS
    started_at: np.ndarray
    ended_at: np.ndarray
    start_month: np.ndarray  # month of started_at (index from START_MONTH, negative before it)
    months: np.ndarray  # length in whole billing periods' months
    seats: np.ndarray  # quantity of the plan line before any change
    unit_minor: np.ndarray  # list price per seat and month, in the currency's minor unit
    increases: _PriceIncreases
    frames: dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Invoices:
    """Invoices, one array entry each, with what the charges need to collect them."""

    invoice_id: pl.Series
    customer: np.ndarray  # customer index
    currency: np.ndarray
    minor_per_usd: np.ndarray
    status: np.ndarray
    created_at: np.ndarray
    paid_at: np.ndarray
    amount_due: np.ndarray
    frames: dict[str, pl.DataFrame]


@dataclass(frozen=True)
class ActiveMonths:
    """Customer-months with an active main subscription, and their CRM-linked account-months."""

    customer: np.ndarray
    month: np.ndarray
    linked: AccountMonths


@dataclass(frozen=True)
class _Periods:
    """Billing periods inside the data range, one per invoice."""

    subscription: np.ndarray
    k: np.ndarray  # period number within the subscription
    step: np.ndarray  # months per period
    start: np.ndarray
    end: np.ndarray
    months: np.ndarray  # months billed: step, or what is left of a period running at go-live
    go_live: np.ndarray  # the rest of a quarterly or annual period running when the data starts


def customers(rng: np.random.Generator, accounts: Accounts) -> Customers:
    """One billing customer for 98% of accounts, in the country's currency, plus a few unlinked
    customers: every other one has no CRM link, the rest point to unknown accounts."""
    country, created_at = accounts.country, accounts.created_at
    has_customer = rng.random(accounts.n) < 0.98
    cust_account = np.flatnonzero(has_customer)
    n_unlinked = max(3, int(0.015 * accounts.n))
    nc = len(cust_account) + n_unlinked
    link = only_where(
        np.concatenate([np.ones(len(cust_account), bool), np.arange(n_unlinked) % 2 == 0]),
        np.concatenate([accounts.account_id.gather(cust_account).to_numpy(), [f"A9{i:07d}" for i in range(n_unlinked)]]),
    )  # fmt: skip
    cust_country = np.concatenate([country[cust_account], pick(rng, COUNTRIES, COUNTRY_WEIGHTS, n_unlinked)])
    cust_segment = np.concatenate([accounts.segment[cust_account], np.zeros(n_unlinked, int)])
    cust_currency = np.vectorize(COUNTRY_CURRENCY.get)(cust_country)
    cust_created = np.concatenate(
        [created_at[cust_account], month_start(rng.integers(0, MONTHS - 3, n_unlinked))]
    ) + duration(rng.uniform(0, 3, nc))
    customer_id = ids("C", nc)
    frame = pl.DataFrame(
        {
            "customer_id": customer_id,
            "crm_account_id": link,
            "currency": cust_currency,
            "email": customer_id.str.replace("^(.*)$", "billing+$1@example.com"),
            "created_at": cust_created,
            "updated_at": cust_created,
        }
    )
    fx_nominal = np.vectorize(lambda c: FX_START.get(c, 1.0) * 10 ** CURRENCY_EXPONENT[c])
    return Customers(
        n=nc,
        n_linked=len(cust_account),
        customer_id=customer_id,
        account=np.concatenate([cust_account, np.full(n_unlinked, -1)]),
        currency=cust_currency,
        minor_per_usd=fx_nominal(cust_currency),
        segment=cust_segment,
        created_at=cust_created,
        theater=np.concatenate([accounts.theater[cust_account], np.zeros(n_unlinked, bool)]),
        engagement=np.concatenate([accounts.engagement[cust_account], np.ones(n_unlinked)]),
        exceptions=np.concatenate([accounts.exceptions[cust_account], np.ones(n_unlinked)]),
        risk=np.concatenate([accounts.risk[cust_account], np.full(n_unlinked, "medium")]),
        frames={"billing__customers": frame},
    )


def subscriptions(rng: np.random.Generator, customers: Customers, programs: Programs) -> Subscriptions:
    """A main plan per customer that churns with a risk-driven hazard; 35% come back after a gap
    with a second subscription and 6% buy an add-on at a fifth of the price. Plans are sold per
    seat (SEATS). The seat expansion push ends the main plans of its responders ("churn" in
    crm.PROGRAM_EVENTS), for good. Some plans get a price increase (``_price_increases``).
    Canceled subscriptions have an earlier, active version."""
    nc, cust_created = customers.n, customers.created_at
    hazard = np.select([customers.risk == "low", customers.risk == "medium"], [0.012, 0.02], 0.035)
    anchor = np.maximum(cust_created, month_start(np.zeros(nc, int)) - duration(200))
    anchor_day = anchor.astype("datetime64[D]")
    anchor_day = anchor_day - (
        (anchor_day - anchor_day.astype("datetime64[M]").astype("datetime64[D]")).astype(int) // 28 * 3
    ).astype("timedelta64[D]")  # keep day of month <= 28 so month arithmetic stays exact
    interval = rng.choice(3, size=nc, p=[0.7, 0.15, 0.15])
    lifetime = rng.geometric(hazard)  # months until churn
    price_level = rng.lognormal(0, 0.35, nc)  # the customer's list price against its segment's
    price = PLAN_USD_PER_MONTH[customers.segment] * price_level
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
    segment_seats = SEATS[customers.segment[sub_cust]]
    seats = np.where(
        kind == 2, 1 + rng.poisson(1.0, ns), segment_seats[:, 0] + rng.poisson(segment_seats[:, 1])
    )
    sub_started_at = add_months(anchor_day[sub_cust], sub_start) + duration(rng.uniform(0, 0.2, ns))
    start_month = (anchor_day[sub_cust].astype("datetime64[M]") - START_MONTH).astype(int) + sub_start

    # The seat expansion push's responders leave at their plan's first renewal from their churn
    # month on, and do not come back.
    main = kind != 2
    churn_month = programs.event_month("churn", customers.account[sub_cust])
    forced = main & (churn_month > start_month) & (churn_month < start_month + sub_months)
    step = INTERVAL_MONTHS[sub_interval]
    sub_months = np.where(forced, -((start_month - churn_month) // step) * step, sub_months)
    left_for_good = np.zeros(nc, bool)
    left_for_good[sub_cust[forced]] = True
    keep = (sub_started_at < END - duration(2)) & ~(
        (kind == 1) & left_for_good[sub_cust] & (start_month >= churn_month)
    )
    sub_cust, kind, sub_interval, sub_started_at, sub_months, seats, start_month = (
        a[keep] for a in (sub_cust, kind, sub_interval, sub_started_at, sub_months, seats, start_month)
    )
    ns = len(sub_cust)
    unit_minor = np.maximum(
        1,
        np.rint(np.where(kind == 2, 0.2, 1.0) * price[sub_cust] * customers.minor_per_usd[sub_cust] / seats),
    ).astype(np.int64)
    increases = _price_increases(
        rng, customers, sub_cust, kind, sub_interval, start_month, sub_months, price_level
    )
    sub_months = np.minimum(sub_months, increases.months)
    sub_ended_at = add_months(sub_started_at.astype("datetime64[D]"), sub_months)
    canceled = sub_ended_at < END
    subscription_id = ids("S", ns)
    sub_segment = customers.segment[sub_cust]
    frame = pl.DataFrame(
        {
            "subscription_id": subscription_id,
            "customer_id": customers.customer_id.gather(sub_cust),
            "plan_id": pl.Series(SEGMENTS[sub_segment]) + "_" + pl.Series(INTERVALS[sub_interval]) + np.where(kind == 2, "_addon", ""),
            "status": np.where(canceled, "canceled", "active"),
            "billing_interval": INTERVALS[sub_interval],
            "started_at": sub_started_at,
            "canceled_at": pl.Series(np.where(canceled, sub_ended_at, np.datetime64("NaT"))),
            "updated_at": np.where(canceled, sub_ended_at, sub_started_at),
        }
    )  # fmt: skip
    versions = (
        frame.filter(pl.Series(canceled)).with_columns(
            status=pl.lit("active"), canceled_at=pl.lit(None, pl.Datetime("us")),
            updated_at=pl.col("started_at"),
        )
    )  # fmt: skip
    return Subscriptions(
        n=ns,
        subscription_id=subscription_id,
        customer=sub_cust,
        kind=kind,
        interval=sub_interval,
        started_at=sub_started_at,
        ended_at=sub_ended_at,
        start_month=start_month,
        months=sub_months,
        seats=seats,
        unit_minor=unit_minor,
        increases=increases,
        frames={"billing__subscriptions": frame, "billing__subscriptions__versions": versions},
    )


def _price_increases(
    rng: np.random.Generator,
    customers: Customers,
    sub_cust: np.ndarray,
    kind: np.ndarray,
    interval: np.ndarray,
    start_month: np.ndarray,
    months: np.ndarray,
    price_level: np.ndarray,
) -> _PriceIncreases:
    """A price increase (INCREASE_PCT on the unit price) on about INCREASE_SHARE of the main plans,
    at a renewal from February 2025 on. The customer absorbs it or re-bids: accounts that engage a
    lot while costing a lot to serve on a cheap plan re-bid most (``REBID``); a re-bid cancels a
    monthly or quarterly plan within three months (``REBID_CHURN`` of them) or cuts seats (the
    others, and every annual plan)."""
    ns = len(sub_cust)
    step = INTERVAL_MONTHS[interval]
    periods = months // step
    # Each chosen plan's increase is decided for a month (uniformly from INCREASE_FROM_MONTH to
    # the end of the data, whatever the plan's future) and takes effect at its first renewal
    # (period k >= 1) from that month on, if the plan is still running then and its previous
    # period is in the data to compare with.
    decided = rng.integers(INCREASE_FROM_MONTH, MONTHS, ns)
    at = np.maximum.reduce([np.ones(ns, int), -((start_month - decided) // step), 1 - start_month // step])
    last = np.minimum(periods - 1, (MONTHS - 1 - start_month) // step)
    chosen = (kind != 2) & (at <= last) & (rng.random(ns) < INCREASE_SHARE)
    pct = rng.uniform(*INCREASE_PCT, ns)
    weights = np.array(REBID)
    signal = np.log(
        np.stack([customers.engagement[sub_cust], customers.exceptions[sub_cust], price_level[sub_cust]])
    )
    rebids = chosen & (rng.random(ns) < 1 / (1 + np.exp(-(weights[0] + weights[1:] @ signal))))
    churns = rebids & (interval != 2) & (rng.random(ns) < REBID_CHURN)
    cuts = rebids & ~churns
    late = np.where(interval == 0, rng.integers(0, 2, ns), 0)  # monthly plans may cut a period later
    return _PriceIncreases(
        at=np.where(chosen, at, NO_PERIOD),
        pct=pct,
        months=np.where(churns, (at + 1 + late) * step, months),
        cut_at=np.where(cuts, at + late, NO_PERIOD),
        cut_factor=rng.uniform(*CUT_FACTOR, ns),
    )


def _billing_periods(subs: Subscriptions) -> _Periods:
    """Every billing period of every subscription that starts inside the data range, plus the
    rest of every quarterly or annual period running when it starts: the billing system went live
    then (GO_LIVE) and invoiced what was left of them, so that such a plan has a line, hence
    revenue and MRR, from the first month, not only from its first renewal in the data. That rest
    is billed as whole months, as many as MRR counts in it."""
    periods = subs.months // INTERVAL_MONTHS[subs.interval]
    inv_sub = np.repeat(np.arange(subs.n), periods)
    k = np.arange(len(inv_sub)) - np.repeat(np.cumsum(periods) - periods, periods)
    step = INTERVAL_MONTHS[subs.interval][inv_sub]
    period_start = add_months(subs.started_at[inv_sub].astype("datetime64[D]"), k * step)
    period_end = add_months(period_start, step)
    go_live = (step > 1) & (period_start < GO_LIVE) & (period_end > GO_LIVE)
    in_range = ((period_start >= GO_LIVE - duration(1)) | go_live) & (period_start < END)
    period_start = np.where(go_live, GO_LIVE, period_start)
    days = (period_end - period_start).astype("timedelta64[s]").astype(np.int64) / 86_400
    months = np.where(go_live, np.maximum(1, np.rint(days / 30.4375)), step).astype(np.int64)
    return _Periods(*(a[in_range] for a in (inv_sub, k, step, period_start, period_end, months, go_live)))


def _lines(
    mask, type_, amount, start, end, proration, description, quantity=None, unit_amount=None
) -> pl.DataFrame:
    """Line items of type ``type_`` on the invoices where ``mask`` holds (column ``inv``), with
    the quantity and unit amount they state (NULL when not given)."""
    idx = np.flatnonzero(mask)
    missing = pl.Series([None] * len(idx), dtype=pl.Int64)
    return pl.DataFrame(
        {
            "inv": idx, "type": type_, "amount": np.asarray(amount)[idx].astype(np.int64),
            "period_start": np.asarray(start)[idx].astype("datetime64[D]"),
            "period_end": np.asarray(end)[idx].astype("datetime64[D]"),
            "proration": proration, "description": description,
            "quantity": missing if quantity is None else np.asarray(quantity)[idx].astype(np.int64),
            "unit_amount": missing if unit_amount is None else np.asarray(unit_amount)[idx].astype(np.int64),
        }
    )  # fmt: skip


def _line_items(
    rng: np.random.Generator,
    p: _Periods,
    n_subscriptions: int,
    quantity: np.ndarray,
    unit_amount: np.ndarray,
    upgraded: np.ndarray,
    billed: np.ndarray,
) -> pl.DataFrame:
    """The plan line of every invoice (quantity x unit_amount), plus metered usage (monthly
    plans), a 10% discount for some subscriptions, occasional service credits, a setup fee on half
    the first invoices, a proration line when a plan is upgraded and a credit for the part of the
    plan a program does not bill (``billed`` < 1). Sorted by invoice (column ``inv``)."""
    ni, step, period_start, period_end = len(p.subscription), p.step, p.start, p.end
    plan_amount = quantity * unit_amount
    usage = np.rint(plan_amount / step * rng.uniform(0.05, 0.6, ni)).astype(np.int64)
    discounted = (rng.random(n_subscriptions) < 0.10)[p.subscription]
    first_invoice = (p.k == 0) & ~p.go_live
    proration_amount = np.rint(plan_amount / 3 * (1 / 3) * rng.uniform(0.3, 1.0, ni)).astype(np.int64)
    proration_start = period_start - duration(rng.integers(3, 25, ni))
    usage_start = add_months(period_start, -np.ones(ni, int))  # usage is billed in arrears
    setup_fee = np.rint(plan_amount * 0.5 / step)
    line_frames = [
        _lines(np.ones(ni, bool), "subscription", plan_amount, period_start, period_end, False, "plan", quantity, unit_amount),
        _lines((step == 1) & (p.k >= 1) & (usage_start >= GO_LIVE) & (rng.random(ni) < 0.6), "usage", usage, usage_start, period_start, False, "metered usage"),
        _lines(discounted, "discount", -np.rint(plan_amount * 0.1), period_start, period_end, False, "10% discount"),
        _lines(rng.random(ni) < 0.02, "credit", -np.rint(plan_amount * 0.05), period_start, period_start, False, "service credit"),
        _lines(first_invoice & (rng.random(ni) < 0.5), "one_time", setup_fee, period_start, period_start, False, "setup fee", np.ones(ni), setup_fee),
        _lines(upgraded & (p.k == 4) & (proration_start >= GO_LIVE), "subscription", proration_amount, proration_start, period_start, True, "upgrade proration"),
        _lines(billed < 1, "credit", -np.rint(plan_amount * (1 - billed)), period_start, period_start, False, "migration credit"),
    ]  # fmt: skip
    return pl.concat(line_frames).sort("inv", maintain_order=True)


def invoices(
    rng: np.random.Generator, customers: Customers, subs: Subscriptions, programs: Programs
) -> Invoices:
    """One invoice per billing period, in the customer's currency; 15% of subscriptions upgrade
    (+50% seats) from their fifth period. The plan line's seats follow the programs ("seats" in
    crm.PROGRAM_EFFECTS) and the seat cuts of re-bids, its unit price the price increases.
    Bigger customers pay slower; high-risk customers' invoices go uncollectible more often;
    recent ones may still be drafts. Paid and written-off invoices have an earlier, open
    version."""
    p = _billing_periods(subs)
    inv_sub, k, period_start = p.subscription, p.k, p.start
    ni = len(inv_sub)
    inv_cust = subs.customer[inv_sub]
    inv_currency = customers.currency[inv_cust]
    minor = customers.minor_per_usd[inv_cust]
    created = period_start + duration(rng.uniform(0, 0.25, ni))
    upgraded = (rng.random(subs.n) < 0.15)[inv_sub] & (k >= 4)
    account = customers.account[inv_cust]
    month = (period_start.astype("datetime64[M]") - START_MONTH).astype(int)
    increases = subs.increases
    quantity = np.maximum(
        1,
        np.rint(
            subs.seats[inv_sub] * np.where(upgraded, 1.5, 1.0) * programs.factor("seats", account, month)
            * np.where(k >= increases.cut_at[inv_sub], increases.cut_factor[inv_sub], 1.0)
        ),
    ).astype(np.int64)  # fmt: skip
    unit_amount = np.rint(
        subs.unit_minor[inv_sub]
        * p.months
        * np.where(k >= increases.at[inv_sub], 1 + increases.pct[inv_sub], 1.0)
    ).astype(np.int64)
    segment_pay_days = np.array([5.0, 15.0, 30.0])[customers.segment[inv_cust]]
    paid_at = created + duration(rng.exponential(segment_pay_days))
    roll = rng.random(ni)
    uncollectible = roll < np.where(customers.risk[inv_cust] == "high", 0.04, 0.01)
    void = (roll >= 0.98) & (roll < 0.99)
    draft = (created > END - duration(7)) & (rng.random(ni) < 0.5)  # not yet finalised
    written_off_at = created + duration(60)
    status = np.select(
        [draft, void, uncollectible & (written_off_at < END), uncollectible, paid_at < END],
        ["draft", "void", "uncollectible", "open", "paid"], "open",
    )  # fmt: skip
    invoice_id = ids("I", ni)
    line = _line_items(
        rng, p, subs.n, quantity, unit_amount, upgraded, programs.factor("billed", account, month)
    )
    amount_due = line.group_by("inv").agg(pl.col("amount").sum()).sort("inv")["amount"].to_numpy()
    amount_due = np.maximum(amount_due, 0)
    inv_updated = np.select([status == "paid", status == "uncollectible"], [paid_at, written_off_at], created)
    frame = pl.DataFrame(
        {
            "invoice_id": invoice_id,
            "customer_id": customers.customer_id.gather(inv_cust),
            "subscription_id": subs.subscription_id.gather(inv_sub),
            "status": status,
            "currency": inv_currency,
            "amount_due": amount_due,
            "amount_paid": np.where(status == "paid", amount_due, 0),
            "created_at": created,
            "due_at": created + duration(30),
            "paid_at": pl.Series(np.where(status == "paid", paid_at, np.datetime64("NaT"))),
            "updated_at": inv_updated,
        }
    )
    versions = (
        frame.filter(pl.Series(np.isin(status, ["paid", "uncollectible"])))
        .with_columns(status=pl.lit("open"), amount_paid=0, paid_at=pl.lit(None, pl.Datetime("us")), updated_at=pl.col("created_at"))
    )  # fmt: skip
    line_items = line.with_columns(
        line_item_id=ids("L", line.height),
        invoice_id=invoice_id.gather(line["inv"]),
        currency=pl.Series(inv_currency[line["inv"].to_numpy()]),
        updated_at=pl.Series(created[line["inv"].to_numpy()]),
    ).select("line_item_id", "invoice_id", "type", "amount", "currency", "period_start", "period_end", "proration", "description", "quantity", "unit_amount", "updated_at")  # fmt: skip
    return Invoices(
        invoice_id=invoice_id,
        customer=inv_cust,
        currency=inv_currency,
        minor_per_usd=minor,
        status=status,
        created_at=created,
        paid_at=paid_at,
        amount_due=amount_due,
        frames={
            "billing__invoices": frame,
            "billing__invoices__versions": versions,
            "billing__invoice_line_items": line_items,
        },
    )


def charges(rng: np.random.Generator, customers: Customers, invoices: Invoices) -> dict[str, pl.DataFrame]:
    """Card charges collecting the invoices: a succeeded charge per paid invoice (0.5% later
    refunded), failed attempts on uncollectible invoices and on 8% of the paid ones."""
    status, created, minor = invoices.status, invoices.created_at, invoices.minor_per_usd
    ni = len(status)
    paid_idx = np.flatnonzero(status == "paid")
    failed_idx = np.flatnonzero((status == "uncollectible") | ((status == "paid") & (rng.random(ni) < 0.08)))
    refunded = rng.random(len(paid_idx)) < 0.005
    ch_inv = np.concatenate([paid_idx, failed_idx])
    ch_at = np.concatenate(
        [invoices.paid_at[paid_idx], created[failed_idx] + duration(rng.uniform(0.5, 2, len(failed_idx)))]
    )
    ch_amount = invoices.amount_due[ch_inv]
    ch_status = np.concatenate(
        [np.where(refunded, "refunded", "succeeded"), np.full(len(failed_idx), "failed")]
    )
    fee = np.where(ch_status == "failed", 0, np.rint(ch_amount * 0.029 + 0.3 * minor[ch_inv] / 100))
    frame = pl.DataFrame(
        {
            "charge_id": ids("H", len(ch_inv)),
            "invoice_id": invoices.invoice_id.gather(ch_inv),
            "customer_id": customers.customer_id.gather(invoices.customer[ch_inv]),
            "created_at": ch_at,
            "amount": ch_amount,
            "fee": fee.astype(np.int64),
            "currency": invoices.currency[ch_inv],
            "status": ch_status,
            "updated_at": ch_at,
        }
    )  # fmt: skip
    return {"billing__charges": frame}


def active_months(customers: Customers, subs: Subscriptions) -> ActiveMonths:
    """The months each customer's main subscriptions (not add-ons) were active: they drive
    transactions, and for CRM-linked customers tickets and engagement. Draws nothing."""
    main = subs.kind != 2
    first_m = ((subs.started_at[main].astype("datetime64[M]") - START_MONTH).astype(int)).clip(0, MONTHS)
    last_m = ((subs.ended_at[main].astype("datetime64[M]") - START_MONTH).astype(int)).clip(-1, MONTHS - 1)
    span = np.maximum(last_m - first_m + 1, 0)
    cm_sub = np.repeat(np.arange(main.sum()), span)
    cm_month = first_m[cm_sub] + np.arange(len(cm_sub)) - np.repeat(np.cumsum(span) - span, span)
    cm_cust = subs.customer[main][cm_sub]
    linked = cm_cust < customers.n_linked
    return ActiveMonths(
        customer=cm_cust,
        month=cm_month,
        linked=AccountMonths(account=customers.account[cm_cust[linked]], month=cm_month[linked]),
    )


def price_increase_months(customers: Customers, subs: Subscriptions) -> AccountMonths:
    """The CRM-linked accounts and months in which a price increase takes effect (the month of the
    first billing period at the new price). Draws nothing."""
    at = subs.increases.at
    has = (at < NO_PERIOD) & (customers.account[subs.customer] >= 0)
    return AccountMonths(
        account=customers.account[subs.customer[has]],
        month=subs.start_month[has] + at[has] * INTERVAL_MONTHS[subs.interval[has]],
    )


def transactions(
    rng: np.random.Generator, customers: Customers, active: ActiveMonths
) -> dict[str, pl.DataFrame]:
    """Payments processed for customers in their active months, by segment volume and size;
    a few fail or are refunded, and theater customers are disputed four times as often."""
    cm_cust = active.customer
    tx_rate = TX_PER_MONTH[customers.segment[cm_cust]] * rng.lognormal(0, 0.3, len(cm_cust))
    tx_count = rng.poisson(tx_rate)
    tx_cm = np.repeat(np.arange(len(cm_cust)), tx_count)
    nt = len(tx_cm)
    tx_cust = cm_cust[tx_cm]
    tx_at = month_start(active.month[tx_cm]) + duration(rng.uniform(0, 28, nt))
    tx_at = np.minimum(tx_at, END - duration(0.01))
    tx_amount = np.rint(
        TX_MEDIAN_USD[customers.segment[tx_cust]]
        * rng.lognormal(0, 0.8, nt)
        * customers.minor_per_usd[tx_cust]
    ).astype(np.int64)
    dispute_boost = np.where(customers.theater[tx_cust], 4.0, 1.0)
    u = rng.random(nt)
    tx_status = np.select(
        [u < 0.025, u < 0.043, u < 0.043 + 0.007 * dispute_boost], ["failed", "refunded", "disputed"], "settled"
    )  # fmt: skip
    frame = pl.DataFrame(
        {
            "transaction_id": ids("T", nt),
            "customer_id": customers.customer_id.gather(tx_cust),
            "occurred_at": tx_at,
            "status": tx_status,
            "amount": tx_amount,
            "currency": customers.currency[tx_cust],
            "processing_cost": np.rint(tx_amount * rng.uniform(0.012, 0.022, nt)).astype(np.int64),
            "updated_at": tx_at,
        }
    )
    return {"billing__transactions": frame}
