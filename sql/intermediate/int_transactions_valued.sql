-- Payment-processing cost lines per transaction (metrics.md, "Costs"): processing_cost of
-- settled, refunded and disputed transactions at the FX of occurred_at; infra_cost = the
-- per-settled-transaction rate in effect at occurred_at, for settled transactions. Failed
-- transactions cost nothing. NULL values mean no rate in effect (rate_quarantine).
with transactions as (
    select * from stg_billing__transactions where status in ('settled', 'refunded', 'disputed')
),

infra_rates as (
    select rate_date, rate from int_rates_daily where rate_kind = 'infra_per_settled_transaction_usd'
),

usd as (
    select rate_date, unit_to_reporting from int_fx_daily where currency = 'USD'
)

select
    transactions.transaction_id,
    coalesce(customers.account_id, 'unattributed:billing') as account_id,
    cast(date_trunc('month', transactions.occurred_at) as date) as month,
    cast(transactions.occurred_at as date) as fact_date,
    transactions.status,
    transactions.processing_cost * fx.minor_unit_to_reporting as processing_cost,
    case
        when transactions.status = 'settled' then infra_rates.rate * usd.unit_to_reporting
        else 0
    end as infra_cost
from transactions
left join int_customer_accounts as customers on customers.customer_id = transactions.customer_id
left join int_fx_daily as fx
    on fx.currency = transactions.currency
    and fx.rate_date = cast(transactions.occurred_at as date)
left join infra_rates on infra_rates.rate_date = cast(transactions.occurred_at as date)
left join usd on usd.rate_date = cast(transactions.occurred_at as date)
