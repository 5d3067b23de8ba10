-- Σ revenue and Σ each cost column of account_month_economics equal the same rule applied
-- directly to the staged extracts through as_of_month (docs/metrics.md, "Reconciliation
-- invariants"). Written independently of the intermediate fact models: revenue is clipped at the
-- end of as_of_month instead of spread month by month, costs are summed straight from staging.
-- A fact with no rate in effect (its own, or its invoice's or exception ticket's) contributes
-- nothing here either. Returns one row per column that differs by a cent or more (no row: the
-- check passes).
with periods as (
    select * from int_periods
),

usd as (
    select rate_date, unit_to_reporting from int_fx_daily where currency = 'USD'
),

mart as (
    select
        sum(revenue) as revenue,
        sum(processing_cost) as processing_cost,
        sum(payment_fees) as payment_fees,
        sum(infra_cost) as infra_cost,
        sum(support_cost) as support_cost,
        sum(exception_handling_cost) as exception_handling_cost,
        sum(engagement_cost) as engagement_cost
    from account_month_economics
),

revenue as (
    select
        sum(money(
            lines.amount * fx.minor_unit_to_reporting
            * case
                when date_diff('day', lines.period_start, lines.period_end) >= 1 and lines.type <> 'one_time'
                    then greatest(0, least(
                            date_diff('day', lines.period_start, lines.period_end),
                            date_diff('day', lines.period_start, cast(periods.as_of_last_day + interval 1 day as date))
                        )) / date_diff('day', lines.period_start, lines.period_end)
                else 1
            end
        )) as revenue
    from stg_billing__invoice_line_items as lines
    inner join stg_billing__invoices as invoices on invoices.invoice_id = lines.invoice_id
    inner join int_fx_daily as invoice_fx
        on invoice_fx.currency = invoices.currency and invoice_fx.rate_date = cast(invoices.created_at as date)
    -- one key of two columns: joined on them apart, the optimizer joins every currency's rate of
    -- the invoice's date to the invoice first (4x the lines) and only then the lines
    inner join int_fx_daily as fx
        on (fx.currency, fx.rate_date) = (lines.currency, cast(invoices.created_at as date))
    inner join invoice_statuses as statuses on statuses.status = invoices.status
    cross join periods
    where statuses.counts_for_revenue
),

-- The infrastructure cost of one settled transaction, per day with a rate and a USD rate in
-- effect: the same for every transaction of the day, so rounded once per day.
infra_unit_costs as (
    select infra.rate_date, money(infra.rate * usd.unit_to_reporting) as unit_cost
    from int_rates_daily as infra
    inner join usd on usd.rate_date = infra.rate_date
    where infra.rate_kind = 'infra_per_settled_transaction_usd' and infra.rate * usd.unit_to_reporting is not null
),

-- Per day and settled or not: the infrastructure cost of a day's settled transactions is their
-- count times the day's unit cost, so the infra rates are joined to days, not to 15 M rows.
transactions_by_day as (
    select
        cast(transactions.occurred_at as date) as fact_date,
        transactions.status = 'settled' as settled,
        sum(money(transactions.processing_cost * fx.minor_unit_to_reporting)) as processing_cost,
        count(*) as transactions
    from stg_billing__transactions as transactions
    inner join int_fx_daily as fx on fx.currency = transactions.currency and fx.rate_date = cast(transactions.occurred_at as date)
    where transactions.status in ('settled', 'refunded', 'disputed')
    group by cast(transactions.occurred_at as date), transactions.status = 'settled'
),

transactions as (
    select
        sum(days.processing_cost) as processing_cost,
        sum(days.transactions * infra.unit_cost) as infra_cost
    from transactions_by_day as days
    left join infra_unit_costs as infra on days.settled and infra.rate_date = days.fact_date
    where not days.settled or infra.unit_cost is not null
),

fees as (
    select sum(money(charges.fee * fx.minor_unit_to_reporting)) as payment_fees
    from stg_billing__charges as charges
    inner join int_fx_daily as fx on fx.currency = charges.currency and fx.rate_date = cast(charges.created_at as date)
    where charges.status in ('succeeded', 'refunded')
),

-- Per ticket first (a materialized CTE: inlined, DuckDB joined the categories and unit rates to
-- each of the 2.7 M time entries instead of to the tickets).
ticket_kinds as materialized (
    select
        tickets.ticket_id,
        categories.is_exception,
        unit_rates.rate is not null as has_unit_rate
    from stg_support__tickets as tickets
    inner join ticket_categories as categories on categories.category = tickets.category
    left join int_rates_daily as unit_rates
        on unit_rates.rate_kind = 'exception_unit_usd'
            and unit_rates.rate_key = tickets.category
            and unit_rates.rate_date = cast(tickets.created_at as date)
),

-- Each time entry's cost is rounded once (money()), then summed per ticket: the join to the
-- tickets reads ~1 M ticket sums instead of 2.7 M entries at scale 10 (exact: decimal sums).
agent_time as (
    select
        sum(case when not tickets.is_exception then cost end) as support_cost,
        sum(case when tickets.is_exception then cost end) as exception_agent_cost
    from (
        select entries.ticket_id, sum(money(entries.minutes / 60.0 * rates.rate * usd.unit_to_reporting)) as cost
        from stg_support__time_entries as entries
        inner join int_rates_daily as rates
            on rates.rate_kind = 'agent_hourly_usd'
                and rates.rate_key = entries.agent_tier
                and rates.rate_date = cast(entries.logged_at as date)
        inner join usd on usd.rate_date = cast(entries.logged_at as date)
        group by entries.ticket_id
    ) as ticket_costs
    inner join ticket_kinds as tickets on tickets.ticket_id = ticket_costs.ticket_id
    where not tickets.is_exception or tickets.has_unit_rate
),

exception_units as (
    select sum(money(rates.rate * usd.unit_to_reporting)) as exception_unit_cost
    from stg_support__tickets as tickets
    inner join int_rates_daily as rates
        on rates.rate_kind = 'exception_unit_usd'
            and rates.rate_key = tickets.category
            and rates.rate_date = cast(tickets.created_at as date)
    inner join usd on usd.rate_date = cast(tickets.created_at as date)
),

engagement as (
    select sum(money(costs.cost_per_enrolled_account_usd * usd.unit_to_reporting)) as engagement_cost
    from (
        select
            programs.cost_per_enrolled_account_usd,
            -- the generator alone in its select item (Spark does not allow it inside a cast)
            unnest(generate_series(
                date_trunc('month', enrollments.enrolled_at),
                date_trunc('month', enrollments.enrolled_at + programs.evaluation_window_days * interval 1 day),
                interval 1 month
            )) as month_start
        from stg_crm__program_enrollments as enrollments
        inner join stg_crm__programs as programs on programs.program_id = enrollments.program_id
    ) as costs
    inner join usd on usd.rate_date = last_day(cast(costs.month_start as date))
    cross join periods
    where cast(costs.month_start as date) <= periods.as_of_month
),

comparison as (
    select 'revenue' as metric, mart.revenue as mart_total, revenue.revenue as source_total from mart, revenue
    union all
    select 'processing_cost', mart.processing_cost, transactions.processing_cost from mart, transactions
    union all
    select 'infra_cost', mart.infra_cost, transactions.infra_cost from mart, transactions
    union all
    select 'payment_fees', mart.payment_fees, fees.payment_fees from mart, fees
    union all
    select 'support_cost', mart.support_cost, agent_time.support_cost from mart, agent_time
    union all
    select
        'exception_handling_cost', mart.exception_handling_cost,
        coalesce(agent_time.exception_agent_cost, 0) + coalesce(exception_units.exception_unit_cost, 0)
    from mart, agent_time, exception_units
    union all
    select 'engagement_cost', mart.engagement_cost, engagement.engagement_cost from mart, engagement
)

select metric, mart_total, source_total
from comparison
where abs(coalesce(mart_total, 0) - coalesce(source_total, 0)) >= 0.005
