-- Cohorts and the lifetime value they have realised (docs/metrics.md, "Cohorts and realised
-- lifetime value"): live accounts grouped by their first month with MRR > 0, followed month by
-- month through as_of_month. Both MRR sums of a row are valued at the rates of the row's month
-- (cohort_month + months_since), so revenue_retention moves with the customers, not with FX; the
-- contribution margin is summed from cohort_month on. Segment 'all' is the total of the cohort.

-- Every month of every cohort account from cohort_month on (account_month_economics is dense
-- through as_of_month, so no month is missing), with its cohort month's MRR at that month's
-- rates.
with account_months as (
    select
        cohorts.account_id,
        cohorts.segment,
        cohorts.cohort_month,
        economics.month,
        date_diff('month', cohorts.cohort_month, economics.month) as months_since,
        economics.mrr,
        starting.mrr as starting_mrr,
        sum(economics.contribution_margin) over (
            partition by cohorts.account_id order by economics.month rows unbounded preceding
        ) as cumulative_contribution_margin
    from int_cohort_accounts as cohorts
    inner join account_month_economics as economics
        on economics.account_id = cohorts.account_id
            and economics.month >= cohorts.cohort_month
    inner join int_mrr_revalued as starting
        on starting.account_id = cohorts.account_id
            and starting.mrr_month = cohorts.cohort_month
            and starting.rate_month = economics.month
),

cohorts as (
    select
        account_months.cohort_month,
        account_months.months_since,
        coalesce(account_months.segment, 'all') as segment,
        count(*) as accounts,
        count(*) filter (where account_months.mrr > 0) as active_accounts,
        sum(account_months.starting_mrr) as starting_mrr,
        sum(account_months.mrr) as mrr,
        sum(account_months.cumulative_contribution_margin) as cumulative_contribution_margin
    from account_months
    group by grouping sets (
        (account_months.cohort_month, account_months.months_since, account_months.segment),
        (account_months.cohort_month, account_months.months_since)
    )
)

select
    cast(cohort_month as date) as cohort_month,
    cast(months_since as bigint) as months_since,
    cast(segment as varchar) as segment,
    cast(accounts as bigint) as accounts,
    cast(active_accounts as bigint) as active_accounts,
    cast(starting_mrr as decimal(38, 6)) as starting_mrr,
    cast(mrr as decimal(38, 6)) as mrr,
    cast(active_accounts / accounts as double) as logo_retention,
    cast(mrr / nullif(starting_mrr, 0) as double) as revenue_retention,
    cast(cumulative_contribution_margin as decimal(38, 6)) as cumulative_contribution_margin,
    money_per(cumulative_contribution_margin, accounts) as margin_per_account
from cohorts
