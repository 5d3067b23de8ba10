-- Price increases and what the customer did next (docs/metrics.md, "Price increases"): each
-- increase found by int_price_increases, with the account's engagement quadrant the month
-- before, its MRR the month before and three months after (both at the rates of M+3: constant
-- currency), the billing questions it raised in M..M+2, and the outcome. An increase whose M+3
-- is after as_of_month is pending, its MRR columns NULL.
with increases as (
    select
        increases.*,
        cast(increases.month - interval 1 month as date) as month_before,
        cast(increases.month + interval 3 month as date) as month_after,
        cast(increases.month + interval 3 month as date) > periods.as_of_month as pending
    from int_price_increases as increases
    cross join int_periods as periods
),

billing_questions as (
    select increases.subscription_id, increases.month, count(*) as billing_questions
    from increases
    inner join int_tickets_valued as tickets
        on tickets.account_id = increases.account_id
            and tickets.category = 'billing_question'
            and tickets.month >= increases.month
            and tickets.month < cast(increases.month + interval 3 month as date)
    group by increases.subscription_id, increases.month
),

measured as (
    select
        increases.*,
        quadrants.quadrant as quadrant_before,
        case when not increases.pending then coalesce(before.mrr, 0) end as mrr_before,
        case when not increases.pending then coalesce(after.mrr, 0) end as mrr_after,
        coalesce(billing_questions.billing_questions, 0) as billing_questions
    from increases
    left join engagement_economics as quadrants
        on quadrants.account_id = increases.account_id
            and quadrants.month = increases.month_before
    left join int_mrr_revalued as before
        on before.account_id = increases.account_id
            and before.mrr_month = increases.month_before
            and before.rate_month = increases.month_after
    left join account_month_economics as after
        on after.account_id = increases.account_id
            and after.month = increases.month_after
    left join billing_questions
        on billing_questions.subscription_id = increases.subscription_id
            and billing_questions.month = increases.month
)

select
    cast(subscription_id as varchar) as subscription_id,
    cast(month as date) as month,
    cast(account_id as varchar) as account_id,
    cast(currency as varchar) as currency,
    cast(old_unit_monthly as decimal(38, 6)) as old_unit_monthly,
    cast(new_unit_monthly as decimal(38, 6)) as new_unit_monthly,
    cast(increase_pct as double) as increase_pct,
    cast(quadrant_before as varchar) as quadrant_before,
    cast(mrr_before as decimal(38, 6)) as mrr_before,
    cast(mrr_after as decimal(38, 6)) as mrr_after,
    cast(billing_questions as bigint) as billing_questions,
    cast(case
        when pending then 'pending'
        when mrr_after = 0 then 'churned'
        when mrr_after < mrr_before then 'contracted'
        else 'absorbed'
    end as varchar) as outcome
from measured
