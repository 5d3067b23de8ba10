-- Net and gross revenue retention per month and segment, plus 'all' (docs/metrics.md, "Retention").
-- 1-month: over accounts with previous MRR > 0 (constant currency); new and reactivated MRR
-- never count. 12-month: the cohort of accounts with MRR > 0 twelve months before, both sides at
-- this month's rates. Pseudo-accounts count in 'all' only. Zero denominators give NULL.
with account_rows as (
    select
        movements.*,
        accounts.segment as account_segment,
        coalesce(rates.mrr_12_months_ago, money(0)) as mrr_12_months_ago,
        coalesce(year_ago.mrr, 0) > 0 as in_12m_cohort
    from mrr_movements as movements
    left join dim_account as accounts using (account_id)
    left join int_mrr_at_month_rates as rates using (account_id, month)
    left join int_mrr_at_month_rates as year_ago
        on year_ago.account_id = movements.account_id
            and year_ago.month = cast(movements.month - interval 12 month as date)
),

by_segment as (
    select
        segments.segment,
        account_rows.month,
        sum(case when account_rows.previous_mrr > 0 then account_rows.previous_mrr else money(0) end) as starting_mrr,
        sum(account_rows.new) as new,
        sum(account_rows.reactivation) as reactivation,
        sum(account_rows.expansion) as expansion,
        sum(account_rows.contraction) as contraction,
        sum(account_rows.churn) as churn,
        sum(case when account_rows.in_12m_cohort then account_rows.mrr else money(0) end) as cohort_mrr_now,
        sum(case when account_rows.in_12m_cohort then least(account_rows.mrr, account_rows.mrr_12_months_ago) else money(0) end)
            as cohort_mrr_retained,
        sum(case when account_rows.in_12m_cohort then account_rows.mrr_12_months_ago else money(0) end) as cohort_mrr_then
    from account_rows
    inner join int_segments as segments
        on segments.segment = 'all' or segments.segment = account_rows.account_segment
    group by segments.segment, account_rows.month
)

select
    cast(data_range.month as date) as month,
    cast(segments.segment as varchar) as segment,
    cast(coalesce(by_segment.starting_mrr, 0) as decimal(38, 6)) as starting_mrr,
    cast(coalesce(by_segment.new, 0) as decimal(38, 6)) as new,
    cast(coalesce(by_segment.reactivation, 0) as decimal(38, 6)) as reactivation,
    cast(coalesce(by_segment.expansion, 0) as decimal(38, 6)) as expansion,
    cast(coalesce(by_segment.contraction, 0) as decimal(38, 6)) as contraction,
    cast(coalesce(by_segment.churn, 0) as decimal(38, 6)) as churn,
    cast(
        (by_segment.starting_mrr + by_segment.expansion - by_segment.contraction - by_segment.churn)
        / nullif(by_segment.starting_mrr, 0) as double
    ) as nrr_1m,
    cast(
        (by_segment.starting_mrr - by_segment.contraction - by_segment.churn)
        / nullif(by_segment.starting_mrr, 0) as double
    ) as grr_1m,
    cast(by_segment.cohort_mrr_now / nullif(by_segment.cohort_mrr_then, 0) as double) as nrr_12m,
    cast(by_segment.cohort_mrr_retained / nullif(by_segment.cohort_mrr_then, 0) as double) as grr_12m
from int_months as data_range
cross join int_segments as segments
left join by_segment
    on by_segment.month = data_range.month
        and by_segment.segment = segments.segment
