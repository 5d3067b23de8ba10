"""A lazy-polars baseline: the two central marts straight from the extract files.

What a strong polars user would write for the same two marts as ``bench/pandas_baseline.py``
(``account_month_economics`` and ``mrr_movements``), under exactly the same rules, so the two
baselines can be compared cell by cell and timed against the pipeline:

- every file of a table is scanned lazily (``scan_csv`` / ``scan_parquet`` / ``scan_ndjson``,
  the extension decides, case-insensitively), column names lower-cased, and the latest row per
  key kept (greatest ``updated_at``, then the file whose relative path sorts last, then the later
  row of the file); enum columns lower-cased and currency codes upper-cased after that;
- revenue of ``open``/``paid``/``uncollectible`` invoices spread over the service days (a
  ``one_time`` line, or a line of less than one day, in its invoice's month), at the FX of the
  invoice's ``created_at`` date, forward-filled from the latest earlier rate (USD is 1);
- MRR from non-proration ``subscription``/``discount`` lines (drafts too) normalised to months,
  counted in month M when ``period_start <= d(M) < period_end``, converted per currency at M's
  last-day rate and floored at 0; movements at constant currency (the previous month at this
  month's rate) and ``fx_effect``;
- processing cost, payment fees, infrastructure, agent time and exception unit costs with the
  effective-dated finance tables, and program costs from the enrollment month through the month
  of ``enrolled_at + evaluation_window_days``; months after ``as_of_month`` are dropped.

Every table is a ``LazyFrame`` and both marts are computed by one ``pl.collect_all`` (dense daily
rate tables are joined on equality, as ``intermediate.int_rates_daily`` does; no Python loop over
rows). Reporting currency: USD.

What it does not do: the contract's quarantine rules (beyond what coercion gives for free, like
the pandas baseline: unparseable numbers and dates become null and drop out of sums), no orphan
listing, no checks or expectations, no exact ``DECIMAL`` money (doubles, like pandas), no
publication, and only 2 of the pipeline's 18 marts. Rows are as sparse as pandas': an
account-month exists where some fact or MRR grid month does.

    python -m bench.polars_baseline LANDING OUT_DIR [ENGINE]   # writes two Parquet files, prints timing

ENGINE is polars' ``auto`` (the default, the streaming engine in polars 2), ``streaming`` or
``in-memory``. Reading is part of the lazy plan, so the timing separates planning (listing the
files, reading their schemas) from reading plus computing, not reading from computing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polars as pl

from pipelines.contract import EXCEPTION_CATEGORIES, MRR_INVOICE_STATUSES, REVENUE_INVOICE_STATUSES

EXCEPTIONS = list(EXCEPTION_CATEGORIES)
REVENUE_STATUSES = list(REVENUE_INVOICE_STATUSES)
MRR_STATUSES = list(MRR_INVOICE_STATUSES)  # a draft is the next period of a live subscription
TRUE_VALUES = ["true", "1", "t"]
LAST = 2**63 - 1  # a null updated_at, as pandas sorts it: after every timestamp
LOWERED, UPPERED = ("status", "type", "category", "agent_tier", "segment"), ("currency",)

TEXT, TS, NUM = pl.String, pl.Datetime("us"), pl.Float64
Money = tuple[pl.LazyFrame, pl.LazyFrame]  # (daily FX rates, minor-unit exponents)
# source, key (deduplicated on its raw text), and the columns this baseline reads with their type.
TABLES: dict[str, tuple[str, list[str], dict[str, pl.DataType]]] = {
    "accounts": ("crm", ["account_id"], {"is_deleted": TEXT}),
    "customers": ("billing", ["customer_id"], {"crm_account_id": TEXT}),
    "invoices": ("billing", ["invoice_id"], {"customer_id": TEXT, "status": TEXT, "created_at": TS}),
    "invoice_line_items": ("billing", ["line_item_id"], {
        "invoice_id": TEXT, "type": TEXT, "amount": NUM, "currency": TEXT, "period_start": TS, "period_end": TS,
        "proration": TEXT,
    }),
    "transactions": ("billing", ["transaction_id"], {
        "customer_id": TEXT, "occurred_at": TS, "status": TEXT, "currency": TEXT, "processing_cost": NUM,
    }),
    "charges": ("billing", ["charge_id"], {
        "customer_id": TEXT, "created_at": TS, "fee": NUM, "currency": TEXT, "status": TEXT,
    }),
    "organizations": ("support", ["organization_id"], {"external_id": TEXT}),
    "tickets": ("support", ["ticket_id"], {"organization_id": TEXT, "created_at": TS, "category": TEXT}),
    "time_entries": ("support", ["time_entry_id"], {
        "ticket_id": TEXT, "agent_tier": TEXT, "minutes": NUM, "logged_at": TS,
    }),
    "programs": ("crm", ["program_id"], {"cost_per_enrolled_account_usd": NUM, "evaluation_window_days": NUM}),
    "program_enrollments": ("crm", ["program_id", "account_id"], {"enrolled_at": TS}),
    "engagement_events": ("crm", ["event_id"], {"occurred_at": TS}),
    "fx_rates": ("finance", ["rate_date", "currency"], {"units_per_usd": NUM}),
    "currencies": ("finance", ["currency"], {"minor_unit_exponent": NUM}),
    "agent_costs": ("finance", ["agent_tier", "effective_from"], {"hourly_cost_usd": NUM}),
    "exception_unit_costs": ("finance", ["category", "effective_from"], {"unit_cost_usd": NUM}),
    "infra_costs": ("finance", ["effective_from"], {"cost_per_settled_transaction_usd": NUM}),
}  # fmt: skip


# --- reading ---------------------------------------------------------------------------------


def scan_file(path: Path) -> pl.LazyFrame:
    """One extract file, lazily, with lower-case column names (CSV and JSON values as text)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pl.scan_csv(
            path, infer_schema=False, with_column_names=lambda names: [n.lower() for n in names]
        )
    if suffix == ".parquet":
        return pl.scan_parquet(path).rename(str.lower)
    # JSON lines: the keys come from the first rows; every value is read as text and cast below.
    names = pl.scan_ndjson(path).collect_schema().names()
    return pl.scan_ndjson(path, schema=dict.fromkeys(names, pl.String)).rename(str.lower)


