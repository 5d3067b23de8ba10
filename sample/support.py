"""Support: organizations, tickets (exceptions and ordinary questions), agents' time entries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.contract import EXCEPTION_CATEGORIES
from sample.common import END, duration, ids, month_start, only_where, pick, repeat_by_kind, within_month
from sample.crm import AccountMonths, Accounts, Programs

TICKETS_PER_MONTH = np.array([0.3, 0.8, 2.0])
BILLING_QUESTIONS_PER_INCREASE = 0.8  # tickets in the month a price increase takes effect


@dataclass(frozen=True)
class Organizations:
    """Help-desk organizations and which one each CRM account maps to."""

    organization_id: pl.Series
    of_account: np.ndarray  # organization index per account, -1 when the account has none
    frames: dict[str, pl.DataFrame]


@dataclass(frozen=True)
class Tickets:
    """Tickets, one array entry each, with what the time entries need."""

    ticket_id: pl.Series
    created_at: np.ndarray
    category: np.ndarray
    is_exception: np.ndarray
    frames: dict[str, pl.DataFrame]


def organizations(rng: np.random.Generator, accounts: Accounts) -> Organizations:
    """A help-desk organization for 97% of accounts, 3% of them missing the CRM external id, plus
    a few orphan organizations pointing to unknown accounts."""
    n, account_id = accounts.n, accounts.account_id
    has_org = rng.random(n) < 0.97
    org_account = np.flatnonzero(has_org)
    n_orphan_orgs = max(2, int(0.005 * n))
    no = len(org_account) + n_orphan_orgs
    external = only_where(
        np.concatenate([rng.random(len(org_account)) >= 0.03, np.ones(n_orphan_orgs, bool)]),
        np.concatenate([account_id.gather(org_account).to_numpy(), [f"A98{i:06d}" for i in range(n_orphan_orgs)]]),
    )  # fmt: skip
    organization_id = ids("O", no)
    frame = pl.DataFrame(
        {
            "organization_id": organization_id,
            "name": organization_id.str.replace("^", "Org "),
            "external_id": external,
            "updated_at": np.concatenate([accounts.created_at[org_account], month_start(np.zeros(n_orphan_orgs, int))]),
        }
    )  # fmt: skip
    org_of_account = np.full(n, -1)
    org_of_account[org_account] = np.arange(len(org_account))
    return Organizations(
        organization_id=organization_id, of_account=org_of_account, frames={"support__organizations": frame}
    )


def _ticket_volume(
    rng: np.random.Generator,
    accounts: Accounts,
    active: AccountMonths,
    programs: Programs,
    price_increases: AccountMonths,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tickets per account-month: in active months, exception tickets follow the account's
    exception rate (as the programs change it, "exceptions" in crm.PROGRAM_EFFECTS) and the
    others its engagement; a price increase brings billing questions in its month. Returns each
    ticket's account, month and kind (0 exception, 1 ordinary question, 2 billing question)."""
    n_active = len(active.account)
    acct = np.concatenate([active.account, price_increases.account])
    month = np.concatenate([active.month, price_increases.month])
    exc_now = accounts.exceptions[acct] * programs.factor("exceptions", acct, month)
    base_rate = TICKETS_PER_MONTH[accounts.segment[acct]]
    is_active = np.arange(len(acct)) < n_active
    item, kind = repeat_by_kind(
        [
            rng.poisson(np.where(is_active, base_rate * 0.25 * exc_now, 0)),
            rng.poisson(np.where(is_active, base_rate * 0.75 * np.sqrt(accounts.engagement[acct]), 0)),
            rng.poisson(np.where(is_active, 0, BILLING_QUESTIONS_PER_INCREASE)),
        ]
    )
    return acct[item], month[item], kind


