"""Support: organizations, tickets (exceptions and ordinary questions), agents' time entries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.contract import EXCEPTION_CATEGORIES
from sample.common import END, duration, ids, month_start, only_where, pick
from sample.crm import AccountMonths, Accounts, Programs

TICKETS_PER_MONTH = np.array([0.3, 0.8, 2.0])


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
    rng: np.random.Generator, accounts: Accounts, active: AccountMonths, programs: Programs
) -> tuple[np.ndarray, np.ndarray]:
    """Tickets per active account-month: exception tickets follow the account's exception rate
    (halved once reconciliation onboarding pays off), the others its engagement. Returns each
    ticket's account-month index and whether it is an exception."""
    tk_acct_cm, tk_month = active.account, active.month
    exc_now = accounts.exceptions[tk_acct_cm] * np.where(
        tk_month >= programs.onboarded_from_month[tk_acct_cm], 0.45, 1.0
    )
    base_rate = TICKETS_PER_MONTH[accounts.segment[tk_acct_cm]]
    exc_count = rng.poisson(base_rate * 0.25 * exc_now)
    other_count = rng.poisson(base_rate * 0.75 * np.sqrt(accounts.engagement[tk_acct_cm]))
    t_cm = np.concatenate(
        [np.repeat(np.arange(len(tk_acct_cm)), exc_count), np.repeat(np.arange(len(tk_acct_cm)), other_count)]
    )
    is_exc = np.concatenate([np.ones(exc_count.sum(), bool), np.zeros(other_count.sum(), bool)])
    return t_cm, is_exc


def tickets(
    rng: np.random.Generator,
    accounts: Accounts,
    active: AccountMonths,
    organizations: Organizations,
    programs: Programs,
) -> Tickets:
    """Tickets of linked accounts in their active months, solved in about two days; 1% lack an
    organization. Solved tickets have an earlier, open version."""
    t_cm, is_exc = _ticket_volume(rng, accounts, active, programs)
    nk = len(t_cm)
    t_acct = active.account[t_cm]
    org_of_account = organizations.of_account
    category = np.where(
        is_exc,
        pick(rng, np.array(EXCEPTION_CATEGORIES), [0.35, 0.2, 0.2, 0.1, 0.15], nk),
        pick(rng, np.array(["how_to", "bug", "billing_question"]), [0.5, 0.3, 0.2], nk),
    )  # fmt: skip
    t_created = np.minimum(
        month_start(active.month[t_cm]) + duration(rng.uniform(0, 30.9, nk)), END - duration(0.01)
    )
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
