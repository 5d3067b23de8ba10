-- Engagement programs judged against their own hypothesis (docs/metrics.md, "Engagement
-- programs"): the verdict on the short horizon of the program's target metric, whose difference
-- in differences program_horizons computes, and the program's outcome on contribution margin at
-- both horizons (short_term, long_term) with their combination (horizon_quadrant, e.g.
-- reward_then_penalty: a program that wins now and loses later).
with programs as (
    select * from stg_crm__programs
),

short_target as (
    select horizons.*
    from program_horizons as horizons
    inner join programs
        on programs.program_id = horizons.program_id
            and programs.target_metric = horizons.metric
    where horizons.horizon = 'short'
),

margin_outcomes as (
    select
        program_id,
        max(outcome) filter (where horizon = 'short') as short_term,
        max(outcome) filter (where horizon = 'long') as long_term
    from program_horizons
    where metric = 'contribution_margin'
    group by program_id
)

select
    cast(programs.program_id as varchar) as program_id,
    cast(programs.name as varchar) as name,
    cast(programs.target_metric as varchar) as target_metric,
    cast(programs.expected_change as double) as expected_change,
    cast(programs.kill_threshold as double) as kill_threshold,
    cast(short_target.treated_accounts as bigint) as treated_accounts,
    cast(short_target.control_accounts as bigint) as control_accounts,
    cast(short_target.treated_change as double) as treated_change,
    cast(short_target.control_change as double) as control_change,
    cast(short_target.measured_effect as double) as measured_effect,
    cast(case
        when short_target.status = 'not_yet_due' then 'not_yet_due'
        when short_target.status = 'insufficient_data' or short_target.measured_effect is null then 'insufficient_data'
        when (programs.expected_change < 0 and short_target.measured_effect <= programs.expected_change)
            or (programs.expected_change >= 0 and short_target.measured_effect >= programs.expected_change) then 'on_track'
        when (programs.expected_change < 0 and short_target.measured_effect > programs.kill_threshold)
            or (programs.expected_change >= 0 and short_target.measured_effect < programs.kill_threshold) then 'kill'
        else 'below_expectation'
    end as varchar) as verdict,
    cast(periods.as_of_month as date) as evaluated_through,
    cast(margin_outcomes.short_term as varchar) as short_term,
    cast(margin_outcomes.long_term as varchar) as long_term,
    cast(margin_outcomes.short_term || '_then_' || margin_outcomes.long_term as varchar) as horizon_quadrant
from programs
cross join int_periods as periods
inner join short_target on short_target.program_id = programs.program_id
left join margin_outcomes on margin_outcomes.program_id = programs.program_id
