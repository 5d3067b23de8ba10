"""A vectorised simulation of a payments platform's customers: the sample extracts' content.

Everything is drawn with numpy over whole arrays (accounts, subscriptions, billing periods,
account-months), never row by row, so scale 10 (about 100k accounts, 20M transactions) takes
minutes. Each function returns polars frames with the contract's columns (final state of every
entity plus, for entities that change, their earlier versions: see ``versions``).

The story the data tells:
- A few percent of accounts are "engagement theater" (very engaged and very expensive to serve
  through exceptions).
- Programs, each judged against its own hypothesis and at two horizons: reconciliation onboarding
  halves the exceptions of its enrolled accounts (on track); the webinar series changes nothing;
  the enterprise QBR program is too recent to judge; a pilot has only nine accounts. Two programs
  win at one horizon and lose at the other, on contribution margin: the seat expansion push
  (mid-market) sells more seats at once (short-term reward, on track on its MRR target) but
  oversold: its accounts cost more to serve, about half of them churn within a year and the
  others cut back below where they started (long-term penalty); the payments stack migration (SMB) triples exceptions and
  credits a third of the plan while it runs (short-term penalty, killed on its own target) and
  then halves exceptions and adds seats for good (long-term reward).
- Fatigue: the lifecycle email push quadruples campaign touches on a quarter of the accounts in
  spring 2026; half of them tune out (organic engagement halves) and some unsubscribe. Outside a
  push, campaign pressure is a steady newsletter, so fatigued accounts stand out.
- Price increases (3-12% on the unit price) on about a tenth of the plans at a renewal: most
  customers absorb them; accounts that engage a lot while costing a lot to serve on a cheap plan
  (the engagement theater quadrant) re-bid, cutting seats or canceling, far more often than quiet,
  profitable ones.
- Churn, then reactivation after a gap, for about a third of the churned customers.

The entities live in ``sample.crm``, ``sample.billing``, ``sample.support`` and
``sample.finance``; ``simulate`` wires them together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sample import billing, crm, finance, support
from sample.common import ACCOUNTS_PER_SCALE


@dataclass
class Sample:
    """All generated frames, keyed by ``<source>__<table>``."""

    frames: dict[str, pl.DataFrame]


def simulate(scale: float, seed: int) -> Sample:
    """Simulate the whole business for about ``ACCOUNTS_PER_SCALE * scale`` accounts.

    Every step draws from one shared generator, so the order of the calls below is part of the
    output: reordering them (or the draws inside them) changes every table after that point.
    """
    rng = np.random.default_rng(seed)
    n = max(50, int(ACCOUNTS_PER_SCALE * scale))
    frames: dict[str, pl.DataFrame] = {}

    accounts = crm.accounts(rng, n)
    frames |= accounts.frames
    frames |= crm.contacts(rng, accounts)

    programs = crm.programs(rng, accounts)  # before billing: programs change seats and churn
    frames |= programs.frames

    customers = billing.customers(rng, accounts)
    frames |= customers.frames
    subscriptions = billing.subscriptions(rng, customers, programs)
    frames |= subscriptions.frames
    invoices = billing.invoices(rng, customers, subscriptions, programs)
    frames |= invoices.frames
    frames |= billing.charges(rng, customers, invoices)
    active = billing.active_months(customers, subscriptions)
    frames |= billing.transactions(rng, customers, active)

    organizations = support.organizations(rng, accounts)
    frames |= organizations.frames
    increases = billing.price_increase_months(customers, subscriptions)
    tickets = support.tickets(rng, accounts, active.linked, organizations, programs, increases)
    frames |= tickets.frames
    frames |= support.time_entries(rng, tickets)

    frames |= crm.engagement_events(rng, accounts, active.linked, programs)
    frames |= finance.reference_tables(rng)
    return Sample(frames)
