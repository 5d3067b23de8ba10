-- Gross and contribution margin per account and month with every cost line (docs/metrics.md,
-- "Revenue", "Costs"), dense over int_account_months (first active month through as_of_month).
-- Money is DECIMAL(38,6): sums of amounts rounded once where converted, so exact and
-- independent of the order of addition; ratios are DOUBLE computed from those decimals.
with revenue as (
    select account_id, month, sum(revenue) as revenue
    from int_revenue_by_line_month
    group by account_id, month
),

transactions as (
    select account_id, month, sum(processing_cost) as processing_cost, sum(infra_cost) as infra_cost
    from int_transactions_valued
    group by account_id, month
),

fees as (
    select account_id, month, sum(payment_fee) as payment_fees
    from int_charges_valued
    group by account_id, month
),

agent_time as (
    select
        account_id,
        month,
        coalesce(sum(agent_cost) filter (where not is_exception), 0) as support_cost,
        coalesce(sum(agent_cost) filter (where is_exception), 0) as exception_agent_cost
    from int_time_entries_valued
    group by account_id, month
),

exception_units as (
    select account_id, month, sum(unit_cost) as exception_unit_cost
    from int_tickets_valued
    where is_exception
    group by account_id, month
),

engagement as (
    select account_id, month, sum(engagement_cost) as engagement_cost
    from int_engagement_costs
    group by account_id, month
),

costs as (
    select
        spine.account_id,
        spine.month,
        coalesce(revenue.revenue, 0) as revenue,
        coalesce(mrr.mrr, 0) as mrr,
        coalesce(transactions.processing_cost, 0) as processing_cost,
        coalesce(fees.payment_fees, 0) as payment_fees,
        coalesce(transactions.infra_cost, 0) as infra_cost,
        coalesce(agent_time.support_cost, 0) as support_cost,
        coalesce(agent_time.exception_agent_cost, 0)
        + coalesce(exception_units.exception_unit_cost, 0) as exception_handling_cost,
        coalesce(engagement.engagement_cost, 0) as engagement_cost
    from int_account_months as spine
    left join revenue using (account_id, month)
    left join int_mrr_at_month_rates as mrr using (account_id, month)
    left join transactions using (account_id, month)
    left join fees using (account_id, month)
    left join agent_time using (account_id, month)
    left join exception_units using (account_id, month)
    left join engagement using (account_id, month)
),

margins as (
    select
        *,
        support_cost + exception_handling_cost as cost_to_serve,
        processing_cost + payment_fees + infra_cost + support_cost + exception_handling_cost as cogs
    from costs
)

select
    cast(account_id as varchar) as account_id,
    cast(month as date) as month,
    cast(revenue as decimal(38, 6)) as revenue,
    cast(mrr as decimal(38, 6)) as mrr,
    cast(processing_cost as decimal(38, 6)) as processing_cost,
    cast(payment_fees as decimal(38, 6)) as payment_fees,
    cast(infra_cost as decimal(38, 6)) as infra_cost,
    cast(support_cost as decimal(38, 6)) as support_cost,
    cast(exception_handling_cost as decimal(38, 6)) as exception_handling_cost,
    cast(cost_to_serve as decimal(38, 6)) as cost_to_serve,
    cast(cogs as decimal(38, 6)) as cogs,
    cast(revenue - cogs as decimal(38, 6)) as gross_margin,
    cast((revenue - cogs) / nullif(revenue, 0) as double) as gross_margin_pct,
    cast(engagement_cost as decimal(38, 6)) as engagement_cost,
    cast(revenue - cogs - engagement_cost as decimal(38, 6)) as contribution_margin,
    cast((revenue - cogs - engagement_cost) / nullif(revenue, 0) as double) as contribution_margin_pct
from margins
