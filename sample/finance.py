"""Finance reference tables: currencies, a simulated FX walk, agent and exception unit costs."""

from __future__ import annotations

import numpy as np
import polars as pl

from sample.common import CURRENCY_EXPONENT, END, FX_START


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


def reference_tables(rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    """The finance team's tables: minor units per currency, daily FX rates (the only random
    part), agents' hourly cost by tier, unit cost per exception category (chargebacks got dearer
    in April 2025) and the infrastructure cost of a settled transaction, each effective-dated."""
    currencies = pl.DataFrame(
        {"currency": list(CURRENCY_EXPONENT), "minor_unit_exponent": list(CURRENCY_EXPONENT.values())}
    )
    fx_rates = fx_walk(rng)
    agent_costs = pl.DataFrame(
        {
            "agent_tier": ["l1", "l1", "l2", "l2", "compliance", "compliance"],
            "effective_from": ["2024-01-01", "2025-07-16", "2024-01-01", "2025-07-16", "2024-01-01", "2026-01-01"],
            "hourly_cost_usd": [38.0, 41.5, 55.0, 60.0, 85.0, 92.0],
        }
    )  # fmt: skip
    exception_unit_costs = pl.DataFrame(
        {
            "category": ["reconciliation_break", "chargeback", "chargeback", "manual_review", "compliance_query", "custom_workflow"],
            "effective_from": ["2024-01-01", "2024-01-01", "2025-04-01", "2024-01-01", "2024-01-01", "2024-01-01"],
            "unit_cost_usd": [5.0, 15.0, 20.0, 8.0, 25.0, 12.0],
        }
    )  # fmt: skip
    infra_costs = pl.DataFrame(
        {"effective_from": ["2024-01-01", "2025-09-01"], "cost_per_settled_transaction_usd": [0.012, 0.010]}
    )
    return {
        "finance__currencies": currencies,
        "finance__fx_rates": fx_rates,
        "finance__agent_costs": agent_costs,
        "finance__exception_unit_costs": exception_unit_costs,
        "finance__infra_costs": infra_costs,
    }
