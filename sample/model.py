"""A vectorised simulation of a payments platform's customers: the sample extracts' content.

Everything is drawn with numpy over whole arrays (accounts, subscriptions, billing periods,
account-months), never row by row, so scale 10 (about 100k accounts, 20M transactions) takes
minutes. Each function returns polars frames with the contract's columns (final state of every
entity plus, for entities that change, their earlier versions: see ``versions``).

The story the data tells: a few percent of accounts are "engagement theater" (very engaged and
very expensive to serve through exceptions); the reconciliation onboarding program halves the
exceptions of its enrolled accounts; the webinar series changes nothing; the enterprise QBR
program is too recent to judge; a pilot has only nine accounts.

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

    customers = billing.customers(rng, accounts)
    frames |= customers.frames
    subscriptions = billing.subscriptions(rng, customers)
    frames |= subscriptions.frames
    invoices = billing.invoices(rng, customers, subscriptions)
    frames |= invoices.frames
    frames |= billing.charges(rng, customers, invoices)
    active = billing.active_months(customers, subscriptions)
    frames |= billing.transactions(rng, customers, active)

    programs = crm.programs(rng, accounts)
    frames |= programs.frames

    organizations = support.organizations(rng, accounts)
    frames |= organizations.frames
    tickets = support.tickets(rng, accounts, active.linked, organizations, programs)
    frames |= tickets.frames
    frames |= support.time_entries(rng, tickets)

    frames |= crm.engagement_events(rng, accounts, active.linked, programs)
    frames |= finance.reference_tables(rng)
    return Sample(frames)
