-- Monthly recurring amounts per account, month and currency, in minor units (metrics.md, "MRR"):
-- subscription and discount lines without proration, of recognised invoices; a line counts toward
-- month M when period_start <= last day of M < period_end, with monthly amount
-- amount / max(1, round(period days / 30.4375)). Kept per currency so that any month's rates
-- can value it (MRR at M's rate, previous month's MRR at M's rate for constant currency).
with recurring as (
    select *
    from int_invoice_lines_recognised
    where type in ('subscription', 'discount') and not proration and period_days >= 1
),

line_months as (
    select recurring.*, months.month
    from recurring
    inner join int_invoice_line_months as months on months.line_item_id = recurring.line_item_id
)

select
    line_months.account_id,
    line_months.month,
    line_months.currency,
    sum(line_months.amount / greatest(1, round(line_months.period_days / 30.4375))) as monthly_amount_minor
from line_months
cross join int_periods as periods
where line_months.period_start <= last_day(line_months.month)
    and last_day(line_months.month) < line_months.period_end
    and line_months.month <= periods.as_of_month
group by line_months.account_id, line_months.month, line_months.currency
