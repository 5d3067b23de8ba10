-- The reporting period of the whole run (metrics.md, "Periods"): one row.
-- as_of_month is the latest month in which any dated fact occurs; first_day is the earliest date
-- any rule may need a rate for (a fact, or the start of a billed service period).
with fact_days as (
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
),

service_periods as (
    select min(period_start) as first_day from stg_billing__invoice_line_items
),

bounds as (
    select
        cast(date_trunc('month', max(last_at)) as date) as as_of_month,
        cast(last_day(max(last_at)) as date) as as_of_last_day,
        cast(min(first_at) as date) as first_fact_day
    from fact_days
)

select
    bounds.as_of_month,
    bounds.as_of_last_day,
    least(bounds.first_fact_day, coalesce(service_periods.first_day, bounds.first_fact_day)) as first_day
from bounds
cross join service_periods
