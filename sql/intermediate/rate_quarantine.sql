-- Facts with no FX or cost rate in effect at their date (metrics.md: quarantined with the rule
-- no_rate_in_effect): left out of the marts and listed here with the date that found no rate.
select 'invoice_line_items' as table_name, line_item_id as entity_key, invoice_date as fact_date,
    'no_rate_in_effect' as rule
from int_invoice_lines_recognised where amount_reporting is null
union all
select 'transactions', transaction_id, fact_date, 'no_rate_in_effect'
from int_transactions_valued where processing_cost is null or infra_cost is null
union all
select 'charges', charge_id, fact_date, 'no_rate_in_effect'
from int_charges_valued where payment_fee is null
union all
select 'tickets', ticket_id, fact_date, 'no_rate_in_effect'
from int_tickets_valued where unit_cost is null
union all
select 'time_entries', time_entry_id, fact_date, 'no_rate_in_effect'
from int_time_entries_valued where agent_cost is null
union all
select 'program_enrollments', program_id || '/' || enrolled_account_id, fact_date, 'no_rate_in_effect'
from int_engagement_costs where engagement_cost is null
