-- Every effective-dated rate, forward-filled to one row per day (docs/metrics.md: the row in effect at
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

-- The calendar runs from the first staged fact, service period start or effective date, whichever
-- is earliest, to the last day of the month of the latest staged fact (quarantined or not: a bound of the lookup,
-- not a reporting boundary; int_periods says which facts count).
staged_fact_times as (
    select min(created_at) as first_at, max(created_at) as last_at from stg_billing__invoices
    union all
    select min(occurred_at), max(occurred_at) from stg_billing__transactions
    union all
    select min(created_at), max(created_at) from stg_billing__charges
    union all
    select min(created_at), max(created_at) from stg_support__tickets
    union all
    select min(logged_at), max(logged_at) from stg_support__time_entries
    union all
    select min(occurred_at), max(occurred_at) from stg_crm__engagement_events
    union all
    select min(period_start), null from stg_billing__invoice_line_items
),

bounds as (
    select
        least((select min(effective_from) from effective_rates), cast(min(first_at) as date)) as first_day,
        cast(last_day(max(last_at)) as date) as last_day
    from staged_fact_times
),

calendar as (
    select cast(day as date) as rate_date
    from (
        select
            unnest(generate_series(
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
