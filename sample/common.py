"""Shared calendar, reference constants and array helpers of the simulation.

The simulated business runs for ``MONTHS`` months from ``START_MONTH`` up to ``END``; every
entity module (``crm``, ``billing``, ``support``, ``finance``) draws its arrays with these helpers.
"""

from __future__ import annotations

import numpy as np
import polars as pl

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


def month_start(month_index: np.ndarray) -> np.ndarray:
    """The first instant of each month, counted from ``START_MONTH``."""
    return (START_MONTH + month_index).astype("datetime64[D]").astype("datetime64[ms]")


def within_month(rng: np.random.Generator, month_index: np.ndarray) -> np.ndarray:
    """A random instant inside each month (so that an event drawn for a month lands in it, also in
    February), never at or after ``END``."""
    start = month_start(month_index)
    length = (month_start(month_index + 1) - start).astype("timedelta64[s]").astype(np.int64) / 86_400
    return np.minimum(start + duration(rng.uniform(0, 1, len(start)) * length), END - duration(0.01))


def repeat_by_kind(counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows drawn in several kinds over the same items, ``counts[k][i]`` rows of kind ``k`` for
    item ``i``: each row's item index and kind, kind by kind."""
    item = np.concatenate([np.repeat(np.arange(len(c)), c) for c in counts])
    kind = np.concatenate([np.full(c.sum(), k) for k, c in enumerate(counts)])
    return item, kind


def ids(prefix: str, n: int, offset: int = 0) -> pl.Series:
    """``n`` identifiers like ``A00000042``: the prefix and a zero-padded counter."""
    return pl.Series(np.arange(offset, offset + n)).cast(pl.String).str.zfill(8).str.replace("^", prefix)


def pick(rng: np.random.Generator, values: np.ndarray, weights, n: int) -> np.ndarray:
    """``n`` draws from ``values`` with the given (unnormalised) weights."""
    return values[rng.choice(len(values), size=n, p=np.asarray(weights) / np.sum(weights))]


def duration(days: np.ndarray) -> np.ndarray:
    """A duration of ``days`` (fractional), truncated to whole seconds."""
    return (np.asarray(days) * 86_400).astype(np.int64).astype("timedelta64[s]").astype("timedelta64[ms]")


def only_where(mask: np.ndarray, values: np.ndarray) -> pl.Series:
    """``values`` where ``mask`` holds, NULL elsewhere (keeps the values' type)."""
    return pl.select(pl.when(pl.lit(pl.Series(mask))).then(pl.lit(pl.Series(values)))).to_series()


def add_months(day: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar-month arithmetic on dates whose day of month is at most 28."""
    d = day.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    offset = d - month.astype("datetime64[D]")
    return ((month + months).astype("datetime64[D]") + offset).astype("datetime64[ms]")
