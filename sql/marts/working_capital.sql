-- Working-capital velocity per account and month (docs/metrics.md, "Working capital"), dense over
-- int_account_months: accounts receivable at month end, billed in the trailing 90 days, DSO and
-- the amount-weighted days to pay of invoices paid in the month.
select
    cast(spine.account_id as varchar) as account_id,
    cast(spine.month as date) as month,
    cast(coalesce(receivables.ar_end, 0) as decimal(38, 6)) as ar_end,
    cast(coalesce(receivables.billed_90d, 0) as decimal(38, 6)) as billed_90d,
    cast(receivables.ar_end / nullif(receivables.billed_90d, 0) * 90 as double) as dso,
    cast(receivables.paid_amount_seconds / nullif(receivables.paid_amount, 0) / 86400 as double) as days_to_pay
from int_account_months as spine
left join int_receivables_by_account_month as receivables using (account_id, month)
