"""The analyst baseline: the two central marts in plain pandas, straight from the extract files.

Written the way a strong pandas analyst would: read every file of a table with pandas, keep the
latest row per key, then only vectorized numpy/pandas operations (merges, group-bys, merge_asof,
and no Python loop over rows). A date span becomes one row per month with ``np.repeat`` over
int64 month numbers (months since 1970-01). It computes ``account_month_economics`` and
``mrr_movements`` following docs/metrics.md's formulas (revenue spread by day, FX at the named
date, effective-dated costs, MRR normalised to months, movements at constant currency), in USD.

What it does not do: none of the contract's quarantine rules beyond what coercion gives for free
(unparseable numbers and dates become NaN and drop out of sums), no orphan listing, no checks,
no exact decimal money (floats), no dense account-month grid outside MRR, no publish: it only
writes the two Parquet files.

    python -m bench.pandas_baseline LANDING OUT_DIR   # writes two Parquet files, prints timing
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.contract import EXCEPTION_CATEGORIES, MRR_INVOICE_STATUSES, REVENUE_INVOICE_STATUSES

# The contract's codes (the analyst reads the same contract; the rules below are written anew).
EXCEPTIONS = set(EXCEPTION_CATEGORIES)
REVENUE_STATUSES = set(REVENUE_INVOICE_STATUSES)
MRR_STATUSES = set(MRR_INVOICE_STATUSES)  # a draft is the next period of a live subscription
KEYS = {
    "accounts": ["account_id"], "customers": ["customer_id"], "invoices": ["invoice_id"],
    "invoice_line_items": ["line_item_id"], "transactions": ["transaction_id"], "charges": ["charge_id"],
    "organizations": ["organization_id"], "tickets": ["ticket_id"], "time_entries": ["time_entry_id"],
    "programs": ["program_id"], "engagement_events": ["event_id"], "program_enrollments": ["program_id", "account_id"],
    "fx_rates": ["rate_date", "currency"], "currencies": ["currency"],
    "agent_costs": ["agent_tier", "effective_from"], "exception_unit_costs": ["category", "effective_from"],
    "infra_costs": ["effective_from"],
}  # fmt: skip


def read(landing: Path, source: str, table: str) -> pd.DataFrame:
    """Every file of a table, latest row per key (updated_at, then file path, then row)."""
    frames = []
    for path in sorted((landing / source / table).rglob("*")):
        suffix = path.suffix.lower()
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            continue
        frame.columns = [c.lower() for c in frame.columns]
        frame["_path"] = str(path.relative_to(landing / source / table))
        frame["_row"] = np.arange(len(frame))
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    order = ["_path", "_row"]
    if "updated_at" in data.columns:
        data["updated_at"] = ts(data["updated_at"])
        order = ["updated_at", *order]
    data = data.sort_values(order).drop_duplicates(KEYS[table], keep="last")
    for column in ("status", "type", "category", "agent_tier", "segment"):
        if column in data.columns:
            data[column] = data[column].astype(str).str.lower()
    if "currency" in data.columns:
        data["currency"] = data["currency"].astype(str).str.upper()
    return data


def ts(values: pd.Series) -> pd.Series:
    return (
        pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
        .dt.tz_localize(None)
        .astype("datetime64[us]")
    )


def num(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def month_of(values: pd.Series) -> pd.Series:
    return values.dt.to_period("M").dt.to_timestamp()


def is_true(values: pd.Series) -> pd.Series:
    return values.astype(str).str.lower().isin(["true", "1", "t"])


def month_number(values: pd.Series) -> np.ndarray:
    """Months since 1970-01 of each timestamp (int64; meaningless where the timestamp is NaT)."""
    return values.to_numpy(dtype="datetime64[us]").astype("datetime64[M]").astype(np.int64)


def month_start(numbers: np.ndarray) -> np.ndarray:
    """The first day of each month number, as datetime64[us]."""
    return np.asarray(numbers, dtype=np.int64).astype("datetime64[M]").astype("datetime64[us]")


def month_rows(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One row per month from ``first`` through ``last`` (month numbers) of each span, in span order.

    Returns (position of the span, month number) per row; a span with last < first has no row.
    """
    counts = np.maximum(last - first + 1, 0)
    span = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return span, first[span] + offset


