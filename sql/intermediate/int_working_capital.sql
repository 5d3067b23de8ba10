-- Working-capital positions and velocity (docs/metrics.md, "Working capital"), per account and
-- month and, with account_id NULL, over all invoices of the month: the one home of the DSO and
-- days-to-pay formulas, which both working-capital marts read.
-- dso = ar_end / billed_90d x 90; days_to_pay = amount-weighted mean days from created_at to
-- paid_at of the invoices paid in the month. NULL when the denominator is 0.
-- The receivables hold one row per account and month already: only the totals are grouped
-- (grouping sets on both grew a hash table of every account-month, 0.42 s at scale 10).
with positions as (
    select account_id, month, ar_end, billed_90d, paid_amount, paid_amount_seconds
    from int_receivables_by_account_month
    union all
    select
        null as account_id,
        month,
        sum(ar_end) as ar_end,
        sum(billed_90d) as billed_90d,
        sum(paid_amount) as paid_amount,
        sum(paid_amount_seconds) as paid_amount_seconds
    from int_receivables_by_account_month
    group by month
)

select
    account_id,
    month,
    ar_end,
    billed_90d,
    ar_end / nullif(billed_90d, 0) * 90 as dso,
    paid_amount_seconds / nullif(paid_amount, 0) / 86400 as days_to_pay
from positions
