-- Engagement programs judged against their own hypothesis (docs/metrics.md, "Engagement programs"):
-- a difference in differences of the program's target_metric between enrolled accounts
-- (reference date: their enrolled_at) and live accounts of the same segments never enrolled in
-- it (reference date: launched_on). pre = mean of the 3 months before the reference month; post =
-- mean of the 3 months starting with the first month that begins after reference date +
-- evaluation_window_days (a window ending exactly on a month's first day starts post a month
-- later). Only accounts with all 6 months in their dense range count.
with programs as (
    select * from stg_crm__programs
),

live_accounts as (
    select account_id, segment from dim_account where segment is not null
),

-- Every target metric, long: one row per account, month and metric name, as an exact decimal
-- (12 places keep the ratio metrics' precision), so that the group sums below do not depend on
-- the order of addition.
metric_values as (
    select account_id, month, 'revenue' as metric, cast(revenue as decimal(38, 12)) as value from account_month_economics
    union all
    select account_id, month, 'mrr', cast(mrr as decimal(38, 12)) from account_month_economics
    union all
    select account_id, month, 'gross_margin', cast(gross_margin as decimal(38, 12)) from account_month_economics
    union all
    select account_id, month, 'gross_margin_pct', cast(gross_margin_pct as decimal(38, 12)) from account_month_economics
    union all
    select account_id, month, 'cost_to_serve', cast(cost_to_serve as decimal(38, 12)) from account_month_economics
    union all
    select account_id, month, 'exception_handling_cost', cast(exception_handling_cost as decimal(38, 12)) from account_month_economics
    union all
    select account_id, month, 'contribution_margin', cast(contribution_margin as decimal(38, 12)) from account_month_economics
    union all
    select account_id, month, 'engagement_score', cast(engagement_score as decimal(38, 12)) from engagement_economics
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

windows as (
    select
        subjects.*,
        programs.target_metric,
        cast(date_trunc('month', subjects.reference_at) as date) as reference_month,
        cast(
            date_trunc('month', subjects.reference_at + programs.evaluation_window_days * interval 1 day)
            + interval 1 month as date
        ) as post_start
    from subjects
    inner join programs on programs.program_id = subjects.program_id
),

account_changes as (
    select
        windows.program_id,
        windows.account_id,
        windows.arm,
        count(*) filter (where metric_values.month < windows.reference_month) as pre_months,
        count(*) filter (where metric_values.month >= windows.post_start) as post_months,
        -- Each account's mean over the months where the metric exists, rounded once to 12
        -- decimals, so that the group sums below are exact (the same on every run).
        cast(
            sum(metric_values.value) filter (where metric_values.month < windows.reference_month)
            / nullif(count(metric_values.value) filter (where metric_values.month < windows.reference_month), 0)
            as decimal(38, 12)
        ) as pre,
        cast(
            sum(metric_values.value) filter (where metric_values.month >= windows.post_start)
            / nullif(count(metric_values.value) filter (where metric_values.month >= windows.post_start), 0)
            as decimal(38, 12)
        ) as post
    from windows
    inner join metric_values
        on metric_values.account_id = windows.account_id
            and metric_values.metric = windows.target_metric
            and (
                (
                    metric_values.month >= cast(windows.reference_month - interval 3 month as date)
                    and metric_values.month < windows.reference_month
                )
                or (
                    metric_values.month >= windows.post_start
                    and metric_values.month < cast(windows.post_start + interval 3 month as date)
                )
            )
    group by windows.program_id, windows.account_id, windows.arm
),

arms as (
    select
        program_id,
        arm,
        count(*) as accounts,
        (sum(post) - sum(pre)) / nullif(abs(sum(pre)), 0) as relative_change
    from account_changes
    where pre_months = 3 and post_months = 3
    group by program_id, arm
),

outcomes as (
    select
        programs.*,
        coalesce(treated_arm.accounts, 0) as treated_accounts,
        coalesce(control_arm.accounts, 0) as control_accounts,
        treated_arm.relative_change as treated_change,
        control_arm.relative_change as control_change,
        treated_arm.relative_change - control_arm.relative_change as measured_effect,
        cast(
            date_trunc('month', cast(programs.launched_on as timestamp) + programs.evaluation_window_days * interval 1 day)
            + interval 3 month as date
        ) as last_post_month_from_launch,
        periods.as_of_month
    from programs
    cross join int_periods as periods
    left join arms as treated_arm on treated_arm.program_id = programs.program_id and treated_arm.arm = 'treated'
    left join arms as control_arm on control_arm.program_id = programs.program_id and control_arm.arm = 'control'
)

select
    cast(program_id as varchar) as program_id,
    cast(name as varchar) as name,
    cast(target_metric as varchar) as target_metric,
    cast(expected_change as double) as expected_change,
    cast(kill_threshold as double) as kill_threshold,
    cast(treated_accounts as bigint) as treated_accounts,
    cast(control_accounts as bigint) as control_accounts,
    cast(treated_change as double) as treated_change,
    cast(control_change as double) as control_change,
    cast(measured_effect as double) as measured_effect,
    cast(case
        when last_post_month_from_launch > as_of_month then 'not_yet_due'
        when treated_accounts < 10 or control_accounts < 10 or measured_effect is null then 'insufficient_data'
        when (expected_change < 0 and measured_effect <= expected_change)
            or (expected_change >= 0 and measured_effect >= expected_change) then 'on_track'
        when (expected_change < 0 and measured_effect > kill_threshold)
            or (expected_change >= 0 and measured_effect < kill_threshold) then 'kill'
        else 'below_expectation'
    end as varchar) as verdict,
    cast(as_of_month as date) as evaluated_through
from outcomes
