-- Receivables positions per account and month, at the month's last-day rates (docs/metrics.md,
-- "Working capital"). Invoices considered: those that count for revenue (open, paid and
-- uncollectible). Positions are taken on the day the month is measured on (int_month_ends: its
-- last day, as_of_date for the month in progress). ar_end: created on or before that day and
-- neither paid (paid_at's date) nor written off (an uncollectible invoice leaves AR at the first
-- month end on or after its updated_at) by then. billed_90d: created in the 90 days ending on
-- that day. paid_amount and
-- paid_amount_seconds (amount x seconds from created_at to paid_at) weight days_to_pay over the
-- invoices paid in the month. Each amount is converted and rounded once (money()). Partial
-- payments are not modelled. Quarantined invoices (no rate at created_at) are not counted.
with invoices as (
    select
        account_id,
        currency,
        amount_due,
        created_at,
        paid_at,
        fact_date as created_date,
        cast(paid_at as date) as paid_date,
        case when status = 'uncollectible' then cast(updated_at as date) end as written_off_date
    from int_invoices_valued
    where counts_for_revenue
),

-- Each invoice over the months it can matter to: while unsettled, and while it is billed in the
-- trailing 90 days.
invoice_months as (
    select
        account_id,
        currency,
        amount_due,
        created_date,
        paid_date,
        written_off_date,
        cast(month_start as date) as month
    from (
        select
            invoices.*,
            unnest(generate_series(
                cast(date_trunc('month', invoices.created_date) as timestamp),
                cast(least(
                    periods.as_of_month,
                    greatest(
                        date_trunc('month', coalesce(least(invoices.paid_date, invoices.written_off_date), periods.as_of_last_day)),
                        date_trunc('month', invoices.created_date + interval 89 day)
                    )
                ) as timestamp),
                interval 1 month
            )) as month_start
        from invoices
        cross join int_periods as periods
    ) as expanded
),

positions as (
    select
        invoice_months.account_id,
        invoice_months.month,
        sum(case
            when (invoice_months.paid_date is null or invoice_months.paid_date > month_ends.measured_on)
                and (invoice_months.written_off_date is null or invoice_months.written_off_date > month_ends.measured_on)
                then money(invoice_months.amount_due * fx.minor_unit_to_reporting)
            else money(0)
        end) as ar_end,
        sum(case
            when invoice_months.created_date >= cast(month_ends.measured_on - interval 89 day as date)
                then money(invoice_months.amount_due * fx.minor_unit_to_reporting)
            else money(0)
        end) as billed_90d
    from invoice_months
    inner join int_month_ends as month_ends on month_ends.month = invoice_months.month
    inner join int_fx_daily as fx
        on fx.currency = invoice_months.currency
            and fx.rate_date = last_day(invoice_months.month)
    group by invoice_months.account_id, invoice_months.month
),

-- paid_amount_seconds weights each payment by its exact seconds to pay (a decimal sum, so that
-- days_to_pay does not depend on the order of addition).
payments as (
    select
        valued.account_id,
        valued.month,
        sum(valued.amount) as paid_amount,
        sum(valued.amount * valued.seconds_to_pay) as paid_amount_seconds
    from (
        select
            invoices.account_id,
            cast(date_trunc('month', invoices.paid_at) as date) as month,
            money(invoices.amount_due * fx.minor_unit_to_reporting) as amount,
            -- whole seconds between the truncated times: what DuckDB (seconds boundaries crossed)
            -- and Spark (whole seconds elapsed) both count, whatever the fractions of a second
            date_diff(
                'second', date_trunc('second', invoices.created_at), date_trunc('second', invoices.paid_at)
            ) as seconds_to_pay
        from invoices
        inner join int_fx_daily as fx
            on fx.currency = invoices.currency
                and fx.rate_date = last_day(cast(date_trunc('month', invoices.paid_at) as date))
        cross join int_periods as periods
        where invoices.paid_at is not null and invoices.paid_at < periods.as_of_last_day + interval 1 day
    ) as valued
    group by valued.account_id, valued.month
)

select
    coalesce(positions.account_id, payments.account_id) as account_id,
    coalesce(positions.month, payments.month) as month,
    coalesce(positions.ar_end, money(0)) as ar_end,
    coalesce(positions.billed_90d, money(0)) as billed_90d,
    coalesce(payments.paid_amount, money(0)) as paid_amount,
    coalesce(payments.paid_amount_seconds, money(0)) as paid_amount_seconds
from positions
full outer join payments
    on payments.account_id = positions.account_id
        and payments.month = positions.month
