-- Engagement programs measured at two horizons, on their target metric and on contribution
-- margin (docs/metrics.md, "Engagement programs", "Program effects at two horizons"): a
-- difference in differences between enrolled accounts (reference date: their enrolled_at) and
-- live accounts of the same segments never enrolled in the program (reference date:
-- launched_on). pre = mean of the 3 months before the reference month. The short horizon's post
-- window is the 3 months starting with the first month that begins after reference date +
-- evaluation_window_days (a window ending exactly on a month's first day starts a month later);
-- the long one starts 9 months after it (months 10-12 of the post period). Only accounts with
-- the 3 pre and that horizon's 3 post months in their dense range count. program_outcomes takes
-- its verdict's numbers from the short horizon of the target metric.
with programs as (
    select * from stg_crm__programs
),

horizons as (
    select horizon, months_after_short
    from (values ('short', 0), ('long', 9)) as horizons (horizon, months_after_short)
),

-- The program's target metric and contribution margin (one row when they are the same).
program_metrics as (
    select program_id, target_metric as metric from programs
    union
    select program_id, 'contribution_margin' as metric from programs
),

live_accounts as (
    select account_id, segment from dim_account where segment is not null
),

-- Every account-month of either mart, wide: the metrics of account_month_economics and the
-- engagement_score of engagement_economics, each side flagged where it has the row (a metric is
-- there for an account-month when its mart has the row, even with a NULL value).
measured as (
    select
        coalesce(economics.account_id, engagement.account_id) as account_id,
        coalesce(economics.month, engagement.month) as month,
        economics.account_id is not null as has_economics,
        engagement.account_id is not null as has_engagement,
        economics.revenue,
        economics.mrr,
        economics.gross_margin,
        economics.gross_margin_pct,
        economics.cost_to_serve,
        economics.exception_handling_cost,
        economics.contribution_margin,
        engagement.engagement_score
    from account_month_economics as economics
    full join engagement_economics as engagement
        on engagement.account_id = economics.account_id and engagement.month = economics.month
),

treated as (
    select enrollments.program_id, enrollments.account_id, enrollments.enrolled_at as reference_at
    from stg_crm__program_enrollments as enrollments
    inner join live_accounts on live_accounts.account_id = enrollments.account_id
),

treated_segments as (
    select distinct treated.program_id, live_accounts.segment
    from treated
    inner join live_accounts on live_accounts.account_id = treated.account_id
),

control as (
    select programs.program_id, live_accounts.account_id, cast(programs.launched_on as timestamp) as reference_at
    from programs
    inner join treated_segments on treated_segments.program_id = programs.program_id
    inner join live_accounts on live_accounts.segment = treated_segments.segment
    left join stg_crm__program_enrollments as enrollments
        on enrollments.program_id = programs.program_id
            and enrollments.account_id = live_accounts.account_id
    where enrollments.account_id is null
),

subjects as (
    select program_id, account_id, 'treated' as arm, reference_at from treated
    union all
    select program_id, account_id, 'control' as arm, reference_at from control
),

-- The first month of a post window that starts with the first month beginning after
-- reference_at + evaluation_window_days, moved on by the horizon.
windows as (
    select
        subjects.program_id,
        subjects.account_id,
        subjects.arm,
        programs.target_metric,
        horizons.horizon,
        cast(date_trunc('month', subjects.reference_at) as date) as reference_month,
        cast(
            date_trunc('month', subjects.reference_at + programs.evaluation_window_days * interval 1 day)
            + interval 1 month + horizons.months_after_short * interval 1 month as date
        ) as post_start
    from subjects
    inner join programs on programs.program_id = subjects.program_id
    cross join horizons
),

-- The months of each window, pre (the 3 before the reference month) or post (the horizon's 3),
-- with the value of both metrics the program is measured on: its target metric, as an exact
-- decimal (12 places keep the ratio metrics' precision) so that the sums below do not depend on
-- the order of addition, and contribution_margin. One join for both metrics: the account's
-- months are matched once.
window_values as (
    select
        windows.program_id,
        windows.horizon,
        windows.account_id,
        windows.arm,
        measured.month < windows.reference_month as is_pre,
        -- target_metric is one of the eight below (ingestion quarantines any other program)
        case
            when windows.target_metric = 'engagement_score' then measured.has_engagement
            else measured.has_economics
        end as target_present,
        -- each branch cast apart: a CASE of DECIMAL and DOUBLE branches would be a DOUBLE
        case windows.target_metric
            when 'revenue' then cast(measured.revenue as decimal(38, 12))
            when 'mrr' then cast(measured.mrr as decimal(38, 12))
            when 'gross_margin' then cast(measured.gross_margin as decimal(38, 12))
            when 'gross_margin_pct' then cast(measured.gross_margin_pct as decimal(38, 12))
            when 'cost_to_serve' then cast(measured.cost_to_serve as decimal(38, 12))
            when 'exception_handling_cost' then cast(measured.exception_handling_cost as decimal(38, 12))
            when 'contribution_margin' then cast(measured.contribution_margin as decimal(38, 12))
            when 'engagement_score' then cast(measured.engagement_score as decimal(38, 12))
        end as target_value,
        measured.has_economics as margin_present,
        cast(measured.contribution_margin as decimal(38, 12)) as margin_value
    from windows
    inner join measured
        on measured.account_id = windows.account_id
            and (
                (
                    measured.month >= cast(windows.reference_month - interval 3 month as date)
                    and measured.month < windows.reference_month
                )
                or (
                    measured.month >= windows.post_start
                    and measured.month < cast(windows.post_start + interval 3 month as date)
                )
            )
),

-- Per account and window, for each of the two metrics: the months it is there in the pre and
-- the post window, and its mean over the months where its value exists, rounded once to 12
-- decimals, so that the group sums below are exact (the same on every run).
account_windows as (
    select
        program_id,
        horizon,
        account_id,
        arm,
        count(*) filter (where target_present and is_pre) as target_pre_months,
        count(*) filter (where target_present and not is_pre) as target_post_months,
        cast(
            sum(target_value) filter (where target_present and is_pre)
            / nullif(count(target_value) filter (where target_present and is_pre), 0)
            as decimal(38, 12)
        ) as target_pre,
        cast(
            sum(target_value) filter (where target_present and not is_pre)
            / nullif(count(target_value) filter (where target_present and not is_pre), 0)
            as decimal(38, 12)
        ) as target_post,
        count(*) filter (where margin_present and is_pre) as margin_pre_months,
        count(*) filter (where margin_present and not is_pre) as margin_post_months,
        cast(
            sum(margin_value) filter (where margin_present and is_pre)
            / nullif(count(margin_value) filter (where margin_present and is_pre), 0)
            as decimal(38, 12)
        ) as margin_pre,
        cast(
            sum(margin_value) filter (where margin_present and not is_pre)
            / nullif(count(margin_value) filter (where margin_present and not is_pre), 0)
            as decimal(38, 12)
        ) as margin_post
    from window_values
    group by program_id, horizon, account_id, arm
),

-- Each metric of a program, and whether it is the program's target metric (if not, it is
-- contribution_margin).
metric_sides as (
    select program_metrics.program_id, program_metrics.metric, program_metrics.metric = programs.target_metric as is_target
    from program_metrics
    inner join programs on programs.program_id = program_metrics.program_id
),

-- One row per account, window and metric of the program.
account_changes as (
    select
        account_windows.program_id,
        account_windows.horizon,
        metric_sides.metric,
        account_windows.account_id,
        account_windows.arm,
        case when metric_sides.is_target then target_pre_months else margin_pre_months end as pre_months,
        case when metric_sides.is_target then target_post_months else margin_post_months end as post_months,
        case when metric_sides.is_target then target_pre else margin_pre end as pre,
        case when metric_sides.is_target then target_post else margin_post end as post
    from account_windows
    inner join metric_sides on metric_sides.program_id = account_windows.program_id
),

arms as (
    select
        program_id,
        horizon,
        metric,
        arm,
        count(*) as accounts,
        (sum(post) - sum(pre)) / nullif(abs(sum(pre)), 0) as relative_change
    from account_changes
    where pre_months = 3 and post_months = 3
    group by program_id, horizon, metric, arm
),

effects as (
    select
        programs.program_id,
        horizons.horizon,
        program_metrics.metric,
        coalesce(treated_arm.accounts, 0) as treated_accounts,
        coalesce(control_arm.accounts, 0) as control_accounts,
        treated_arm.relative_change as treated_change,
        control_arm.relative_change as control_change,
        -- Rounded to 12 decimals: the changes are ratios in floating point, and an effect of
        -- exactly 0.02 (0.12 - 0.10) must compare as 0.02, not 0.01999...
        round(treated_arm.relative_change - control_arm.relative_change, 12) as measured_effect,
        -- The last month of the horizon's window computed from launched_on, after as_of_month.
        cast(
            date_trunc('month', cast(programs.launched_on as timestamp) + programs.evaluation_window_days * interval 1 day)
            + interval 1 month + (horizons.months_after_short + 2) * interval 1 month as date
        ) > periods.as_of_month as not_yet_due,
        program_metrics.metric in ('cost_to_serve', 'exception_handling_cost') as favourable_down
    from programs
    inner join program_metrics on program_metrics.program_id = programs.program_id
    cross join horizons
    cross join int_periods as periods
    left join arms as treated_arm
        on treated_arm.program_id = programs.program_id
            and treated_arm.horizon = horizons.horizon
            and treated_arm.metric = program_metrics.metric
            and treated_arm.arm = 'treated'
    left join arms as control_arm
        on control_arm.program_id = programs.program_id
            and control_arm.horizon = horizons.horizon
            and control_arm.metric = program_metrics.metric
            and control_arm.arm = 'control'
),

statuses as (
    select
        *,
        case
            when not_yet_due then 'not_yet_due'
            when treated_accounts < 10 or control_accounts < 10 then 'insufficient_data'
            else 'measured'
        end as status,
        case when favourable_down then -measured_effect else measured_effect end as favourable_effect
    from effects
)

select
    cast(program_id as varchar) as program_id,
    cast(horizon as varchar) as horizon,
    cast(metric as varchar) as metric,
    cast(treated_accounts as bigint) as treated_accounts,
    cast(control_accounts as bigint) as control_accounts,
    cast(treated_change as double) as treated_change,
    cast(control_change as double) as control_change,
    cast(measured_effect as double) as measured_effect,
    cast(status as varchar) as status,
    cast(case
        when status <> 'measured' or favourable_effect is null then null
        when favourable_effect >= 0.02 then 'reward'
        when favourable_effect <= -0.02 then 'penalty'
        else 'neutral'
    end as varchar) as outcome
from statuses
