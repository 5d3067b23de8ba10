-- Agent time cost per time entry (docs/metrics.md, "Costs"): minutes / 60 * hourly_cost_usd of
-- its agent_tier in effect at logged_at, month and FX of logged_at, converted and rounded once
-- (money()); the ticket gives the account and whether it is an exception. An entry with no rate
-- in effect, or whose ticket is quarantined, is quarantined (rate_quarantine) and is not here;
-- entries without their ticket are orphans (see orphans).
with agent_rates as (
    select rate_key as agent_tier, rate_date, rate from int_rates_daily where rate_kind = 'agent_hourly_usd'
),

usd as (
    select rate_date, unit_to_reporting from int_fx_daily where currency = 'USD'
)

select
    entries.time_entry_id,
    entries.ticket_id,
    tickets.account_id,
    tickets.category,
    tickets.is_exception,
    cast(date_trunc('month', entries.logged_at) as date) as month,
    cast(entries.logged_at as date) as fact_date,
    cast(entries.minutes as decimal(38, 6)) as minutes,
    money(entries.minutes / 60.0 * agent_rates.rate * usd.unit_to_reporting) as agent_cost
from stg_support__time_entries as entries
inner join int_tickets_valued as tickets on tickets.ticket_id = entries.ticket_id
inner join agent_rates
    on agent_rates.agent_tier = entries.agent_tier
        and agent_rates.rate_date = cast(entries.logged_at as date)
inner join usd on usd.rate_date = cast(entries.logged_at as date)
