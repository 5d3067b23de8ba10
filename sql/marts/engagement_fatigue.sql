-- Leading indicators of engagement fatigue per live account and month (docs/metrics.md,
-- "Engagement fatigue"): campaign pressure over the trailing 3 months against the 3 before,
-- unsubscribes, and the decay of organic engagement (every event but campaign touches and
-- unsubscribes). Dense over account_month_economics' rows of the live accounts; the rows are
-- contiguous from the first active month, so "rows between" frames are month frames, and months
-- before the first active month count as zero. fatigued is NULL while the dense range does not
-- reach back to M-5; a decay that cannot be computed (no organic engagement before) is not a decay.
-- The 0.25 threshold is compared on the exact organic sums: prev - now >= 0.25 * prev.
with monthly as (
    select
        economics.account_id,
        economics.month,
        coalesce(engagement.campaign_touches, 0) as campaign_touches,
        coalesce(engagement.unsubscribes, 0) as unsubscribes,
        coalesce(engagement.organic_engagement_score, 0) as organic_engagement_score
    from account_month_economics as economics
    inner join dim_account as accounts on accounts.account_id = economics.account_id
    left join int_engagement_by_account_month as engagement
        on engagement.account_id = economics.account_id
            and engagement.month = economics.month
    where accounts.segment is not null
),

windows as (
    select
        account_id,
        month,
        coalesce(sum(campaign_touches) over last_3_months, 0) as campaign_touches_3m,
        coalesce(sum(campaign_touches) over previous_3_months, 0) as campaign_touches_prev_3m,
        coalesce(sum(unsubscribes) over last_3_months, 0) as unsubscribes_3m,
        coalesce(sum(organic_engagement_score) over last_3_months, 0) as organic_engagement_3m,
        coalesce(sum(organic_engagement_score) over previous_3_months, 0) as organic_engagement_prev_3m,
        row_number() over (partition by account_id order by month) > 5 as reaches_back_to_m5
    from monthly
    window
        last_3_months as (partition by account_id order by month rows between 2 preceding and current row),
        previous_3_months as (partition by account_id order by month rows between 5 preceding and 3 preceding)
),

ratios as (
    select
        *,
        unsubscribes_3m / nullif(campaign_touches_3m, 0) as unsubscribe_rate_3m,
        (organic_engagement_prev_3m - organic_engagement_3m) / nullif(organic_engagement_prev_3m, 0) as engagement_decay
    from windows
)

select
    cast(account_id as varchar) as account_id,
    cast(month as date) as month,
    cast(campaign_touches_3m as bigint) as campaign_touches_3m,
    cast(campaign_touches_prev_3m as bigint) as campaign_touches_prev_3m,
    cast(unsubscribes_3m as bigint) as unsubscribes_3m,
    cast(unsubscribe_rate_3m as double) as unsubscribe_rate_3m,
    cast(organic_engagement_3m as double) as organic_engagement_3m,
    cast(organic_engagement_prev_3m as double) as organic_engagement_prev_3m,
    cast(engagement_decay as double) as engagement_decay,
    cast(case
        when not reaches_back_to_m5 then null
        else campaign_touches_3m > campaign_touches_prev_3m
            and (
                (
                    organic_engagement_prev_3m > 0
                    and organic_engagement_prev_3m - organic_engagement_3m >= 0.25 * organic_engagement_prev_3m
                )
                or unsubscribes_3m > 0
            )
    end as boolean) as fatigued
from ratios