def tickets(
    rng: np.random.Generator,
    accounts: Accounts,
    active: AccountMonths,
    organizations: Organizations,
    programs: Programs,
    price_increases: AccountMonths,
) -> Tickets:
    """Tickets of linked accounts in their active months (and the billing questions that price
    increases bring), solved in about two days; 1% lack an organization. Solved tickets have an
    earlier, open version."""
    t_acct, t_month, kind = _ticket_volume(rng, accounts, active, programs, price_increases)
    nk = len(t_acct)
    is_exc = kind == 0
    org_of_account = organizations.of_account
    category = np.select(
        [is_exc, kind == 1],
        [
            pick(rng, np.array(EXCEPTION_CATEGORIES), [0.35, 0.2, 0.2, 0.1, 0.15], nk),
            pick(rng, np.array(["how_to", "bug", "billing_question"]), [0.5, 0.3, 0.2], nk),
        ],
        "billing_question",
    )  # fmt: skip
    t_created = within_month(rng, t_month)
    solved_at = t_created + duration(rng.exponential(2.0, nk))
    t_solved = solved_at < END
    t_has_org = (org_of_account[t_acct] >= 0) & (rng.random(nk) >= 0.01)
    t_org_id = only_where(
        t_has_org, organizations.organization_id.to_numpy()[np.maximum(org_of_account[t_acct], 0)]
    )
    ticket_id = ids("Z", nk)
    t_status = np.where(
        t_solved,
        np.where(rng.random(nk) < 0.1, "closed", "solved"),
        pick(rng, np.array(["new", "open", "pending"]), [1, 2, 1], nk),
    )
    frame = pl.DataFrame(
        {
            "ticket_id": ticket_id,
            "organization_id": t_org_id,
            "requester_email": pl.Series(rng.integers(0, 10**6, nk)).cast(pl.String).str.replace("^(.*)$", "user$1@customer.example"),
            "created_at": t_created,
            "solved_at": pl.Series(np.where(t_solved, solved_at, np.datetime64("NaT"))),
            "status": t_status,
            "priority": pick(rng, np.array(["low", "normal", "high", "urgent"]), [0.2, 0.5, 0.2, 0.1], nk),
            "channel": pick(rng, np.array(["email", "web", "chat", "phone", "api"]), [0.35, 0.25, 0.2, 0.1, 0.1], nk),
            "category": category,
            "reopens": rng.poisson(0.2, nk),
            "csat": only_where(t_solved & (rng.random(nk) < 0.4), rng.integers(1, 6, nk)),
            "updated_at": np.where(t_solved, solved_at, t_created),
        }
    )  # fmt: skip
    versions = (
        frame.filter(pl.Series(t_solved)).with_columns(
            status=pl.lit("open"), solved_at=pl.lit(None, pl.Datetime("us")), csat=pl.lit(None, pl.Int64), updated_at=pl.col("created_at")
        )
    )  # fmt: skip
    return Tickets(
        ticket_id=ticket_id,
        created_at=t_created,
        category=category,
        is_exception=is_exc,
        frames={"support__tickets": frame, "support__tickets__versions": versions},
    )


def time_entries(rng: np.random.Generator, tickets: Tickets) -> dict[str, pl.DataFrame]:
    """Agents' work logged on each ticket: exceptions take more entries and longer ones, go to
    L2 (compliance queries to the compliance team); other tickets mostly stay with L1."""
    is_exc = tickets.is_exception
    per_ticket = 1 + rng.poisson(np.where(is_exc, 2.2, 1.2))
    te_t = np.repeat(np.arange(len(is_exc)), per_ticket)
    nte = len(te_t)
    te_cat = tickets.category[te_t]
    te_tier = np.where(
        te_cat == "compliance_query",
        "compliance",
        np.where(is_exc[te_t] | (rng.random(nte) < 0.2), "l2", "l1"),
    )
    logged = np.minimum(tickets.created_at[te_t] + duration(rng.exponential(1.5, nte)), END - duration(0.01))
    frame = pl.DataFrame(
        {
            "time_entry_id": ids("E", nte),
            "ticket_id": tickets.ticket_id.gather(te_t),
            "agent_id": pl.Series(rng.integers(1, 60, nte)).cast(pl.String).str.replace("^", "agent-"),
            "agent_tier": te_tier,
            "minutes": np.round(rng.lognormal(np.where(is_exc[te_t], 3.5, 2.6), 0.6), 1),
            "logged_at": logged,
            "updated_at": logged,
        }
    )  # fmt: skip
    return {"support__time_entries": frame}
