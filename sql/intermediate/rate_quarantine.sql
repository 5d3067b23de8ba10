-- Facts with no FX or cost rate in effect at their date (docs/metrics.md: quarantined with the
-- rule no_rate_in_effect), with the date that found no rate. Each is a staged row that its valued
-- model left out, so the list cannot drift from the rule: such a fact contributes to no mart, no
-- total and no period boundary. Line items of a quarantined invoice and time entries of a
-- quarantined ticket are listed too (their parent has no rate); rows without any parent are
-- orphans instead.
-- A valued model holds at most one row per staged row with a parent (same key, unique), so when
-- it holds as many rows as there are such staged rows, it left none out (`complete`). Only the
-- incomplete ones are anti-joined, and the guard sits on both sides of each anti-join: on the
-- staged side alone, DuckDB still built the hash table of the valued rows (15 M transactions at
-- scale 10: 1.4 s of every run for an empty answer; 0.01 s with both sides guarded).
with complete as (
    select
        (select count(*) from stg_billing__invoices) = (select count(*) from int_invoices_valued) as invoices,
        (select count(*) from stg_billing__invoice_line_items)
        - (select count(*) from orphans where table_name = 'invoice_line_items')
        = (select count(*) from int_invoice_lines_valued) as invoice_line_items,
        (select count(*) from stg_billing__transactions) = (select count(*) from int_transactions_valued) as transactions,
        (select count(*) from stg_billing__charges) = (select count(*) from int_charges_valued) as charges,
        (select count(*) from stg_support__tickets) = (select count(*) from int_tickets_valued) as tickets,
        (select count(*) from stg_support__time_entries)
        - (select count(*) from orphans where table_name = 'time_entries')
        = (select count(*) from int_time_entries_valued) as time_entries
),

-- The keys each incomplete valued model holds (none for a complete one: its anti-join is skipped).
invoices_valued as (
    select valued.invoice_id from int_invoices_valued as valued, complete where not complete.invoices
),

lines_valued as (
    select valued.line_item_id from int_invoice_lines_valued as valued, complete where not complete.invoice_line_items
),

transactions_valued as (
    select valued.transaction_id from int_transactions_valued as valued, complete where not complete.transactions
),

charges_valued as (
    select valued.charge_id from int_charges_valued as valued, complete where not complete.charges
),

tickets_valued as (
    select valued.ticket_id from int_tickets_valued as valued, complete where not complete.tickets
),

entries_valued as (
    select valued.time_entry_id from int_time_entries_valued as valued, complete where not complete.time_entries
)

select
    'invoices' as table_name, invoices.invoice_id as entity_key, cast(invoices.created_at as date) as fact_date,
    'no_rate_in_effect' as rule
from stg_billing__invoices as invoices, complete
where
    not complete.invoices
    and not exists (select 1 from invoices_valued as valued where valued.invoice_id = invoices.invoice_id)
union all
select 'invoice_line_items', lines.line_item_id, cast(invoices.created_at as date), 'no_rate_in_effect'
from stg_billing__invoice_line_items as lines
inner join stg_billing__invoices as invoices on invoices.invoice_id = lines.invoice_id
cross join complete
where
    not complete.invoice_line_items
    and not exists (select 1 from lines_valued as valued where valued.line_item_id = lines.line_item_id)
union all
select 'transactions', transactions.transaction_id, cast(transactions.occurred_at as date), 'no_rate_in_effect'
from stg_billing__transactions as transactions, complete
where
    not complete.transactions
    and not exists (select 1 from transactions_valued as valued where valued.transaction_id = transactions.transaction_id)
union all
select 'charges', charges.charge_id, cast(charges.created_at as date), 'no_rate_in_effect'
from stg_billing__charges as charges, complete
where
    not complete.charges
    and not exists (select 1 from charges_valued as valued where valued.charge_id = charges.charge_id)
union all
select 'tickets', tickets.ticket_id, cast(tickets.created_at as date), 'no_rate_in_effect'
from stg_support__tickets as tickets, complete
where
    not complete.tickets
    and not exists (select 1 from tickets_valued as valued where valued.ticket_id = tickets.ticket_id)
union all
select 'time_entries', entries.time_entry_id, cast(entries.logged_at as date), 'no_rate_in_effect'
from stg_support__time_entries as entries
inner join stg_support__tickets as tickets on tickets.ticket_id = entries.ticket_id
cross join complete
where
    not complete.time_entries
    and not exists (select 1 from entries_valued as valued where valued.time_entry_id = entries.time_entry_id)
union all
select 'program_enrollments', program_id || '/' || enrolled_account_id, fact_date, 'no_rate_in_effect'
from int_engagement_costs where engagement_cost is null
