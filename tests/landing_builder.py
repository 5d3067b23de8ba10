"""A builder of small landing folders for golden tests: a few accounts, each with its CRM
account, billing customer (``C<account>``) and support organization (``O<account>``), plus the
invoices, tickets and events a test adds. Costs are l1 agent time at 60 USD an hour (one minute =
one dollar) and custom_workflow exception tickets at 10 USD each; EUR is 0.8 per USD unless a
test adds rates to ``eur_per_usd``.
"""

from __future__ import annotations

from pathlib import Path

from assets.resources import WarehouseResource
from tests.conftest import materialize_all, write


class Landing:
    """Collects extract rows for a few accounts and writes them as CSV drops."""

    def __init__(self) -> None:
        self.rows: dict[str, list[str]] = {}
        self.ids = 0
        self.eur_per_usd = {"2023-01-01": 0.8}  # EUR units per USD from each date on

    def add(self, table: str, header: str, row: str) -> None:
        self.rows.setdefault(table, [header]).append(row)

    def next_id(self) -> int:
        self.ids += 1
        return self.ids

    def account(self, account_id: str, segment: str) -> None:
        self.add(
            "crm/accounts",
            "account_id,account_name,country,segment,risk_tier,created_at,is_deleted,updated_at",
            f"{account_id},{account_id},US,{segment},low,2024-12-01,false,2024-12-01",
        )
        self.add(
            "billing/customers",
            "customer_id,crm_account_id,currency,created_at,updated_at",
            f"C{account_id},{account_id},USD,2024-12-01,2024-12-01",
        )
        self.add("support/organizations", "organization_id,name,external_id,updated_at",
                 f"O{account_id},{account_id},{account_id},2024-12-01")  # fmt: skip

    def revenue(self, account_id: str, day: str, dollars: float) -> None:
        """A paid one-time line of ``dollars`` on ``day``: revenue in that month, no MRR."""
        self.invoice_line(f"C{account_id}", day, day, round(dollars * 100), line_type="one_time")

    def invoice_line(
        self,
        customer_id: str,
        period_start: str,
        period_end: str,
        amount: int,
        *,
        line_type: str = "subscription",
        currency: str = "USD",
        subscription_id: str = "",
        quantity: int | None = None,
        unit_amount: int | None = None,
        status: str = "paid",
        created_on: str | None = None,
    ) -> None:
        """One invoice created on ``created_on`` (by default ``period_start``) with one line
        (amounts in minor units)."""
        n = self.next_id()
        paid = amount if status == "paid" else 0
        created = created_on or period_start
        self.add(
            "billing/invoices",
            "invoice_id,customer_id,subscription_id,status,currency,amount_due,amount_paid,created_at,paid_at,updated_at",
            f"I{n},{customer_id},{subscription_id},{status},{currency},{amount},{paid},{created},"
            f"{created if status == 'paid' else ''},{created}",
        )
        self.add(
            "billing/invoice_line_items",
            "line_item_id,invoice_id,type,amount,currency,period_start,period_end,proration,quantity,unit_amount,updated_at",
            f"L{n},I{n},{line_type},{amount},{currency},{period_start},{period_end},false,"
            f"{'' if quantity is None else quantity},{'' if unit_amount is None else unit_amount},{created}",
        )

    def ticket(self, account_id: str, day: str, category: str = "how_to", minutes: float = 0) -> None:
        n = self.next_id()
        self.add("support/tickets", "ticket_id,organization_id,created_at,status,priority,channel,category,reopens,updated_at",
                 f"K{n},O{account_id},{day}T09:00:00,solved,low,web,{category},0,{day}T09:00:00")  # fmt: skip
        if minutes:
            self.add("support/time_entries", "time_entry_id,ticket_id,agent_id,agent_tier,minutes,logged_at,updated_at",
                     f"E{n},K{n},ag,l1,{minutes},{day}T10:00:00,{day}T10:00:00")  # fmt: skip

    def event(self, account_id: str, day: str, event_type: str) -> None:
        self.add(
            "crm/engagement_events",
            "event_id,account_id,occurred_at,event_type,updated_at",
            f"V{self.next_id()},{account_id},{day}T08:00:00,{event_type},{day}T08:00:00",
        )

    def write_to(self, landing: Path) -> None:
        write(landing, "finance/currencies/d/c.csv", "currency,minor_unit_exponent\nUSD,2\nEUR,2\n")
        rates = "".join(f"{day},EUR,{rate}\n" for day, rate in self.eur_per_usd.items())
        write(landing, "finance/fx_rates/d/fx.csv", "rate_date,currency,units_per_usd\n" + rates)
        write(
            landing,
            "finance/agent_costs/d/a.csv",
            "agent_tier,effective_from,hourly_cost_usd\nl1,2024-01-01,60\n",
        )
        write(
            landing,
            "finance/exception_unit_costs/d/u.csv",
            "category,effective_from,unit_cost_usd\ncustom_workflow,2024-01-01,10\n",
        )
        for table, lines in self.rows.items():
            write(landing, f"{table}/d/rows.csv", "\n".join(lines) + "\n")


def build(root: Path, landing: Landing) -> WarehouseResource:
    landing.write_to(root / "landing")
    warehouse = WarehouseResource(landing_dir=str(root / "landing"), warehouse_dir=str(root / "warehouse"))
    materialize_all(warehouse)
    return warehouse
