-- Working-capital velocity per account and month (docs/metrics.md, "Working capital"), dense over
-- int_account_months: accounts receivable at month end, billed in the trailing 90 days, DSO and
-- the amount-weighted days to pay of invoices paid in the month (formulas: int_working_capital).
select
    cast(spine.account_id as varchar) as account_id,
    cast(spine.month as date) as month,
    cast(coalesce(positions.ar_end, 0) as decimal(38, 6)) as ar_end,
    cast(coalesce(positions.billed_90d, 0) as decimal(38, 6)) as billed_90d,
    cast(positions.dso as double) as dso,
    cast(positions.days_to_pay as double) as days_to_pay
from int_account_months as spine
left join int_working_capital as positions
    on positions.account_id = spine.account_id
        and positions.month = spine.month
