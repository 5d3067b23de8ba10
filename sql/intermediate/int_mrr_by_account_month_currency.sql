-- Monthly recurring amounts per account, month and currency, in minor units (docs/metrics.md,
-- "MRR"): subscription and discount lines without proration, of invoices that count for MRR
-- (drafts included). A line counts toward month M when period_start <= d(M) < period_end, where
-- d(M) is the day M is measured on (int_month_ends: its last day, as_of_date for the month in
-- progress). Months after as_of_month are not measured. Monthly amount = amount / billed_months
-- (max(1, round(period days / 30.4375))), rounded once to 6 decimals of the minor unit
-- (exact sums). Kept per currency so that any month's rates can value it (MRR at M's rate,
-- previous month's MRR at M's rate for constant currency).
with recurring as (
    select *
    from int_invoice_lines_valued
    where counts_for_mrr and type in ('subscription', 'discount') and not proration and period_days >= 1
),

line_months as (
    select
        recurring.*,
        months.month,
        month_ends.measured_on
    from recurring
    inner join int_invoice_line_months as months on months.line_item_id = recurring.line_item_id
    inner join int_month_ends as month_ends on month_ends.month = months.month
)

select
    account_id,
    month,
    currency,
    sum(money(amount / billed_months)) as monthly_amount_minor
from line_months
where period_start <= measured_on and measured_on < period_end
group by account_id, month, currency
