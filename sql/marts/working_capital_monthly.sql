-- Working capital over all invoices together, per month of the data range (docs/metrics.md,
-- "Working capital"): ar_end and billed_90d are the sums of the working_capital account rows
-- (the all-accounts rows of int_working_capital, which holds the formulas).
select
    cast(data_range.month as date) as month,
    cast(coalesce(totals.ar_end, 0) as decimal(38, 6)) as ar_end,
    cast(coalesce(totals.billed_90d, 0) as decimal(38, 6)) as billed_90d,
    cast(totals.dso as double) as dso,
    cast(totals.days_to_pay as double) as days_to_pay
from int_months as data_range
left join int_working_capital as totals
    on totals.month = data_range.month
        and totals.account_id is null
