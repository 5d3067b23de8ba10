-- Engagement against economics per account and month (docs/metrics.md, "Engagement against
-- economics"): the engagement score, trailing-3-month sums over the account's dense-range months
-- among M-2..M, and the quadrant against the medians (mean of the two middle values for an even
-- count) of the live accounts of the same segment with revenue_3m > 0. Accounts with
-- revenue_3m <= 0 and the pseudo-accounts get no quadrant.
with monthly as (
    select
        economics.account_id,
        economics.month,
        accounts.segment,
        coalesce(engagement.engagement_score, 0) as engagement_score,
        economics.revenue,
        economics.cost_to_serve,
        economics.contribution_margin
    from account_month_economics as economics
    left join int_engagement_by_account_month as engagement using (account_id, month)
    left join dim_account as accounts using (account_id)
),

sums_3m as (
    select
        *,
        sum(engagement_score) over last_3_months as engagement_score_3m,
        sum(revenue) over last_3_months as revenue_3m,
        sum(cost_to_serve) over last_3_months as cost_to_serve_3m,
        sum(contribution_margin) over last_3_months as contribution_margin_3m
    from monthly
    window last_3_months as (partition by account_id order by month rows between 2 preceding and current row)
),

classified as (
    select
        *,
        contribution_margin_3m / nullif(revenue_3m, 0) as contribution_margin_pct_3m,
        revenue_3m > 0 and segment is not null as gets_quadrant
    from sums_3m
),

medians as (
    select
        month,
        segment,
        median(engagement_score_3m) as engagement_median,
        median(contribution_margin_pct_3m) as margin_median
    from classified
    where gets_quadrant
    group by month, segment
)

select
    cast(classified.account_id as varchar) as account_id,
    cast(classified.month as date) as month,
    cast(classified.engagement_score as double) as engagement_score,
    cast(classified.engagement_score_3m as double) as engagement_score_3m,
    cast(classified.revenue_3m as decimal(38, 6)) as revenue_3m,
    cast(classified.cost_to_serve_3m as decimal(38, 6)) as cost_to_serve_3m,
    cast(classified.contribution_margin_pct_3m as double) as contribution_margin_pct_3m,
    cast(case
        when not classified.gets_quadrant then null
        when classified.engagement_score_3m >= medians.engagement_median
            and classified.contribution_margin_pct_3m >= medians.margin_median then 'economic_champion'
        when classified.engagement_score_3m >= medians.engagement_median then 'engagement_theater'
        when classified.contribution_margin_pct_3m >= medians.margin_median then 'quiet_value'
        else 'at_risk'
    end as varchar) as quadrant
from classified
left join medians
    on medians.month = classified.month
        and medians.segment = classified.segment