def ts(column: pl.Expr) -> pl.Expr:
    """ISO 8601 text -> naive UTC timestamp (offsets converted; a date alone is midnight)."""
    text = column.str.strip_chars().str.replace("T", " ", literal=True)
    return pl.coalesce(
        text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us"),
        text.str.to_date("%Y-%m-%d", strict=False).cast(TS),
        text.str.replace("Z$", "+00:00")
        .str.to_datetime("%Y-%m-%d %H:%M:%S%.f%#z", strict=False, time_unit="us", time_zone="UTC")
        .dt.replace_time_zone(None),
    )


def coerce(column: pl.Expr, have: pl.DataType, want: pl.DataType) -> pl.Expr:
    """A file's column as ``want``; values that do not parse become null (pandas' coerce)."""
    if want == TS:
        if isinstance(have, pl.Datetime):
            if have.time_zone is not None:
                column = column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            return column.cast(TS)
        if have == pl.Date:
            return column.cast(TS)
        return ts(column.cast(pl.String))
    if want == NUM:
        if have.is_numeric():
            return column.cast(NUM)
        return column.cast(pl.String).str.strip_chars().cast(NUM, strict=False)
    return column.cast(pl.String)


def read(landing: Path, table: str) -> pl.LazyFrame:
    """Every file of a table, latest row per key (updated_at, then file path, then row)."""
    source, key, columns = TABLES[table]
    folder = landing / source / table
    files = sorted(
        (p.relative_to(folder).as_posix(), p)
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in (".csv", ".parquet", ".jsonl")
    )
    frames, dated = [], False
    for index, (_, path) in enumerate(files):  # file order = relative path order
        frame = scan_file(path)
        schema = frame.collect_schema()
        dated |= "updated_at" in schema
        wanted = {**dict.fromkeys(key, TEXT), **columns, "updated_at": TS}
        frames.append(
            frame.with_row_index("_row").select(
                pl.lit(index, pl.UInt32).alias("_file"),
                "_row",
                *(
                    coerce(pl.col(name), schema[name], dtype).alias(name)
                    if name in schema
                    else pl.lit(None, dtype).alias(name)
                    for name, dtype in wanted.items()
                ),
            )
        )
    data = latest_per_key(pl.concat(frames, how="vertical"), key, dated)
    return data.select(normalised(column) for column in [*key, *columns])


def normalised(column: str) -> pl.Expr:
    """Enum values in lower case, currency codes in upper case (after the change-data rule)."""
    if column in LOWERED:
        return pl.col(column).str.to_lowercase()
    return pl.col(column).str.to_uppercase() if column in UPPERED else pl.col(column)