class Extracts:
    def __init__(self, landing: Path):
        r = lambda source, table: read(landing, source, table)  # noqa: E731
        self.accounts = r("crm", "accounts")
        self.customers, self.invoices = r("billing", "customers"), r("billing", "invoices")
        self.lines, self.transactions = r("billing", "invoice_line_items"), r("billing", "transactions")
        self.charges = r("billing", "charges")
        self.organizations, self.tickets = r("support", "organizations"), r("support", "tickets")
        self.time_entries = r("support", "time_entries")
        self.programs, self.enrollments = r("crm", "programs"), r("crm", "program_enrollments")
        self.events = r("crm", "engagement_events")
        self.fx, self.currencies = r("finance", "fx_rates"), r("finance", "currencies")
        self.agent_costs, self.unit_costs = r("finance", "agent_costs"), r("finance", "exception_unit_costs")
        self.infra_costs = r("finance", "infra_costs")


def live_accounts(x: Extracts) -> set:
    return set(x.accounts.loc[~is_true(x.accounts["is_deleted"]), "account_id"])


def account_of(
    ids: pd.Series, mapping: pd.DataFrame, key: str, link: str, live: set, pseudo: str
) -> pd.Series:
    linked = ids.map(mapping.set_index(key)[link])
    return linked.where(linked.isin(live), pseudo)


def daily_rates(x: Extracts, until: pd.Timestamp) -> pd.DataFrame:
    """units_per_usd for every currency and day up to ``until``, forward-filled; USD is 1."""
    fx = x.fx.assign(rate_date=ts(x.fx["rate_date"]), units_per_usd=num(x.fx["units_per_usd"])).dropna()
    days = pd.date_range(fx["rate_date"].min(), max(until, fx["rate_date"].max()))
    wide = fx.pivot_table(index="rate_date", columns="currency", values="units_per_usd").reindex(days).ffill()
    wide["USD"] = 1.0
    return wide.stack().rename("units_per_usd").rename_axis(["day", "currency"]).reset_index()


def in_major_units(frame: pd.DataFrame, amount: str, x: Extracts) -> pd.Series:
    """Minor units of each row's currency -> the currency's major unit (JPY 1, USD 1/100)."""
    exponent = frame["currency"].map(x.currencies.set_index("currency")["minor_unit_exponent"].astype(int))
    return num(frame[amount]) / 10.0**exponent


def to_usd(frame: pd.DataFrame, amount: str, day: str, x: Extracts, rates: pd.DataFrame) -> pd.Series:
    """Minor units of each row's currency -> USD at the rate of ``day``."""
    merged = (
        frame[[day, "currency"]]
        .assign(day=frame[day].dt.normalize())
        .merge(rates, on=["day", "currency"], how="left")
    )
    return in_major_units(frame, amount, x).to_numpy() / merged["units_per_usd"].to_numpy()


def rate_in_effect(
    facts: pd.DataFrame, at: str, rates: pd.DataFrame, value: str, by: str | None
) -> pd.Series:
    """The effective-dated ``value`` in effect at each fact's ``at`` (merge_asof on the date)."""
    rates = rates.assign(effective_from=ts(rates["effective_from"]), **{value: num(rates[value])})
    left = facts[[at] + ([by] if by else [])].assign(_day=facts[at].dt.normalize(), _i=np.arange(len(facts)))
    left = left.dropna(subset=["_day"])  # an unparseable date has no rate
    merged = pd.merge_asof(
        left.sort_values("_day"), rates.sort_values("effective_from")[["effective_from", value] + ([by] if by else [])],
        left_on="_day", right_on="effective_from", by=by,
    )  # fmt: skip
    values = np.full(len(facts), np.nan)
    values[merged["_i"].to_numpy()] = merged[value].to_numpy()
    return values


