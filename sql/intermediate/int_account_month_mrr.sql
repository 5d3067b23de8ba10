-- MRR per account and month at the month's last-day rates (metrics.md, "MRR"); a negative sum
-- (a discount larger than the plan) counts as 0.
select
    amounts.account_id,
    amounts.month,
    greatest(sum(amounts.monthly_amount_minor * fx.minor_unit_to_reporting), 0) as mrr
from int_mrr_by_account_month_currency as amounts
inner join int_fx_daily as fx
    on fx.currency = amounts.currency
    and fx.rate_date = last_day(amounts.month)
group by amounts.account_id, amounts.month
