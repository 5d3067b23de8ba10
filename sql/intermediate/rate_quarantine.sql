-- Facts with no FX or cost rate in effect at their date (docs/metrics.md: quarantined with the
-- rule no_rate_in_effect), with the date that found no rate. Each is a staged row that its valued
-- model left out, so the list cannot drift from the rule: such a fact contributes to no mart, no
-- total and no period boundary. Line items of a quarantined invoice and time entries of a
-- quarantined ticket are listed too (their parent has no rate); rows without any parent are
-- orphans instead.
select
    'invoices' as table_name, invoices.invoice_id as entity_key, cast(invoices.created_at as date) as fact_date,
    'no_rate_in_effect' as rule
from stg_billing__invoices as invoices
left join int_invoices_valued as valued on valued.invoice_id = invoices.invoice_id
where valued.invoice_id is null
union all
select 'invoice_line_items', lines.line_item_id, cast(invoices.created_at as date), 'no_rate_in_effect'
from stg_billing__invoice_line_items as lines
inner join stg_billing__invoices as invoices on invoices.invoice_id = lines.invoice_id
left join int_invoice_lines_valued as valued on valued.line_item_id = lines.line_item_id
where valued.line_item_id is null
union all
select 'transactions', transactions.transaction_id, cast(transactions.occurred_at as date), 'no_rate_in_effect'
from stg_billing__transactions as transactions
left join int_transactions_valued as valued on valued.transaction_id = transactions.transaction_id
where valued.transaction_id is null
union all
select 'charges', charges.charge_id, cast(charges.created_at as date), 'no_rate_in_effect'
from stg_billing__charges as charges
left join int_charges_valued as valued on valued.charge_id = charges.charge_id
where valued.charge_id is null
union all
select 'tickets', tickets.ticket_id, cast(tickets.created_at as date), 'no_rate_in_effect'
from stg_support__tickets as tickets
left join int_tickets_valued as valued on valued.ticket_id = tickets.ticket_id
where valued.ticket_id is null
union all
select 'time_entries', entries.time_entry_id, cast(entries.logged_at as date), 'no_rate_in_effect'
from stg_support__time_entries as entries
inner join stg_support__tickets as tickets on tickets.ticket_id = entries.ticket_id
left join int_time_entries_valued as valued on valued.time_entry_id = entries.time_entry_id
where valued.time_entry_id is null
union all
select 'program_enrollments', program_id || '/' || enrolled_account_id, fact_date, 'no_rate_in_effect'
from int_engagement_costs where engagement_cost is null
