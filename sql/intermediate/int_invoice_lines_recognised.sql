-- Invoice line items that count as revenue (metrics.md, "Revenue"): lines of open, paid and
-- uncollectible invoices (never draft or void), valued in the reporting currency at the FX rate
-- of the invoice's created_at date, in the line's own currency. amount_reporting is NULL when no
-- rate is in effect (listed in rate_quarantine, left out of the marts). Lines without their
-- invoice are orphans (see orphans).
with lines as (
    select * from stg_billing__invoice_line_items
),

invoices as (
    select * from stg_billing__invoices
)

select
    lines.line_item_id,
    lines.invoice_id,
    invoices.customer_id,
    coalesce(customers.account_id, 'unattributed:billing') as account_id,
    lines.type,
    lines.proration,
    lines.amount,
    lines.currency,
    lines.period_start,
    lines.period_end,
    date_diff('day', lines.period_start, lines.period_end) as period_days,
    cast(invoices.created_at as date) as invoice_date,
    lines.amount * fx.minor_unit_to_reporting as amount_reporting
from lines
inner join invoices on invoices.invoice_id = lines.invoice_id
left join int_customer_accounts as customers on customers.customer_id = invoices.customer_id
left join int_fx_daily as fx
    on fx.currency = lines.currency
    and fx.rate_date = cast(invoices.created_at as date)
where invoices.status in ('open', 'paid', 'uncollectible')