def latest_per_key(data: pl.LazyFrame, key: list[str], dated: bool) -> pl.LazyFrame:
    """The winning row per key: greatest updated_at (a null one sorts last, as in pandas' sort),
    then the last file, then the last row of it. Two window maxima, no sort."""
    if dated:
        updated = pl.col("updated_at").cast(pl.Int64).fill_null(LAST)
        data = data.filter(updated == updated.max().over(key))
    position = pl.col("_file").cast(pl.Int64) * 2**32 + pl.col("_row").cast(pl.Int64)
    return data.filter(position == position.max().over(key))


def is_true(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase().is_in(TRUE_VALUES).fill_null(False)


def month_of(column: str | pl.Expr) -> pl.Expr:
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.dt.date().dt.month_start()


def months_between(first: pl.Expr, last: pl.Expr) -> pl.Expr:
    """The months from ``first``'s through ``last``'s (both timestamps), as a list of dates."""
    return pl.date_ranges(month_of(first), month_of(last), "1mo")


# --- rates -----------------------------------------------------------------------------------


def daily_fx(fx: pl.LazyFrame, until: pl.LazyFrame) -> pl.LazyFrame:
    """units_per_usd per (day, currency), every day from the first rate through ``until``'s
    ``last_day``, forward-filled from the latest earlier rate; USD is 1 on every such day."""
    rates = (
        fx.select(
            day=ts(pl.col("rate_date")).dt.date(),
            currency=pl.col("currency"),
            units_per_usd=pl.col("units_per_usd"),
        )
        .drop_nulls()
        .group_by("day", "currency")
        .agg(pl.col("units_per_usd").mean())  # pandas' pivot_table
    )
    days = (
        rates.select(first=pl.col("day").min(), last=pl.col("day").max())
        .join(until, how="cross")
        .select(day=pl.date_ranges("first", pl.max_horizontal("last", "last_day")))
        .explode("day")
    )
    codes = pl.concat([rates.select("currency"), pl.LazyFrame({"currency": ["USD"]})]).unique()
    return (
        days.join(codes, how="cross")
        .sort("day")
        .join_asof(rates.sort("day"), on="day", by="currency", check_sortedness=False)
        .with_columns(
            units_per_usd=pl.when(pl.col("currency") == "USD").then(1.0).otherwise(pl.col("units_per_usd"))
        )
    )


def effective_daily(costs: pl.LazyFrame, value: str, by: str | None, as_of: pl.LazyFrame) -> pl.LazyFrame:
    """The effective-dated ``value`` in effect on every day from the first effective_from to
    as_of_date (per ``by``): the row with the greatest effective_from on or before the day."""
    rates = (
        costs.select(*([by] if by else []), day=ts(pl.col("effective_from")).dt.date(), value=pl.col(value))
        .drop_nulls("day")
        .sort("day")
    )
    days = (
        rates.select(first=pl.col("day").min())
        .join(as_of, how="cross")
        .select(day=pl.date_ranges("first", "as_of_date"))
        .explode("day")
    )
    if by:
        days = days.join(rates.select(by).unique(), how="cross")
    return days.sort("day").join_asof(rates, on="day", by=by, check_sortedness=False).rename({"value": value})


def valued(frame: pl.LazyFrame, money: Money, amounts: dict[str, str], at: str) -> pl.LazyFrame:
    """Minor units of each row's currency -> USD at the rate of ``at``'s date (``amounts``: out <- in);
    the row keeps its currency's ``exponent`` (null for a currency not in finance/currencies)."""
    fx, exponents = money
    return (
        frame.join(exponents, on="currency", how="left")
        .with_columns(day=pl.col(at).dt.date())
        .join(fx, on=["day", "currency"], how="left")
        .with_columns(
            (pl.col(source) / 10.0 ** pl.col("exponent") / pl.col("units_per_usd")).alias(out)
            for out, source in amounts.items()
        )
    )


def rated(frame: pl.LazyFrame, at: str, daily: pl.LazyFrame, by: str | None) -> pl.LazyFrame:
    """Each fact with the effective-dated rate in effect on ``at``'s date (null when none)."""
    return frame.with_columns(day=pl.col(at).dt.date()).join(
        daily, on=["day", by] if by else ["day"], how="left"
    )


# --- the marts -------------------------------------------------------------------------------


def attributed(frame: pl.LazyFrame, ids: str, mapping: pl.LazyFrame, pseudo: str) -> pl.LazyFrame:
    """``account_id`` of each row through ``mapping`` (ids -> linked account), or ``pseudo`` when
    the id is unknown or its account is not live."""
    return frame.join(mapping, on=ids, how="left").with_columns(pl.col("account_id").fill_null(pseudo))


def link(table: pl.LazyFrame, key: str, linked: str, live: pl.LazyFrame) -> pl.LazyFrame:
    """key -> the linked account id, kept only when that account is live."""
    return table.join(live, left_on=linked, right_on="account_id", how="semi").select(
        key, pl.col(linked).alias("account_id")
    )


def plan(landing: Path) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(account_month_economics, mrr_movements) as lazy queries, in USD."""
    # Subplans read more than once are cached explicitly: each is then computed once per collect.
    x = {table: read(landing, table).cache() for table in TABLES}
    live = x["accounts"].filter(~is_true("is_deleted")).select("account_id").unique().cache()
    customer_account = link(x["customers"], "customer_id", "crm_account_id", live).cache()
    org_account = link(x["organizations"], "organization_id", "external_id", live)

    tickets = attributed(x["tickets"], "organization_id", org_account, "unattributed:support").cache()
    dated = [
        (x["invoices"], "created_at"), (x["transactions"], "occurred_at"), (x["charges"], "created_at"),
        (x["tickets"], "created_at"), (x["time_entries"], "logged_at"), (x["engagement_events"], "occurred_at"),
    ]  # fmt: skip
    latest = pl.concat([frame.select(pl.col(column).max().dt.date().alias("day")) for frame, column in dated])
    lines_end = x["invoice_line_items"].select(pl.col("period_end").max().dt.date().alias("day"))
    as_of = (
        latest.select(as_of_date=pl.col("day").max())
        .with_columns(as_of=pl.col("as_of_date").dt.month_start())
        .join(lines_end, how="cross")
        # Periods run past as_of (annual plans): rates are needed up to the last period end.
        .with_columns(last_day=pl.max_horizontal("day", pl.col("as_of").dt.month_end()))
        .drop("day")
        .cache()
    )
    fx = daily_fx(x["fx_rates"], as_of.select("last_day")).cache()
    exponents = x["currencies"].select("currency", exponent="minor_unit_exponent").unique("currency")
    money = (fx, exponents)
    as_of = as_of.select("as_of_date", "as_of").cache()

    # Lines of invoices that count for revenue, or (drafts too) for MRR.
    invoices = x["invoices"].filter(pl.col("status").is_in(MRR_STATUSES))
    lines = (
        x["invoice_line_items"]
        .join(invoices.select("invoice_id", "customer_id", "created_at", "status"), on="invoice_id")
        .pipe(attributed, "customer_id", customer_account, "unattributed:billing")
        .pipe(valued, money, {"usd": "amount"}, "created_at")
        .with_columns(
            major=pl.col("amount") / 10.0 ** pl.col("exponent"),
            start=pl.col("period_start"),
            end=pl.col("period_end"),
            days=(pl.col("period_end") - pl.col("period_start")).dt.total_days(),
        )
        .cache()
    )
    mrr = mrr_by_account_month(lines, fx, as_of).cache()
    movements = mrr_movements(mrr)

    # Revenue: every line of a counted invoice, spread over its service days.
    revenue_lines = lines.filter(pl.col("status").is_in(REVENUE_STATUSES))
    at_once = (pl.col("type") == "one_time").fill_null(False) | ~(pl.col("days") >= 1).fill_null(False)
    once = revenue_lines.filter(at_once).select("account_id", month=month_of("created_at"), revenue="usd")
    spread = (
        revenue_lines.filter(~at_once)
        .with_columns(month=months_between(pl.col("start"), pl.col("end") - pl.duration(days=1)))
        .explode("month")
        .with_columns(month_start=pl.col("month").cast(TS))
        .select(
            "account_id",
            "month",
            revenue=pl.col("usd")
            * (
                pl.min_horizontal("end", pl.col("month_start").dt.offset_by("1mo"))
                - pl.max_horizontal("start", "month_start")
            ).dt.total_days()
            / pl.col("days"),
        )
    )

    # Processing cost and infrastructure cost of transactions.
    infra = effective_daily(x["infra_costs"], "cost_per_settled_transaction_usd", None, as_of)
    transactions = (
        x["transactions"]
        .filter(pl.col("status").is_in(["settled", "refunded", "disputed"]))
        .pipe(valued, money, {"processing_cost": "processing_cost"}, "occurred_at")
        .drop("day")
        .pipe(rated, "occurred_at", infra, None)
        .pipe(attributed, "customer_id", customer_account, "unattributed:billing")
        .select(
            "account_id",
            "processing_cost",
            month=month_of("occurred_at"),
            infra_cost=pl.when(pl.col("status") == "settled")
            .then(pl.col("cost_per_settled_transaction_usd"))
            .otherwise(0.0),
        )
    )

    # Payment fees of charges.
    fees = (
        x["charges"]
        .filter(pl.col("status").is_in(["succeeded", "refunded"]))
        .pipe(valued, money, {"payment_fees": "fee"}, "created_at")
        .pipe(attributed, "customer_id", customer_account, "unattributed:billing")
        .select("account_id", "payment_fees", month=month_of("created_at"))
    )

    # Agent time and exception unit costs.
    agent = effective_daily(x["agent_costs"], "hourly_cost_usd", "agent_tier", as_of)
    exception = pl.col("category").is_in(EXCEPTIONS).fill_null(False)
    cost = pl.col("minutes") / 60 * pl.col("hourly_cost_usd")
    entries = (
        x["time_entries"]
        .join(tickets.select("ticket_id", "category", "account_id"), on="ticket_id")
        .pipe(rated, "logged_at", agent, "agent_tier")
        .select(
            "account_id",
            month=month_of("logged_at"),
            support_cost=pl.when(exception).then(0.0).otherwise(cost),
            exception_handling_cost=pl.when(exception).then(cost).otherwise(0.0),
        )
    )
    unit = effective_daily(x["exception_unit_costs"], "unit_cost_usd", "category", as_of)
    exception_tickets = (
        tickets.filter(exception)
        .pipe(rated, "created_at", unit, "category")
        .select("account_id", month=month_of("created_at"), exception_handling_cost="unit_cost_usd")
    )

    # Engagement programs: the monthly cost from the enrollment month through the window's end.
    enrolled = (
        x["program_enrollments"]
        .join(x["programs"], on="program_id")
        .join(live.with_columns(live=pl.lit(True)), on="account_id", how="left")
        .with_columns(
            month=months_between(
                pl.col("enrolled_at"),
                pl.col("enrolled_at") + pl.duration(days=pl.col("evaluation_window_days")),
            )
        )
        .explode("month")
        .select(
            account_id=pl.when(pl.col("live")).then("account_id").otherwise(pl.lit("unattributed:crm")),
            month="month",
            engagement_cost="cost_per_enrolled_account_usd",
        )
    )

    parts = [once, spread, mrr.select("account_id", "month", "mrr"), transactions, fees, entries]
    facts = pl.concat([*parts, exception_tickets, enrolled], how="diagonal_relaxed")
    summed = ["revenue", "mrr", "processing_cost", "infra_cost", "payment_fees", "support_cost",
              "exception_handling_cost", "engagement_cost"]  # fmt: skip
    economics = (
        facts.join(as_of, how="cross")
        .filter(pl.col("month") <= pl.col("as_of"))
        .group_by("account_id", "month")
        .agg(pl.col(summed).sum())
        .with_columns(cost_to_serve=pl.col("support_cost") + pl.col("exception_handling_cost"))
        .with_columns(
            cogs=pl.sum_horizontal("processing_cost", "payment_fees", "infra_cost", "cost_to_serve")
        )
        .with_columns(gross_margin=pl.col("revenue") - pl.col("cogs"))
        .with_columns(contribution_margin=pl.col("gross_margin") - pl.col("engagement_cost"))
        .sort("account_id", "month")
    )
    return economics, movements


def mrr_by_account_month(lines: pl.LazyFrame, fx: pl.LazyFrame, as_of: pl.LazyFrame) -> pl.LazyFrame:
    """mrr, previous month's mrr at this month's rate, and at its own rate, per account-month."""
    # Month M counts when period_start <= d(M) < period_end: d(M) is M's last day, as_of_date in as_of's month.
    measured_on = (
        pl.when(pl.col("month") == pl.col("as_of"))
        .then("as_of_date")
        .otherwise(pl.col("month").dt.month_end())
    )
    by_currency = (
        lines.filter(
            pl.col("type").is_in(["subscription", "discount"]), ~is_true("proration"), pl.col("days") >= 1
        )
        .with_columns(monthly=pl.col("major") / pl.max_horizontal(1.0, (pl.col("days") / 30.4375).round()))
        .with_columns(month=months_between(pl.col("start"), pl.col("end") - pl.duration(days=1)))
        .explode("month")
        .join(as_of, how="cross")
        .with_columns(measured_on=measured_on.cast(TS))
        .filter(
            pl.col("start") <= pl.col("measured_on"),
            pl.col("measured_on") < pl.col("end"),
            pl.col("month") <= pl.col("as_of"),
        )
        .group_by("account_id", "currency", "month")
        .agg(pl.col("monthly").sum())
        .cache()
    )
    rate_on = {"day": pl.col("month").dt.month_end()}
    this_month = by_currency.with_columns(**rate_on).join(fx, on=["day", "currency"], how="left")
    # Last month's amounts, valued at this month's last-day rate and at last month's own.
    next_month = (
        by_currency.with_columns(
            own_day=pl.col("month").dt.month_end(), month=pl.col("month").dt.offset_by("1mo")
        )
        .with_columns(**rate_on)
        .join(fx.select("day", "currency", this_rate="units_per_usd"), on=["day", "currency"], how="left")
        .join(
            fx.select("day", "currency", own_rate="units_per_usd"),
            left_on=["own_day", "currency"],
            right_on=["day", "currency"],
            how="left",
        )
    )
    contributions = pl.concat(
        [
            this_month.select("account_id", "month", mrr=pl.col("monthly") / pl.col("units_per_usd")),
            next_month.select(
                "account_id",
                "month",
                previous_at_this_rate=pl.col("monthly") / pl.col("this_rate"),
                previous_at_own_rate=pl.col("monthly") / pl.col("own_rate"),
            ),
        ],
        how="diagonal",
    )
    # Every account-month from the first recurring month to as_of, so churn months exist.
    grid = (
        by_currency.group_by("account_id")
        .agg(first=pl.col("month").min())
        .join(as_of, how="cross")
        .select("account_id", month=pl.date_ranges("first", "as_of", "1mo"))
        .explode("month")
    )
    values = ["mrr", "previous_at_this_rate", "previous_at_own_rate"]
    return grid.join(
        contributions.group_by("account_id", "month").agg(pl.col(values).sum()),
        on=["account_id", "month"],
        how="left",
    ).with_columns(pl.col(values).fill_null(0.0).clip(lower_bound=0.0))


def mrr_movements(mrr: pl.LazyFrame) -> pl.LazyFrame:
    """docs/metrics.md's movements from mrr and the previous month's mrr at this month's rate."""
    current, previous = pl.col("mrr"), pl.col("previous_at_this_rate")
    earlier = (current > 0).cum_max().shift(1, fill_value=False).over("account_id", order_by="month")
    starts = (previous == 0) & (current > 0)
    return (
        mrr.with_columns(earlier=earlier)
        .select(
            "account_id",
            "month",
            "mrr",
            new=pl.when(starts & ~pl.col("earlier")).then(current).otherwise(0.0),
            reactivation=pl.when(starts & pl.col("earlier")).then(current).otherwise(0.0),
            expansion=pl.when((previous > 0) & (current > previous)).then(current - previous).otherwise(0.0),
            contraction=pl.when((previous > 0) & (current > 0) & (current < previous))
            .then(previous - current)
            .otherwise(0.0),
            churn=pl.when((previous > 0) & (current == 0)).then(previous).otherwise(0.0),
            fx_effect=previous - pl.col("previous_at_own_rate"),
        )
        .sort("account_id", "month")
    )


def both_marts(landing: Path, engine: str = "auto") -> tuple[pl.DataFrame, pl.DataFrame]:
    """(account_month_economics, mrr_movements) in USD, computed in one ``collect_all``."""
    economics, movements = pl.collect_all(plan(landing), engine=engine)
    return economics, movements


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        sys.exit("usage: python -m bench.polars_baseline LANDING OUT_DIR [auto|streaming|in-memory]")
    landing, out = Path(argv[0]), Path(argv[1])
    engine = argv[2] if len(argv) > 2 else "auto"  # polars 2: auto is the streaming engine
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    queries = plan(landing)
    planned = time.perf_counter()
    economics, movements = pl.collect_all(queries, engine=engine)
    computed = time.perf_counter()
    economics.write_parquet(out / "account_month_economics.parquet")
    movements.write_parquet(out / "mrr_movements.parquet")
    done = time.perf_counter()
    print(
        f"plan (list files, read schemas) {planned - started:.2f}s, read+compute {computed - planned:.2f}s, "
        f"write {done - computed:.2f}s, total {done - started:.2f}s "
        f"({economics.height} account-months, {movements.height} movement rows, engine {engine})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
