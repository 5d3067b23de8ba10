-- Every effective-dated rate, forward-filled to one row per day (metrics.md: the row in effect at
-- t is the one with the greatest effective_from <= the UTC date of t; FX: latest rate on or
-- before the date). One rule for all rate kinds, written as a forward-filled calendar joined on
-- equality (portable: no ASOF JOIN). A day before a key's first rate has no row: facts on such
-- days find no rate and are quarantined (rate_quarantine). USD is always 1 unit per USD.
with effective_rates as (
    select 'fx' as rate_kind, currency as rate_key, rate_date as effective_from, units_per_usd as rate
    from stg_finance__fx_rates
    where currency <> 'USD'
    union all
    select 'agent_hourly_usd', agent_tier, effective_from, hourly_cost_usd
    from stg_finance__agent_costs
    union all
    select 'exception_unit_usd', category, effective_from, unit_cost_usd
    from stg_finance__exception_unit_costs
    union all
    select 'infra_per_settled_transaction_usd', 'all', effective_from, cost_per_settled_transaction_usd
    from stg_finance__infra_costs
),

bounds as (
    select
        least((select min(effective_from) from effective_rates), periods.first_day) as first_day,
        periods.as_of_last_day as last_day
    from int_periods as periods
),

calendar as (
    select cast(day as date) as rate_date
    from (
        select unnest(generate_series(
            cast(first_day as timestamp), cast(last_day as timestamp), interval 1 day
        )) as day
        from bounds
    ) as days
),

rate_keys as (
    select distinct rate_kind, rate_key from effective_rates
),

filled as (
    select
        rate_keys.rate_kind,
        rate_keys.rate_key,
        calendar.rate_date,
        last_value(effective_rates.rate ignore nulls) over (
            partition by rate_keys.rate_kind, rate_keys.rate_key
            order by calendar.rate_date
            rows between unbounded preceding and current row
        ) as rate
    from rate_keys
    cross join calendar
    left join effective_rates
        on effective_rates.rate_kind = rate_keys.rate_kind
        and effective_rates.rate_key = rate_keys.rate_key
        and effective_rates.effective_from = calendar.rate_date
),

usd as (
    select 'fx' as rate_kind, 'USD' as rate_key, rate_date, 1.0 as rate from calendar
)

select rate_kind, rate_key, rate_date, rate from filled where rate is not null
union all
select rate_kind, rate_key, rate_date, rate from usd
