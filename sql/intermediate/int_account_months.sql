-- The dense account x month spine of the account-month marts (docs/metrics.md, "Periods"): every
-- account from its first active month through as_of_month. The first active month is the
-- earliest month with recognised revenue, MRR > 0, a non-zero cost line, an invoice created (any
-- status), an engagement event, a ticket created or a program enrollment. Quarantined facts are
-- not in the valued models, so they never make a month active.
with activity as (
    select account_id, month from int_revenue_by_line_month where revenue <> 0
    union all
    select account_id, month from int_mrr_at_month_rates where mrr > 0
    union all
    select account_id, month from int_transactions_valued where processing_cost <> 0 or infra_cost <> 0
    union all
    select account_id, month from int_charges_valued where payment_fee <> 0
    union all
    select account_id, month from int_time_entries_valued where agent_cost <> 0
    union all
    select account_id, month from int_tickets_valued
    union all
    select account_id, month from int_engagement_costs where engagement_cost <> 0
    union all
    select account_id, cast(date_trunc('month', created_at) as date) from int_invoices_valued
    union all
    -- every month with an engagement event, on the account it counts for
    select account_id, month from int_engagement_by_account_month
    union all
    select coalesce(accounts.account_id, 'unattributed:crm'), cast(date_trunc('month', enrollments.enrolled_at) as date)
    from stg_crm__program_enrollments as enrollments
    left join stg_crm__accounts as accounts on accounts.account_id = enrollments.account_id
),

first_active as (
    select account_id, min(month) as first_month from activity group by account_id
)

select account_id, cast(month_start as date) as month
from (
    select
        first_active.account_id,
        unnest(generate_series(
            cast(first_active.first_month as timestamp),
            cast(periods.as_of_month as timestamp),
            interval 1 month
        )) as month_start
    from first_active
    cross join int_periods as periods
) as expanded
