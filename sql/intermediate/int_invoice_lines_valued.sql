-- Invoice line items that can be valued: their invoice can be valued (int_invoices_valued) and
-- an FX rate of the line's own currency is in effect at the invoice's created_at date. Lines
-- without one are quarantined (rate_quarantine); lines without their invoice are orphans. The
-- invoice's status rules (counts_for_revenue, counts_for_mrr) come with it.
-- fx_factor converts the line's minor units to the reporting currency at the invoice date; each
-- rule rounds what it converts once (money()). billed_months is the n of a recurring line's
-- monthly amount, amount / n (docs/metrics.md, "MRR"): a 28- to 31-day period is 1 month, 90 to
-- 92 days are 3, a year 12.
select
    lines.line_item_id,
    lines.invoice_id,
    invoices.customer_id,
    invoices.account_id,
    invoices.subscription_id,
    lines.type,
    lines.proration,
    lines.amount,
    lines.currency,
    lines.period_start,
    lines.period_end,
    date_diff('day', lines.period_start, lines.period_end) as period_days,
    greatest(1, round(date_diff('day', lines.period_start, lines.period_end) / 30.4375)) as billed_months,
    lines.quantity,
    lines.unit_amount,
    fx.minor_unit_exponent,
    invoices.fact_date as invoice_date,
    invoices.counts_for_revenue,
    invoices.counts_for_mrr,
    fx.minor_unit_to_reporting as fx_factor
from stg_billing__invoice_line_items as lines
inner join int_invoices_valued as invoices on invoices.invoice_id = lines.invoice_id
inner join int_fx_daily as fx
    on fx.currency = lines.currency
        and fx.rate_date = invoices.fact_date
