-- Invoices that can be valued: an FX rate of the invoice's currency is in effect at its
-- created_at date (docs/metrics.md, "Money conversion"). An invoice without one is quarantined
-- (rate_quarantine) and contributes to nothing: no mart, no total, no period boundary. Every
-- status is kept, with the contract's status rules (staging.invoice_statuses):
-- counts_for_revenue: open, paid or uncollectible (docs/metrics.md, "Revenue"; also the invoices
-- of working capital). counts_for_mrr: the same or a draft (a draft is the next period of a live
-- subscription that billing has not finalised yet: never revenue, but the subscription is in
-- force; "MRR"). Amounts stay in minor units: each rule converts them at the date it names.
-- The account is looked up first, kept apart (MATERIALIZED), as in int_transactions_valued.sql:
-- after the FX join DuckDB built its hash table on the invoices instead of the accounts.
with accounted as materialized (
    select
        invoices.*,
        coalesce(customers.account_id, 'unattributed:billing') as account_id
    from stg_billing__invoices as invoices
    left join int_customer_accounts as customers on customers.customer_id = invoices.customer_id
)

select
    invoices.invoice_id,
    invoices.customer_id,
    invoices.account_id,
    invoices.subscription_id,
    invoices.status,
    statuses.counts_for_revenue,
    statuses.counts_for_mrr,
    invoices.currency,
    invoices.amount_due,
    invoices.created_at,
    invoices.paid_at,
    invoices.updated_at,
    cast(invoices.created_at as date) as fact_date
from accounted as invoices
inner join invoice_statuses as statuses on statuses.status = invoices.status
inner join int_fx_daily as fx
    on fx.currency = invoices.currency
        and fx.rate_date = cast(invoices.created_at as date)
