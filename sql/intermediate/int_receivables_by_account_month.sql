-- Receivables positions per account and month, at the month's last-day rates (metrics.md,
-- "Working capital"). Invoices considered: open, paid and uncollectible.
-- ar_end: created on or before the month's last day and neither paid (paid_at's date) nor written
-- off (an uncollectible invoice leaves AR at the first month end on or after its updated_at) by
-- then. billed_90d: created in the 90 days ending on the last day. paid_amount and
-- paid_amount_days (amount x fractional days from created_at to paid_at) weight days_to_pay over
-- the invoices paid in the month. Partial payments are not modelled.
with invoices as (
    select
        coalesce(customers.account_id, 'unattributed:billing') as account_id,
        invoices.currency,
        invoices.amount_due,
        invoices.created_at,
        invoices.paid_at,
        cast(invoices.created_at as date) as created_date,
        cast(invoices.paid_at as date) as paid_date,
        case when invoices.status = 'uncollectible' then cast(invoices.updated_at as date) end as written_off_date
    from stg_billing__invoices as invoices
    left join int_customer_accounts as customers on customers.customer_id = invoices.customer_id
    where invoices.status in ('open', 'paid', 'uncollectible')
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
            when (invoice_months.paid_date is null or invoice_months.paid_date > last_day(invoice_months.month))
                and (invoice_months.written_off_date is null or invoice_months.written_off_date > last_day(invoice_months.month))
                then invoice_months.amount_due * fx.minor_unit_to_reporting
            else 0
        end) as ar_end,
        sum(case
            when invoice_months.created_date >= cast(last_day(invoice_months.month) - interval 89 day as date)
                then invoice_months.amount_due * fx.minor_unit_to_reporting
            else 0
        end) as billed_90d
    from invoice_months
    inner join int_fx_daily as fx
        on fx.currency = invoice_months.currency
        and fx.rate_date = last_day(invoice_months.month)
    group by invoice_months.account_id, invoice_months.month
),

payments as (
    select
        invoices.account_id,
        cast(date_trunc('month', invoices.paid_at) as date) as month,
        sum(invoices.amount_due * fx.minor_unit_to_reporting) as paid_amount,
        sum(
            invoices.amount_due * fx.minor_unit_to_reporting
            * date_diff('second', invoices.created_at, invoices.paid_at) / 86400.0
        ) as paid_amount_days
    from invoices
    inner join int_fx_daily as fx
        on fx.currency = invoices.currency
        and fx.rate_date = last_day(cast(date_trunc('month', invoices.paid_at) as date))
    cross join int_periods as periods
    where invoices.paid_at is not null and invoices.paid_at < periods.as_of_last_day + interval 1 day
    group by invoices.account_id, cast(date_trunc('month', invoices.paid_at) as date)
)

select
    coalesce(positions.account_id, payments.account_id) as account_id,
    coalesce(positions.month, payments.month) as month,
    coalesce(positions.ar_end, 0) as ar_end,
    coalesce(positions.billed_90d, 0) as billed_90d,
    coalesce(payments.paid_amount, 0) as paid_amount,
    coalesce(payments.paid_amount_days, 0) as paid_amount_days
from positions
full outer join payments
    on payments.account_id = positions.account_id
    and payments.month = positions.month
