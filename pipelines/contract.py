"""The extract contract (``docs/extracts.md``) declared once, as data.

Ingestion (readers, casts, quarantine rules), staging (the change-data rule) and the sample
generator all read these declarations, so a column added to the contract is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCES = ("crm", "billing", "support", "finance")


@dataclass(frozen=True)
class Column:
    """One contract column.

    ``type`` is a DuckDB type name. ``enum`` lists the allowed values (matched case-insensitively,
    stored lower-case); ``currency`` marks an ISO code that must exist in ``finance/currencies``
    (stored upper-case); ``min``/``max`` bound numeric values (inclusive; ``min_exclusive`` makes
    ``min`` itself out of range, e.g. minutes > 0). A value outside its bounds is quarantined as
    ``out_of_range(<column>)``.
    """

    name: str
    type: str = "VARCHAR"
    required: bool = True
    enum: tuple[str, ...] | None = None
    currency: bool = False
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False


@dataclass(frozen=True)
class RowRule:
    """A contract rule on a row rather than one value, e.g. a range that depends on another column.

    ``violation`` is a SQL condition over the row's typed contract columns (enums already lower
    case) that is true when the row breaks the rule; such a row is quarantined as ``rule``.
    Staging states the same condition again as an expectation.
    """

    rule: str
    violation: str
    description: str


@dataclass(frozen=True)
class Table:
    """One contract table: ``<landing>/<source>/<name>/**``."""

    source: str
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    description: str
    pii_columns: tuple[str, ...] = field(default=())
    row_rules: tuple[RowRule, ...] = field(default=())

    @property
    def qualified_name(self) -> str:
        """``<source>__<name>``: the raw table's name, unique across sources."""
        return f"{self.source}__{self.name}"

    @property
    def staging_name(self) -> str:
        return f"stg_{self.source}__{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def has_updated_at(self) -> bool:
        return "updated_at" in self.column_names

    @property
    def has_is_deleted(self) -> bool:
        return "is_deleted" in self.column_names

    @property
    def checks_currency(self) -> bool:
        return any(c.currency for c in self.columns)


def _c(name: str, type: str = "VARCHAR", **kwargs) -> Column:
    return Column(name, type, **kwargs)


def _opt(name: str, type: str = "VARCHAR", **kwargs) -> Column:
    return Column(name, type, required=False, **kwargs)


TS = "TIMESTAMP"
_SIGNED_DOWN = "('discount', 'credit')"  # line item types whose amount is <= 0
UPDATED_AT = _c("updated_at", TS)
IS_DELETED = _c("is_deleted", "BOOLEAN")

SEGMENTS = ("smb", "mid_market", "enterprise")
EVENT_TYPES = (
    "portal_login",
    "feature_use",
    "campaign_touch",
    "webinar",
    "nps_response",
    "qbr_meeting",
    "report_download",
    "unsubscribe",  # contract revision 2
)
EXCEPTION_CATEGORIES = (
    "reconciliation_break",
    "chargeback",
    "manual_review",
    "compliance_query",
    "custom_workflow",
)
TICKET_CATEGORIES = ("how_to", "bug", "billing_question", *EXCEPTION_CATEGORIES)
INVOICE_STATUSES = ("draft", "open", "paid", "void", "uncollectible")
# Invoices whose lines are revenue (and that working capital counts); MRR also counts drafts, the
# next period of a live subscription that billing has not finalised yet (docs/metrics.md).
REVENUE_INVOICE_STATUSES = ("open", "paid", "uncollectible")
MRR_INVOICE_STATUSES = (*REVENUE_INVOICE_STATUSES, "draft")
AGENT_TIERS = ("l1", "l2", "compliance")
TARGET_METRICS = (
    "revenue",
    "mrr",
    "gross_margin",
    "gross_margin_pct",
    "cost_to_serve",
    "exception_handling_cost",
    "contribution_margin",
    "engagement_score",
)

TABLES: tuple[Table, ...] = (
    # --- crm -------------------------------------------------------------------------------
    Table(
        "crm",
        "accounts",
        (
            _c("account_id"),
            _c("account_name"),
            _opt("industry"),
            _c("country"),
            _c("segment", enum=SEGMENTS),
            _c("risk_tier", enum=("low", "medium", "high")),
            _opt("owner_email"),
            _c("created_at", TS),
            IS_DELETED,
            UPDATED_AT,
        ),
        ("account_id",),
        "CRM accounts: the conformed customer identity.",
        pii_columns=("owner_email",),
    ),
    Table(
        "crm",
        "contacts",
        (
            _c("contact_id"),
            _c("account_id"),
            _opt("full_name"),
            _opt("email"),
            _opt("phone"),
            IS_DELETED,
            UPDATED_AT,
        ),
        ("contact_id",),
        "CRM contacts (personal data: never published).",
        pii_columns=("full_name", "email", "phone"),
    ),
    Table(
        "crm",
        "engagement_events",
        (
            _c("event_id"),
            _c("account_id"),
            _c("occurred_at", TS),
            _c("event_type", enum=EVENT_TYPES),
            _opt("channel", enum=("web", "email", "in_app", "in_person", "phone")),
            _opt("feature"),
            _opt("nps_score", "INTEGER", min=0, max=10),
            _opt("program_id"),
            UPDATED_AT,
        ),
        ("event_id",),
        "Engagement events: logins, feature use, campaigns, webinars, NPS responses, QBRs.",
    ),
    Table(
        "crm",
        "programs",
        (
            _c("program_id"),
            _c("name"),
            _c("launched_on", "DATE"),
            _c("cost_per_enrolled_account_usd", "DOUBLE", min=0),
            _c("target_metric", enum=TARGET_METRICS),
            _c("expected_change", "DOUBLE"),
            _c("evaluation_window_days", "INTEGER", min=1),
            _c("kill_threshold", "DOUBLE"),
            _opt("owner"),
            UPDATED_AT,
        ),
        ("program_id",),
        "Engagement programs with their economic hypothesis and kill criterion.",
    ),
    Table(
        "crm",
        "program_enrollments",
        (_c("program_id"), _c("account_id"), _c("enrolled_at", TS), UPDATED_AT),
        ("program_id", "account_id"),
        "Accounts enrolled in engagement programs.",
    ),
    # --- billing ---------------------------------------------------------------------------
    Table(
        "billing",
        "customers",
        (
            _c("customer_id"),
            _opt("crm_account_id"),
            _c("currency", currency=True),
            _opt("email"),
            _c("created_at", TS),
            UPDATED_AT,
        ),
        ("customer_id",),
        "Billing customers; crm_account_id links them to CRM accounts.",
        pii_columns=("email",),
    ),
    Table(
        "billing",
        "subscriptions",
        (
            _c("subscription_id"),
            _c("customer_id"),
            _c("plan_id"),
            _c("status", enum=("active", "past_due", "canceled", "trialing")),
            _c("billing_interval", enum=("month", "quarter", "year")),
            _c("started_at", TS),
            _opt("canceled_at", TS),
            UPDATED_AT,
        ),
        ("subscription_id",),
        "Billing subscriptions.",
    ),
    Table(
        "billing",
        "invoices",
        (
            _c("invoice_id"),
            _c("customer_id"),
            _opt("subscription_id"),
            _c("status", enum=INVOICE_STATUSES),
            _c("currency", currency=True),
            _c("amount_due", "BIGINT", min=0),
            _c("amount_paid", "BIGINT", min=0),
            _c("created_at", TS),
            _opt("due_at", TS),
            _opt("paid_at", TS),
            UPDATED_AT,
        ),
        ("invoice_id",),
        "Invoices, amounts in the currency's minor unit.",
    ),
    Table(
        "billing",
        "invoice_line_items",
        (
            _c("line_item_id"),
            _c("invoice_id"),
            _c("type", enum=("subscription", "usage", "one_time", "discount", "credit")),
            _c("amount", "BIGINT"),
            _c("currency", currency=True),
            _c("period_start", "DATE"),
            _c("period_end", "DATE"),
            _c("proration", "BOOLEAN"),
            _opt("description"),
            _opt("quantity", "BIGINT", min=1),  # contract revision 2
            _opt("unit_amount", "BIGINT", min=0),  # contract revision 2, minor units
            UPDATED_AT,
        ),
        ("line_item_id",),
        "Invoice line items with their service period [period_start, period_end).",
        row_rules=(
            RowRule(
                "inconsistent_amount",
                "type = 'subscription' AND NOT proration AND amount <> CAST(quantity AS HUGEINT) * unit_amount",
                "a subscription line that is not a proration and states quantity and unit_amount"
                " has amount = quantity x unit_amount",
            ),
            RowRule(
                "out_of_range(amount)",
                f"(type IN {_SIGNED_DOWN} AND amount > 0) OR (type NOT IN {_SIGNED_DOWN} AND amount < 0)",
                "discount and credit lines are not positive; subscription, usage and one_time lines are not negative",
            ),
        ),
    ),
    Table(
        "billing",
        "transactions",
        (
            _c("transaction_id"),
            _c("customer_id"),
            _c("occurred_at", TS),
            _c("status", enum=("settled", "refunded", "disputed", "failed")),
            _c("amount", "BIGINT", min=0),
            _c("currency", currency=True),
            _c("processing_cost", "BIGINT", min=0),
            UPDATED_AT,
        ),
        ("transaction_id",),
        "Payment volume processed for the customer, with the network cost paid by the platform.",
    ),
    Table(
        "billing",
        "charges",
        (
            _c("charge_id"),
            _c("invoice_id"),
            _c("customer_id"),
            _c("created_at", TS),
            _c("amount", "BIGINT", min=0),
            _c("fee", "BIGINT", min=0),
            _c("currency", currency=True),
            _c("status", enum=("succeeded", "failed", "refunded")),
            UPDATED_AT,
        ),
        ("charge_id",),
        "Collection attempts on invoices, with the processor fee.",
    ),
    # --- support ---------------------------------------------------------------------------
    Table(
        "support",
        "organizations",
        (_c("organization_id"), _c("name"), _opt("external_id"), UPDATED_AT),
        ("organization_id",),
        "Help-desk organizations; external_id links them to CRM accounts.",
    ),
    Table(
        "support",
        "tickets",
        (
            _c("ticket_id"),
            _opt("organization_id"),
            _opt("requester_email"),
            _c("created_at", TS),
            _opt("solved_at", TS),
            _c("status", enum=("new", "open", "pending", "solved", "closed")),
            _c("priority", enum=("low", "normal", "high", "urgent")),
            _c("channel", enum=("email", "web", "chat", "phone", "api")),
            _c("category", enum=TICKET_CATEGORIES),
            _c("reopens", "INTEGER", min=0),
            _opt("csat", "INTEGER", min=1, max=5),
            UPDATED_AT,
        ),
        ("ticket_id",),
        "Help-desk tickets; five categories are exceptions (reconciliation, chargeback, ...).",
        pii_columns=("requester_email",),
    ),
    Table(
        "support",
        "time_entries",
        (
            _c("time_entry_id"),
            _c("ticket_id"),
            _c("agent_id"),
            _c("agent_tier", enum=AGENT_TIERS),
            _c("minutes", "DOUBLE", min=0, min_exclusive=True),
            _c("logged_at", TS),
            UPDATED_AT,
        ),
        ("time_entry_id",),
        "Agent time logged on tickets.",
    ),
    # --- finance ---------------------------------------------------------------------------
    Table(
        "finance",
        "fx_rates",
        (
            _c("rate_date", "DATE"),
            _c("currency", currency=True),
            # The contract says >= 0, but 0 units per USD cannot be a rate: converting with it
            # divides by zero. It is quarantined as out_of_range like a negative rate.
            _c("units_per_usd", "DOUBLE", min=0, min_exclusive=True),
        ),
        ("rate_date", "currency"),
        "Daily FX rates: units of the currency per 1 USD (gaps on non-trading days).",
    ),
    Table(
        "finance",
        "currencies",
        (_c("currency"), _c("minor_unit_exponent", "INTEGER", min=0, max=4)),
        ("currency",),
        "Known currencies and their minor-unit exponent.",
    ),
    Table(
        "finance",
        "agent_costs",
        (
            _c("agent_tier", enum=AGENT_TIERS),
            _c("effective_from", "DATE"),
            _c("hourly_cost_usd", "DOUBLE", min=0),
        ),
        ("agent_tier", "effective_from"),
        "Fully loaded hourly agent cost per tier, effective-dated.",
    ),
    Table(
        "finance",
        "exception_unit_costs",
        (
            _c("category", enum=EXCEPTION_CATEGORIES),
            _c("effective_from", "DATE"),
            _c("unit_cost_usd", "DOUBLE", min=0),
        ),
        ("category", "effective_from"),
        "External cost per exception ticket, effective-dated.",
    ),
    Table(
        "finance",
        "infra_costs",
        (_c("effective_from", "DATE"), _c("cost_per_settled_transaction_usd", "DOUBLE", min=0)),
        ("effective_from",),
        "Infrastructure cost per settled transaction, effective-dated.",
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.qualified_name: t for t in TABLES}
CURRENCIES_TABLE = TABLES_BY_NAME["finance__currencies"]


def table(source: str, name: str) -> Table:
    return TABLES_BY_NAME[f"{source}__{name}"]


def code_tables() -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    """The contract's business codes as small tables the SQL joins, so that no model or check
    lists them again: {table: (columns, rows)}."""
    return {
        "ticket_categories": (
            ("category", "is_exception"),
            [(c, c in EXCEPTION_CATEGORIES) for c in TICKET_CATEGORIES],
        ),
        "invoice_statuses": (
            ("status", "counts_for_revenue", "counts_for_mrr"),
            [(s, s in REVENUE_INVOICE_STATUSES, s in MRR_INVOICE_STATUSES) for s in INVOICE_STATUSES],
        ),
    }
