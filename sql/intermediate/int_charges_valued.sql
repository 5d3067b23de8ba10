-- Payment fees (metrics.md, "Costs"): the processor fee of succeeded and refunded charges, month
-- and FX of created_at, on the account of the charge's own customer_id.
select
    charges.charge_id,
    coalesce(customers.account_id, 'unattributed:billing') as account_id,
    cast(date_trunc('month', charges.created_at) as date) as month,
    cast(charges.created_at as date) as fact_date,
    charges.fee * fx.minor_unit_to_reporting as payment_fee
from stg_billing__charges as charges
left join int_customer_accounts as customers on customers.customer_id = charges.customer_id
left join int_fx_daily as fx
    on fx.currency = charges.currency
    and fx.rate_date = cast(charges.created_at as date)
where charges.status in ('succeeded', 'refunded')
