-- Child rows whose parent does not exist (docs/metrics.md, "Accounts"): they cannot be valued, are
-- left out of the marts, and are listed here, never silently dropped.
select
    'invoice_line_items' as table_name,
    lines.line_item_id as entity_key,
    'invoices' as parent_table,
    lines.invoice_id as missing_parent_key
from stg_billing__invoice_line_items as lines
left join stg_billing__invoices as invoices on invoices.invoice_id = lines.invoice_id
where invoices.invoice_id is null
union all
select 'time_entries', entries.time_entry_id, 'tickets', entries.ticket_id
from stg_support__time_entries as entries
left join stg_support__tickets as tickets on tickets.ticket_id = entries.ticket_id
where tickets.ticket_id is null
union all
select 'program_enrollments', enrollments.program_id || '/' || enrollments.account_id, 'programs', enrollments.program_id
from stg_crm__program_enrollments as enrollments
left join stg_crm__programs as programs on programs.program_id = enrollments.program_id
where programs.program_id is null
