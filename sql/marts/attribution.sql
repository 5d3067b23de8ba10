-- How much of the source data links to a live CRM account (docs/metrics.md, mart table): by rows, and
-- by amount, through as_of_month. total_amount is every amount of the rule (also of facts whose
-- parent row is unknown), so it reconciles with the marts; attributed_amount is the linked part.
with customer_revenue as (
    select
        coalesce(customers.is_attributed, false) as is_attributed,
        sum(revenue.revenue) as revenue
    from int_revenue_by_line_month as revenue
    left join int_customer_accounts as customers on customers.customer_id = revenue.customer_id
    group by 1
),

-- Agent time per ticket first, then one row per ticket: joined before the grouping, the 2.7 M
-- time entries at scale 10 were grouped on four ticket columns (the statement: 1.5 s of operator
-- time then, 0.8 s now).
entry_costs as (
    select ticket_id, sum(agent_cost) as agent_cost
    from int_time_entries_valued
    group by ticket_id
),

ticket_costs as (
    select
        tickets.ticket_id,
        tickets.organization_id,
        tickets.account_id not like 'unattributed:%' as is_attributed,
        coalesce(tickets.unit_cost, 0) + coalesce(entry_costs.agent_cost, 0) as cost_to_serve
    from int_tickets_valued as tickets
    left join entry_costs on entry_costs.ticket_id = tickets.ticket_id
),

organization_costs as (
    select
        coalesce(organizations.is_attributed, false) as is_attributed,
        sum(ticket_costs.cost_to_serve) as cost_to_serve
    from ticket_costs
    left join int_organization_accounts as organizations
        on organizations.organization_id = ticket_costs.organization_id
    group by 1
),

rows_and_amounts as (
    select
        'billing' as source,
        'customers' as entity,
        (select count(*) from int_customer_accounts) as total_rows,
        (select count(*) from int_customer_accounts where is_attributed) as attributed_rows,
        (select coalesce(sum(revenue), 0) from customer_revenue) as total_amount,
        (select coalesce(sum(revenue), 0) from customer_revenue where is_attributed) as attributed_amount
    union all
    select
        'support',
        'organizations',
        (select count(*) from int_organization_accounts),
        (select count(*) from int_organization_accounts where is_attributed),
        (select coalesce(sum(cost_to_serve), 0) from organization_costs),
        (select coalesce(sum(cost_to_serve), 0) from organization_costs where is_attributed)
    union all
    select
        'support',
        'tickets',
        (select count(*) from ticket_costs),
        (select count(*) from ticket_costs where is_attributed),
        (select coalesce(sum(cost_to_serve), 0) from ticket_costs),
        (select coalesce(sum(cost_to_serve), 0) from ticket_costs where is_attributed)
)

select
    cast(source as varchar) as source,
    cast(entity as varchar) as entity,
    cast(total_rows as bigint) as total_rows,
    cast(attributed_rows as bigint) as attributed_rows,
    cast(total_rows - attributed_rows as bigint) as unattributed_rows,
    cast(attributed_rows / nullif(total_rows, 0) as double) as attributed_share,
    cast(total_amount as decimal(38, 6)) as total_amount,
    cast(attributed_amount as decimal(38, 6)) as attributed_amount
from rows_and_amounts
