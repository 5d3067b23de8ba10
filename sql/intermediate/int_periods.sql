-- The reporting period of the whole run (docs/metrics.md, "Periods"): one row.
-- as_of_date is the latest UTC date of any dated fact that counts (invoice created_at,
-- transaction occurred_at, charge created_at, ticket created_at, time entry logged_at,
-- engagement event occurred_at); as_of_month is its month, as_of_last_day that month's last day.
-- Quarantined facts (no rate in effect) are not in the valued models, so they move no boundary.
-- first_day is the earliest fact date or start of a billed service period (the lower bound of
-- every account's first active month).
with fact_days as (
    select fact_date from int_invoices_valued
    union all
    select fact_date from int_transactions_valued
    union all
    select fact_date from int_charges_valued
    union all
    select fact_date from int_tickets_valued
    union all
    select fact_date from int_time_entries_valued
    union all
    select cast(occurred_at as date) from stg_crm__engagement_events
),

bounds as (
    select max(fact_date) as as_of_date, min(fact_date) as first_fact_day from fact_days
),

service_periods as (
    select min(period_start) as first_day from int_invoice_lines_valued
)

select
    bounds.as_of_date,
    cast(date_trunc('month', bounds.as_of_date) as date) as as_of_month,
    cast(last_day(bounds.as_of_date) as date) as as_of_last_day,
    least(bounds.first_fact_day, coalesce(service_periods.first_day, bounds.first_fact_day)) as first_day
from bounds
cross join service_periods