def both_marts(x: Extracts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(account_month_economics, mrr_movements) in USD."""
    live = live_accounts(x)

    def billing_account(ids: pd.Series) -> pd.Series:
        return account_of(ids, x.customers, "customer_id", "crm_account_id", live, "unattributed:billing")

    invoices = x.invoices.assign(created_at=ts(x.invoices["created_at"]))
    tx = x.transactions.assign(occurred_at=ts(x.transactions["occurred_at"]))
    charges = x.charges.assign(created_at=ts(x.charges["created_at"]))
    tickets = x.tickets.assign(created_at=ts(x.tickets["created_at"]))
    entries = x.time_entries.assign(
        logged_at=ts(x.time_entries["logged_at"]), minutes=num(x.time_entries["minutes"])
    )
    events = ts(x.events["occurred_at"])
    as_of_date = max(
        s.max().normalize() for s in (invoices["created_at"], tx["occurred_at"], charges["created_at"],
                                      tickets["created_at"], entries["logged_at"], events)
    )  # fmt: skip
    as_of = as_of_date.to_period("M").to_timestamp()
    # Periods run past as_of (annual plans): rates are needed up to the last period end.
    rates = daily_rates(x, max(ts(x.lines["period_end"]).max(), as_of + pd.offsets.MonthEnd(0)))

    parts = []
    # Lines of invoices that count for revenue, or (drafts too) for MRR.
    lines = x.lines.merge(
        invoices.loc[
            invoices["status"].isin(MRR_STATUSES), ["invoice_id", "customer_id", "created_at", "status"]
        ],
        on="invoice_id",
    )
    lines["usd"] = to_usd(lines, "amount", "created_at", x, rates)
    lines["start"], lines["end"] = ts(lines["period_start"]), ts(lines["period_end"])
    lines["days"] = (lines["end"] - lines["start"]).dt.days
    lines["account_id"] = billing_account(lines["customer_id"])
    # MRR at the month's last-day rate (the month in progress measured at as_of_date).
    mrr = mrr_by_account_month(x, lines, rates, as_of_date)
    # Revenue: every line of a counted invoice, spread over its service days.
    lines = lines[lines["status"].isin(REVENUE_STATUSES)]
    at_once = (lines["type"] == "one_time") | ~(lines["days"] >= 1)
    once = lines[at_once]
    parts.append(
        pd.DataFrame(
            {"account_id": once["account_id"], "month": month_of(once["created_at"]), "revenue": once["usd"]}
        )
    )
    # Every month of [start, end) (start and end are valid: days >= 1), its share by whole days.
    spread = lines[~at_once]
    start, end = spread["start"].to_numpy(), spread["end"].to_numpy()
    row, month = month_rows(month_number(spread["start"]), month_number(spread["end"] - pd.Timedelta(days=1)))
    overlap = np.minimum(end[row], month_start(month + 1)) - np.maximum(start[row], month_start(month))
    overlap_days = overlap // np.timedelta64(1, "D")
    parts.append(
        pd.DataFrame({
            "account_id": spread["account_id"].to_numpy()[row], "month": month_start(month),
            "revenue": spread["usd"].to_numpy()[row] * overlap_days / spread["days"].to_numpy()[row],
        })
    )  # fmt: skip

    parts.append(mrr[["account_id", "month", "mrr"]])
    movements = mrr_movements(mrr)

    # Processing cost and infrastructure cost of transactions.
    counted = tx[tx["status"].isin({"settled", "refunded", "disputed"})].copy()
    counted["processing_cost"] = to_usd(counted, "processing_cost", "occurred_at", x, rates)
    counted["infra_cost"] = np.where(
        counted["status"] == "settled",
        rate_in_effect(counted, "occurred_at", x.infra_costs, "cost_per_settled_transaction_usd", None), 0.0,
    )  # fmt: skip
    counted["account_id"], counted["month"] = (
        billing_account(counted["customer_id"]),
        month_of(counted["occurred_at"]),
    )
    parts.append(counted[["account_id", "month", "processing_cost", "infra_cost"]])

    # Payment fees of charges.
    fees = charges[charges["status"].isin({"succeeded", "refunded"})].copy()
    fees["payment_fees"] = to_usd(fees, "fee", "created_at", x, rates)
    fees["account_id"], fees["month"] = billing_account(fees["customer_id"]), month_of(fees["created_at"])
    parts.append(fees[["account_id", "month", "payment_fees"]])

    # Agent time and exception unit costs.
    tickets["account_id"] = account_of(
        tickets["organization_id"],
        x.organizations,
        "organization_id",
        "external_id",
        live,
        "unattributed:support",
    )
    entries = entries.merge(tickets[["ticket_id", "category", "account_id"]], on="ticket_id")
    entries["cost"] = (
        entries["minutes"]
        / 60
        * rate_in_effect(entries, "logged_at", x.agent_costs, "hourly_cost_usd", "agent_tier")
    )
    exception = entries["category"].isin(EXCEPTIONS)
    parts.append(pd.DataFrame({
        "account_id": entries["account_id"], "month": month_of(entries["logged_at"]),
        "support_cost": entries["cost"].where(~exception, 0.0), "exception_handling_cost": entries["cost"].where(exception, 0.0),
    }))  # fmt: skip
    exception_tickets = tickets[tickets["category"].isin(EXCEPTIONS)].copy()
    exception_tickets["exception_handling_cost"] = rate_in_effect(
        exception_tickets, "created_at", x.unit_costs, "unit_cost_usd", "category"
    )
    exception_tickets["month"] = month_of(exception_tickets["created_at"])
    parts.append(exception_tickets[["account_id", "month", "exception_handling_cost"]])

    # Engagement programs: the monthly cost from the enrollment month through the window's end.
    enrolled = x.enrollments.merge(
        x.programs[["program_id", "cost_per_enrolled_account_usd", "evaluation_window_days"]], on="program_id"
    )
    enrolled["enrolled_at"] = ts(enrolled["enrolled_at"])
    enrolled["last"] = enrolled["enrolled_at"] + pd.to_timedelta(
        num(enrolled["evaluation_window_days"]), unit="D"
    )
    # Every month from enrolled_at's through last's; an undated enrollment has none.
    dated = (enrolled["enrolled_at"].notna() & enrolled["last"].notna()).to_numpy()
    first, last = month_number(enrolled["enrolled_at"]), month_number(enrolled["last"])
    row, month = month_rows(np.where(dated, first, 0), np.where(dated, last, -1))
    account = enrolled["account_id"].where(enrolled["account_id"].isin(live), "unattributed:crm")
    parts.append(
        pd.DataFrame({
            "account_id": account.to_numpy()[row], "month": month_start(month),
            "engagement_cost": num(enrolled["cost_per_enrolled_account_usd"]).to_numpy()[row],
        })
    )  # fmt: skip

    facts = pd.concat(parts, ignore_index=True)
    facts = facts[facts["month"] <= as_of]
    result = facts.groupby(["account_id", "month"], as_index=False).sum(min_count=1).fillna(0.0)
    result["cost_to_serve"] = result["support_cost"] + result["exception_handling_cost"]
    result["cogs"] = result[["processing_cost", "payment_fees", "infra_cost", "cost_to_serve"]].sum(axis=1)
    result["gross_margin"] = result["revenue"] - result["cogs"]
    result["contribution_margin"] = result["gross_margin"] - result["engagement_cost"]
    return result, movements


def mrr_by_account_month(
    x: Extracts, lines: pd.DataFrame, rates: pd.DataFrame, as_of_date: pd.Timestamp
) -> pd.DataFrame:
    """mrr, previous month's mrr at this month's rate, and at its own rate, per account-month."""
    as_of = as_of_date.to_period("M").to_timestamp()
    recurring = lines[
        lines["type"].isin({"subscription", "discount"}) & ~is_true(lines["proration"]) & (lines["days"] >= 1)
    ].copy()
    recurring["monthly"] = in_major_units(recurring, "amount", x) / np.maximum(
        1, np.round(recurring["days"] / 30.4375)
    )
    # Month M counts when period_start <= d(M) < period_end: d(M) is M's last day, as_of_date in as_of's month.
    as_of_month = np.datetime64(as_of.to_datetime64(), "M").astype(np.int64)
    row, month = month_rows(
        month_number(recurring["start"]), month_number(recurring["end"] - pd.Timedelta(days=1))
    )
    measured_on = np.where(
        month == as_of_month,
        np.datetime64(as_of_date.to_datetime64(), "us"),
        month_start(month + 1) - np.timedelta64(1, "D"),
    )
    start, end = recurring["start"].to_numpy()[row], recurring["end"].to_numpy()[row]
    keep = (start <= measured_on) & (measured_on < end) & (month <= as_of_month)
    row, month = row[keep], month[keep]
    recurring = pd.DataFrame({
        "account_id": recurring["account_id"].to_numpy()[row], "currency": recurring["currency"].to_numpy()[row],
        "month": month_start(month), "monthly": recurring["monthly"].to_numpy()[row],
    })  # fmt: skip
    by_currency = recurring.groupby(["account_id", "currency", "month"], as_index=False)["monthly"].sum()
    # Every account-month from the first recurring month to as_of, so churn months exist.
    first = by_currency.groupby("account_id")["month"].min()
    account, month = month_rows(month_number(first), np.full(len(first), as_of_month))
    grid = pd.DataFrame({"account_id": first.index.to_numpy()[account], "month": month_start(month)})
    currencies = by_currency[["account_id", "currency"]].drop_duplicates()
    cells = grid.merge(currencies, on="account_id")
    cells = cells.merge(by_currency, on=["account_id", "currency", "month"], how="left").fillna(
        {"monthly": 0.0}
    )
    cells = cells.sort_values(["account_id", "currency", "month"])
    cells["previous_monthly"] = cells.groupby(["account_id", "currency"])["monthly"].shift(1, fill_value=0.0)
    day_rate = rates.set_index(["day", "currency"])["units_per_usd"]
    month_end = cells["month"] + pd.offsets.MonthEnd(0)
    previous_end = cells["month"] - pd.Timedelta(days=1)
    this_rate = day_rate.reindex(pd.MultiIndex.from_arrays([month_end, cells["currency"]])).to_numpy()
    previous_rate = day_rate.reindex(pd.MultiIndex.from_arrays([previous_end, cells["currency"]])).to_numpy()
    cells["mrr"] = cells["monthly"] / this_rate
    cells["previous_at_this_rate"] = cells["previous_monthly"] / this_rate
    cells["previous_at_own_rate"] = cells["previous_monthly"] / previous_rate
    sums = cells.groupby(["account_id", "month"], as_index=False)[
        ["mrr", "previous_at_this_rate", "previous_at_own_rate"]
    ].sum()
    return sums.assign(
        **{c: sums[c].clip(lower=0) for c in ("mrr", "previous_at_this_rate", "previous_at_own_rate")}
    )


def mrr_movements(mrr: pd.DataFrame) -> pd.DataFrame:
    """docs/metrics.md's movements from mrr and the previous month's mrr at this month's rate."""
    m = mrr.sort_values(["account_id", "month"]).copy()
    current, previous = m["mrr"], m["previous_at_this_rate"]
    # An earlier month had MRR > 0: the count of such months so far, this one excluded, is positive.
    active = (m["mrr"] > 0).astype(np.int64)
    earlier = (active.groupby(m["account_id"]).cumsum() - active) > 0
    starts = (previous == 0) & (current > 0)
    m["new"] = current.where(starts & ~earlier, 0.0)
    m["reactivation"] = current.where(starts & earlier, 0.0)
    m["expansion"] = (current - previous).where((previous > 0) & (current > previous), 0.0)
    m["contraction"] = (previous - current).where((previous > 0) & (current > 0) & (current < previous), 0.0)
    m["churn"] = previous.where((previous > 0) & (current == 0), 0.0)
    m["fx_effect"] = m["previous_at_this_rate"] - m["previous_at_own_rate"]
    return m[
        [
            "account_id",
            "month",
            "mrr",
            "new",
            "reactivation",
            "expansion",
            "contraction",
            "churn",
            "fx_effect",
        ]
    ]


def main(argv: list[str]) -> None:
    landing, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    extracts = Extracts(landing)
    read_seconds = time.perf_counter() - started
    economics, movements = both_marts(extracts)
    economics.to_parquet(out / "account_month_economics.parquet")
    movements.to_parquet(out / "mrr_movements.parquet")
    print(f"read {read_seconds:.1f}s, total {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1:])


COMPARED = {
    "account_month_economics": ["revenue", "mrr", "processing_cost", "payment_fees", "infra_cost", "support_cost",
                                "exception_handling_cost", "engagement_cost", "cogs", "contribution_margin"],
    "mrr_movements": ["mrr", "new", "reactivation", "expansion", "contraction", "churn", "fx_effect"],
}  # fmt: skip


def compare(published_db: Path, baseline_dir: Path) -> list[dict]:
    """Per mart and column: both totals and the account-months that differ by more than a cent.

    A row missing on one side counts as zeros (our marts are dense, the analyst's are not).
    """
    import duckdb

    rows = []
    with duckdb.connect(str(published_db), read_only=True) as con:
        for mart, columns in COMPARED.items():
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW theirs AS SELECT * FROM read_parquet('{baseline_dir / mart}.parquet')"
            )
            for column in columns:
                ours_total, theirs_total, differing, worst = con.execute(f"""
                    SELECT sum(coalesce(o.{column}, 0)), sum(coalesce(t.{column}, 0)),
                           count(*) FILTER (WHERE abs(coalesce(o.{column}, 0) - coalesce(t.{column}, 0)) > 0.01),
                           max(abs(coalesce(o.{column}, 0) - coalesce(t.{column}, 0)))
                    FROM {mart} o FULL JOIN theirs t
                      ON o.account_id = t.account_id AND o.month = CAST(t.month AS DATE)""").fetchone()  # fmt: skip
                rows.append({"mart": mart, "column": column, "ours": ours_total, "theirs": theirs_total,
                             "account_months_differing": differing, "largest_difference": worst})  # fmt: skip
    return rows
