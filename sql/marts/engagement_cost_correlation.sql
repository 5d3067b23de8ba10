-- Does engagement amplify cost? Spearman rank correlation per month and segment (and 'all')
-- between engagement_score_3m and cost_to_serve_3m across every live account with a dense row in
-- the month, zeros included (metrics.md). Ties get the average of their ranks; the coefficient
-- is the Pearson correlation of the ranks. NULL with fewer than 3 accounts or a constant side.
with live as (
    select
        economics.month,
        accounts.segment,
        economics.account_id,
        economics.engagement_score_3m as engagement,
        economics.cost_to_serve_3m as cost
    from engagement_economics as economics
    inner join dim_account as accounts using (account_id)
    where accounts.segment is not null
),

segmented as (
    select month, segment, account_id, engagement, cost from live
    union all
    select month, 'all', account_id, engagement, cost from live
),

ranked as (
    select
        *,
        rank() over (partition by month, segment order by engagement)
            + (count(*) over (partition by month, segment, engagement) - 1) / 2.0 as engagement_rank,
        rank() over (partition by month, segment order by cost)
            + (count(*) over (partition by month, segment, cost) - 1) / 2.0 as cost_rank
    from segmented
),

correlations as (
    select
        month,
        segment,
        count(*) as accounts,
        corr(engagement_rank, cost_rank) as spearman,
        min(engagement) < max(engagement) and min(cost) < max(cost) as both_vary
    from ranked
    group by month, segment
)

select
    cast(months.month as date) as month,
    cast(segments.segment as varchar) as segment,
    cast(coalesce(correlations.accounts, 0) as bigint) as accounts,
    cast(case
        when correlations.accounts >= 3 and correlations.both_vary then correlations.spearman
    end as double) as spearman_engagement_cost_to_serve
from int_months as months
cross join int_segments as segments
left join correlations
    on correlations.month = months.month
    and correlations.segment = segments.segment
