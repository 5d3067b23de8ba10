-- Does engagement amplify cost? Spearman rank correlation per month and segment (and 'all')
-- between engagement_score_3m and cost_to_serve_3m across every live account with a dense row in
-- the month, zeros included (docs/metrics.md). Ties get the average of their ranks; the
-- coefficient is the Pearson correlation of the ranks. NULL with fewer than 3 accounts or a constant side.
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

-- Twice the average rank: the lowest rank of the value's ties (rank()) plus the highest (count(*)
-- over the same ordering: its default frame ends with the last tie), so each side needs one
-- sort. An integer, so the sums below are exact and the coefficient is the same on every run
-- whatever order an engine adds in.
ranked as (
    select
        *,
        rank() over by_engagement + count(*) over by_engagement as engagement_rank2,
        rank() over by_cost + count(*) over by_cost as cost_rank2
    from segmented
    window
        by_engagement as (partition by month, segment order by engagement),
        by_cost as (partition by month, segment order by cost)
),

rank_sums as (
    select
        month,
        segment,
        count(*) as accounts,
        -- in DECIMAL(38, 0): exact on both engines, where accounts * sum_xx outgrows a BIGINT
        -- (~4e20 at 100,000 accounts; DuckDB would widen to HUGEINT, Spark overflows)
        sum(cast(engagement_rank2 as decimal(38, 0))) as sum_x,
        sum(cast(cost_rank2 as decimal(38, 0))) as sum_y,
        sum(cast(engagement_rank2 as decimal(38, 0)) * engagement_rank2) as sum_xx,
        sum(cast(cost_rank2 as decimal(38, 0)) * cost_rank2) as sum_yy,
        sum(cast(engagement_rank2 as decimal(38, 0)) * cost_rank2) as sum_xy,
        min(engagement) < max(engagement) and min(cost) < max(cost) as both_vary
    from ranked
    group by month, segment
),

-- Pearson correlation of the ranks from the exact sums.
correlations as (
    select
        month,
        segment,
        accounts,
        both_vary,
        cast(accounts * sum_xy - sum_x * sum_y as double)
        / nullif(sqrt(cast(accounts * sum_xx - sum_x * sum_x as double) * cast(accounts * sum_yy - sum_y * sum_y as double)), 0)
            as spearman
    from rank_sums
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
