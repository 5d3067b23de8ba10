-- Recognised revenue per line and month (docs/metrics.md, "Revenue"): lines of invoices that
-- count for revenue; a line with a service period [period_start, period_end) of at least one day
-- is spread over its days, each month getting amount * days in that month / days in the period;
-- a zero-day line and every one_time line falls in the month of its invoice's created_at.
-- Each month's share is converted at the invoice date and rounded once (money()). Months after
-- as_of_month are deferred.
with lines as (
    select * from int_invoice_lines_valued where counts_for_revenue
),

spread_line_months as (
    select lines.*, line_months.month
    from lines
    inner join int_invoice_line_months as line_months on line_months.line_item_id = lines.line_item_id
    where lines.type <> 'one_time'
),

spread as (
    select
        line_item_id,
        customer_id,
        account_id,
        month,
        money(
            amount * fx_factor
            * date_diff(
                'day',
                greatest(period_start, month),
                least(period_end, cast(month + interval 1 month as date))
            )
            / period_days
        ) as revenue
    from spread_line_months
),

point_in_time as (
    select
        line_item_id,
        customer_id,
        account_id,
        cast(date_trunc('month', invoice_date) as date) as month,
        money(amount * fx_factor) as revenue
    from lines
    where period_days < 1 or type = 'one_time'
),

all_revenue as (
    select * from spread
    union all
    select * from point_in_time
)

select all_revenue.line_item_id, all_revenue.customer_id, all_revenue.account_id, all_revenue.month, all_revenue.revenue
from all_revenue
cross join int_periods as periods
where all_revenue.month <= periods.as_of_month
