-- Working capital over all invoices together, per month of the data range (docs/metrics.md,
-- "Working capital"): ar_end and billed_90d are the sums of the working_capital account rows.
with totals as (
    select
        month,
        sum(ar_end) as ar_end,
        sum(billed_90d) as billed_90d,
        sum(paid_amount) as paid_amount,
        sum(paid_amount_seconds) as paid_amount_seconds
    from int_receivables_by_account_month
    group by month
)

select
    cast(data_range.month as date) as month,
    cast(coalesce(totals.ar_end, 0) as decimal(38, 6)) as ar_end,
    cast(coalesce(totals.billed_90d, 0) as decimal(38, 6)) as billed_90d,
    cast(totals.ar_end / nullif(totals.billed_90d, 0) * 90 as double) as dso,
    cast(totals.paid_amount_seconds / nullif(totals.paid_amount, 0) / 86400 as double) as days_to_pay
from int_months as data_range
left join totals using (month)
