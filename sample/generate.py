"""Write a sample landing folder that follows the extract contract.

    python -m sample.generate --scale 1 --seed 7 --out data/landing

Each table lands as a backfill snapshot (folder ``2026-10-24``) and daily drops for
2026-10-25 … 2026-10-31, the way exports arrive: large tables as Parquet, others as CSV or JSON
lines (tickets mix CSV and JSON lines). The drops re-send changed entities with a newer
``updated_at`` (invoices paid, tickets solved, accounts re-rated or deleted) and repeat some rows
unchanged; one drop of line items comes from an older export that leaves out the optional
quantity and unit amount; a small share of rows breaks the contract on purpose (bad values, and a
few plan lines whose amount is not quantity x unit_amount). Output is deterministic for a seed.
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.contract import TABLES, Table
from sample.model import simulate

SNAPSHOT_DAY = date(2026, 10, 24)
DROP_DAYS = [date(2026, 10, 25) + timedelta(days=i) for i in range(7)]

FORMATS = {
    "crm__engagement_events": "parquet",
    "billing__invoices": "parquet",
    "billing__invoice_line_items": "parquet",
    "billing__transactions": "parquet",
    "support__time_entries": "parquet",
    "crm__programs": "jsonl",
    "crm__program_enrollments": "jsonl",
    "billing__charges": "jsonl",
    "support__organizations": "jsonl",
}
DROP_FORMATS = {"support__tickets": "jsonl"}  # the backfill is CSV: one table, two formats

# (table, column, bad value, share of rows): rows that must end in quarantine.
BAD_VALUES = [
    ("support__tickets", "priority", "URGENT!!", 0.0005),
    ("support__tickets", "created_at", "not-a-date", 0.0005),
    ("support__time_entries", "minutes", -15.0, 0.0005),
    ("billing__transactions", "currency", "XXX", 0.0002),
    ("crm__engagement_events", "event_type", "tweet", 0.0002),
    ("billing__subscriptions", "billing_interval", "fortnight", 0.001),
    ("billing__customers", "created_at", "31/02/2025", 0.001),
    ("crm__engagement_events", "nps_score", 11, 0.0001),
]
# (table, rows it may hit, column, value, share of those rows): rows that break a row rule of the
# contract rather than one value. A plan line edited by hand, so that its amount is no longer
# quantity x unit_amount (quarantined as inconsistent_amount).
BAD_ROWS = [
    (
        "billing__invoice_line_items",
        (pl.col("type") == "subscription") & ~pl.col("proration") & pl.col("quantity").is_not_null(),
        "amount",
        pl.col("amount") + 1,
        0.00005,
    ),
]
# Optional columns that one daily drop leaves out (it comes from the billing system's older
# export), as the contract allows: its line items state no quantity or unit amount.
OMITTED_COLUMNS = {("billing__invoice_line_items", date(2026, 10, 28)): ["quantity", "unit_amount"]}
# Values that look odd but are valid once normalised (case-insensitive enums and currencies).
CASE_VARIANTS = [
    ("crm__accounts", "segment", str.title, 0.02),
    ("billing__customers", "currency", str.lower, 0.02),
    ("support__tickets", "status", str.upper, 0.01),
]


def _rows(
    rng: np.random.Generator, frame: pl.DataFrame, share: float, where: pl.Expr | None = None
) -> pl.Series:
    """A deterministic row mask hitting about ``share`` of the rows where ``where`` holds (every
    row by default), at least one."""
    candidates = (
        np.arange(frame.height)
        if where is None
        else np.flatnonzero(frame.select(where).to_series().to_numpy())
    )
    mask = np.zeros(frame.height, bool)
    mask[
        rng.choice(candidates, size=min(max(1, int(len(candidates) * share)), len(candidates)), replace=False)
    ] = True
    return pl.Series(mask)


def _inject(rng: np.random.Generator, frames: dict[str, pl.DataFrame]) -> None:
    for name, column, value, share in BAD_VALUES:
        frame = frames[name]
        textual = FORMATS.get(name) != "parquet"
        source = pl.col(column).cast(pl.String) if textual else pl.col(column)
        bad = pl.lit(str(value) if textual else value)
        frames[name] = frame.with_columns(
            pl.when(_rows(rng, frame, share)).then(bad).otherwise(source).alias(column)
        )
    for name, where, column, value, share in BAD_ROWS:
        frame = frames[name]
        frames[name] = frame.with_columns(
            pl.when(_rows(rng, frame, share, where)).then(value).otherwise(pl.col(column)).alias(column)
        )
    for name, column, transform, share in CASE_VARIANTS:
        frame = frames[name]
        frames[name] = frame.with_columns(
            pl.when(_rows(rng, frame, share))
            .then(pl.col(column).map_elements(transform, return_dtype=pl.String))
            .otherwise(pl.col(column))
            .alias(column)
        )


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "csv":
        frame.write_csv(path)
    else:
        frame.write_ndjson(path)


def _day(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Date)


def _split_into_drops(
    rng: np.random.Generator, table: Table, versions: pl.DataFrame
) -> list[tuple[date, pl.DataFrame]]:
    """The snapshot (latest version per key before the first drop) and one frame per day."""
    if table.has_updated_at:
        stamp = _day(pl.col("updated_at"))
    elif table.name == "fx_rates":
        stamp = _day(pl.col("rate_date"))
    else:  # finance reference tables: one file
        return [(SNAPSHOT_DAY, versions)]
    before = versions.filter(stamp <= SNAPSHOT_DAY)
    if table.has_updated_at:
        before = before.sort("updated_at", maintain_order=True).unique(
            list(table.primary_key), keep="last", maintain_order=True
        )
    drops = [(SNAPSHOT_DAY, before)]
    previous = None
    for day in DROP_DAYS:
        frame = versions.filter(stamp == day)
        if previous is not None and previous.height:
            frame = pl.concat([frame, previous.filter(_rows(rng, previous, 0.01))])  # re-sent
        drops.append((day, frame))
        previous = frame
    return drops


def generate(out: Path, scale: float, seed: int, overwrite: bool = False) -> dict[str, int]:
    """Write every contract table under ``out``; returns rows written per table."""
    sample = simulate(scale, seed).frames
    rng = np.random.default_rng(seed + 1)
    _inject(rng, sample)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out} is not empty; pass --overwrite to replace it")
        shutil.rmtree(out)
    written = {}
    for table in TABLES:
        name = table.qualified_name
        final = sample[name]
        earlier = sample.get(f"{name}__versions")
        versions = final if earlier is None else pl.concat([earlier, final], how="vertical_relaxed")
        versions = versions.select(table.column_names)
        written[name] = 0
        for day, frame in _split_into_drops(rng, table, versions):
            if frame.height == 0:
                continue
            fmt = FORMATS.get(name, "csv")
            if day != SNAPSHOT_DAY:
                fmt = DROP_FORMATS.get(name, fmt)
                if name == "crm__accounts":
                    frame = frame.with_columns(sync_source=pl.lit("crm-daily"))  # schema drift
            frame = frame.drop(OMITTED_COLUMNS.get((name, day), []))
            folder = out / table.source / table.name / day.isoformat()
            _write(frame, folder / f"{table.name}.{fmt}", fmt)
            written[name] += frame.height
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = about 10,000 accounts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("data/landing"))
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    written = generate(args.out, args.scale, args.seed, args.overwrite)
    for name, rows in written.items():
        print(f"{name:32s} {rows:>12,d}")
    print(f"wrote {sum(written.values()):,d} rows to {args.out} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
