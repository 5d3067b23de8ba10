-- MRR of one month valued at the last-day rates of a later month (constant currency), for the
-- rules that compare MRR across months at one set of rates (docs/metrics.md, "Cohorts and
-- realised lifetime value", "Price increases"): each cohort's starting month at the rates of
-- every month since, and an increase's M-1 at the rates of M+3. Valued as int_mrr_at_month_rates
-- values a month: per currency, rounded once, a negative sum as 0. A request whose month had no
-- recurring amount is 0.
with requests as (
    select distinct account_id, mrr_month, rate_month
    from (
        select cohorts.account_id, cohorts.cohort_month as mrr_month, cast(months.month as date) as rate_month
        from int_cohort_accounts as cohorts
        inner join int_months as months on months.month >= cohorts.cohort_month
        union all
        select
            account_id,
            cast(month - interval 1 month as date) as mrr_month,
            cast(month + interval 3 month as date) as rate_month
        from int_price_increases
    ) as wanted
    cross join int_periods as periods
    where wanted.rate_month <= periods.as_of_month
)

select
    requests.account_id,
    requests.mrr_month,
    requests.rate_month,
    greatest(coalesce(sum(money(amounts.monthly_amount_minor * fx.minor_unit_to_reporting)), 0), 0) as mrr
from requests
left join int_mrr_by_account_month_currency as amounts
    on amounts.account_id = requests.account_id
        and amounts.month = requests.mrr_month
left join int_fx_daily as fx
    on fx.currency = amounts.currency
        and fx.rate_date = last_day(requests.rate_month)
group by requests.account_id, requests.mrr_month, requests.rate_month
