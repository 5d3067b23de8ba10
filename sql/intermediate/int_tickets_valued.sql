-- Tickets with their conformed account and, for exceptions, the external unit cost in effect at
-- created_at (metrics.md, "Costs"). The five exception categories are listed here and only here.
with tickets as (
    select
        *,
        category in (
            'reconciliation_break', 'chargeback', 'manual_review', 'compliance_query', 'custom_workflow'
        ) as is_exception
    from stg_support__tickets
),

unit_costs as (
    select rate_key as category, rate_date, rate from int_rates_daily where rate_kind = 'exception_unit_usd'
),

usd as (
    select rate_date, unit_to_reporting from int_fx_daily where currency = 'USD'
)

select
    tickets.ticket_id,
    coalesce(organizations.account_id, 'unattributed:support') as account_id,
    tickets.organization_id,
    tickets.category,
    tickets.is_exception,
    cast(date_trunc('month', tickets.created_at) as date) as month,
    cast(tickets.created_at as date) as fact_date,
    case when tickets.is_exception then unit_costs.rate * usd.unit_to_reporting else 0 end as unit_cost
from tickets
left join int_organization_accounts as organizations
    on organizations.organization_id = tickets.organization_id
left join unit_costs
    on unit_costs.category = tickets.category
    and unit_costs.rate_date = cast(tickets.created_at as date)
left join usd on usd.rate_date = cast(tickets.created_at as date)
