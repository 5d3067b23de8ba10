-- Tickets with their conformed account and, for exceptions, the external unit cost in effect at
-- created_at, converted and rounded once (docs/metrics.md, "Costs"). Which categories are
-- exceptions comes from the contract (staging.ticket_categories). An exception ticket with no unit cost in effect at
-- its date is quarantined (rate_quarantine) and is not here; neither are its time entries.
with tickets as (
    select stg_support__tickets.*, ticket_categories.is_exception
    from stg_support__tickets
    inner join ticket_categories on ticket_categories.category = stg_support__tickets.category
),

unit_costs as (
    select rate_key as category, rate_date, rate from int_rates_daily where rate_kind = 'exception_unit_usd'
),

usd as (
    select rate_date, unit_to_reporting from int_fx_daily where currency = 'USD'
),

rated as (
    select
        tickets.*,
        unit_costs.rate * usd.unit_to_reporting as unit_cost_reporting
    from tickets
    left join unit_costs
        on unit_costs.category = tickets.category
            and unit_costs.rate_date = cast(tickets.created_at as date)
    left join usd on usd.rate_date = cast(tickets.created_at as date)
)

select
    rated.ticket_id,
    coalesce(organizations.account_id, 'unattributed:support') as account_id,
    rated.organization_id,
    rated.category,
    rated.is_exception,
    cast(date_trunc('month', rated.created_at) as date) as month,
    cast(rated.created_at as date) as fact_date,
    case when rated.is_exception then money(rated.unit_cost_reporting) else money(0) end as unit_cost
from rated
left join int_organization_accounts as organizations
    on organizations.organization_id = rated.organization_id
where not rated.is_exception or rated.unit_cost_reporting is not null
