-- MRR per account and month M, valued at M's last-day rates (docs/metrics.md, "MRR", "Retention"):
-- mrr (this month's recurring amounts), previous_mrr (last month's amounts at this month's
-- rates: constant currency) and mrr_12_months_ago (the amounts of M-12 at M's rates). A negative
-- sum (a discount larger than the plan) counts as 0. Each currency's amount is converted and
-- rounded once (money()), so the sums are exact. Rows run through as_of_month and include the
-- month after the last recurring month (where previous_mrr is the churned amount).
with lags as (
    select lag_months from (values (0), (1), (12)) as lags (lag_months)
),

-- Each month's amounts, shifted to the month whose rates value them (a plain column, so the
-- rate lookup below stays an equality join).
shifted as (
    select
        amounts.account_id,
        amounts.currency,
        amounts.monthly_amount_minor,
        lags.lag_months,
        cast(amounts.month + lags.lag_months * interval 1 month as date) as month
    from int_mrr_by_account_month_currency as amounts
    cross join lags
),

valued as (
    select
        shifted.account_id,
        shifted.lag_months,
        shifted.month,
        sum(money(shifted.monthly_amount_minor * fx.minor_unit_to_reporting)) as amount
    from shifted
    inner join int_fx_daily as fx
        on fx.currency = shifted.currency
            and fx.rate_date = last_day(shifted.month)
    group by shifted.account_id, shifted.lag_months, shifted.month
)

select
    valued.account_id,
    valued.month,
    greatest(coalesce(sum(valued.amount) filter (where valued.lag_months = 0), 0), 0) as mrr,
    greatest(coalesce(sum(valued.amount) filter (where valued.lag_months = 1), 0), 0) as previous_mrr,
    greatest(coalesce(sum(valued.amount) filter (where valued.lag_months = 12), 0), 0) as mrr_12_months_ago
from valued
cross join int_periods as periods
where valued.month <= periods.as_of_month
group by valued.account_id, valued.month
