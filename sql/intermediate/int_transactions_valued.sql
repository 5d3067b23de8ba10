-- Payment-processing cost lines per transaction (docs/metrics.md, "Costs"): processing_cost of
-- settled, refunded and disputed transactions at the FX of occurred_at; infra_cost = the
-- per-settled-transaction rate in effect at occurred_at, for settled transactions; failed
-- transactions cost nothing. Each cost is converted and rounded once (money()). A transaction
-- with no FX rate (or, when settled, no infra rate) in effect at its date is quarantined
-- (rate_quarantine): it is not here, so it adds no cost and moves no period boundary.
-- Each transaction's account is looked up first, in a CTE of its own (MATERIALIZED: DuckDB may
-- not move the lookup past the rate joins). Joined after them, the optimizer, which cannot
-- estimate a join on a date cast from a timestamp and expects a few thousand rows out of the FX
-- join, built its hash table on the 15 M transactions instead of the 100 k accounts: 11 s
-- against 3 s at scale 10 (BENCHMARKS.md).
with accounted as materialized (
    select
        transactions.transaction_id,
        coalesce(customers.account_id, 'unattributed:billing') as account_id,
        transactions.occurred_at,
        transactions.status,
        transactions.currency,
        transactions.processing_cost
    from stg_billing__transactions as transactions
    left join int_customer_accounts as customers on customers.customer_id = transactions.customer_id
),

infra_rates as (
    select rate_date, rate from int_rates_daily where rate_kind = 'infra_per_settled_transaction_usd'
),

usd as (
    select rate_date, unit_to_reporting from int_fx_daily where currency = 'USD'
),

rated as (
    select
        transactions.transaction_id,
        transactions.account_id,
        transactions.occurred_at,
        transactions.status,
        transactions.processing_cost,
        fx.minor_unit_to_reporting as fx_factor,
        infra_rates.rate * usd.unit_to_reporting as infra_rate
    from accounted as transactions
    left join int_fx_daily as fx
        on fx.currency = transactions.currency
            and fx.rate_date = cast(transactions.occurred_at as date)
    left join infra_rates on infra_rates.rate_date = cast(transactions.occurred_at as date)
    left join usd on usd.rate_date = cast(transactions.occurred_at as date)
)

select
    rated.transaction_id,
    rated.account_id,
    cast(date_trunc('month', rated.occurred_at) as date) as month,
    cast(rated.occurred_at as date) as fact_date,
    rated.status,
    case
        when rated.status in ('settled', 'refunded', 'disputed') then money(rated.processing_cost * rated.fx_factor)
        else money(0)
    end as processing_cost,
    case when rated.status = 'settled' then money(rated.infra_rate) else money(0) end as infra_cost
from rated
where rated.fx_factor is not null and (rated.status <> 'settled' or rated.infra_rate is not null)
