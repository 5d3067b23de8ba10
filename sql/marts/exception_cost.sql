-- Exception-handling cost per account, month and category (docs/metrics.md, "Costs"): sparse, a row
-- where an exception ticket of the category was created or a time entry on one was logged.
with tickets as (
    select account_id, month, category, count(*) as exception_count, sum(unit_cost) as unit_cost
    from int_tickets_valued
    where is_exception
    group by account_id, month, category
),

agent_time as (
    select account_id, month, category, sum(minutes) as agent_minutes, sum(agent_cost) as agent_cost
    from int_time_entries_valued
    where is_exception
    group by account_id, month, category
),

cells as (
    select account_id, month, category from tickets
    union
    select account_id, month, category from agent_time
)

select
    cast(cells.account_id as varchar) as account_id,
    cast(cells.month as date) as month,
    cast(cells.category as varchar) as category,
    cast(coalesce(tickets.exception_count, 0) as bigint) as exception_count,
    cast(coalesce(agent_time.agent_minutes, 0) as double) as agent_minutes,
    cast(coalesce(agent_time.agent_cost, 0) as decimal(38, 6)) as agent_cost,
    cast(coalesce(tickets.unit_cost, 0) as decimal(38, 6)) as unit_cost,
    cast(coalesce(agent_time.agent_cost, 0) + coalesce(tickets.unit_cost, 0) as decimal(38, 6)) as exception_handling_cost
from cells
left join tickets using (account_id, month, category)
left join agent_time using (account_id, month, category)
