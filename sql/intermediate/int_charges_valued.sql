-- Payment fees (docs/metrics.md, "Costs"): the processor fee of succeeded and refunded charges
-- (failed ones cost nothing), month and FX of created_at, on the account of the charge's own
-- customer_id, converted and rounded once (money()). A charge with no FX rate in effect at its
-- date is quarantined (rate_quarantine) and is not here.
-- The account is looked up first, kept apart (MATERIALIZED), as in int_transactions_valued.sql:
-- after the FX join DuckDB built its hash table on the charges instead of the accounts.
with accounted as materialized (
    select
        charges.charge_id,
        coalesce(customers.account_id, 'unattributed:billing') as account_id,
        charges.created_at,
        charges.status,
        charges.currency,
        charges.fee
    from stg_billing__charges as charges
    left join int_customer_accounts as customers on customers.customer_id = charges.customer_id
)

select
    charges.charge_id,
    charges.account_id,
    cast(date_trunc('month', charges.created_at) as date) as month,
    cast(charges.created_at as date) as fact_date,
    case
        when charges.status in ('succeeded', 'refunded') then money(charges.fee * fx.minor_unit_to_reporting)
        else money(0)
    end as payment_fee
from accounted as charges
inner join int_fx_daily as fx
    on fx.currency = charges.currency
        and fx.rate_date = cast(charges.created_at as date)
