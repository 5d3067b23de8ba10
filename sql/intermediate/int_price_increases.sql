-- Price increases on subscriptions (docs/metrics.md, "Price increases"): a non-proration
-- subscription line stating quantity and unit_amount whose monthly unit price (unit_amount /
-- billed_months, in the line's currency) is more than 0.5% above that of the previous such line
-- of the same subscription in the same currency. Lines of invoices that count for revenue and
-- name a subscription, ordered by period_start then line_item_id; a line without quantity or
-- unit_amount is not in the sequence at all, and consecutive lines in two currencies are not
-- compared. The comparison is exact (integer cross-multiplication in DECIMAL(38, 0), which both
-- engines have; DuckDB's HUGEINT does not exist on Spark). The month is that of the
-- line's period_start, through as_of_month. Project reading: two increases of one subscription
-- in the same month keep the later line's (the grain is subscription x month).
with priced_lines as (
    select
        line_item_id,
        subscription_id,
        account_id,
        currency,
        period_start,
        cast(unit_amount as decimal(38, 0)) as unit_amount,
        cast(billed_months as decimal(38, 0)) as billed_months,
        minor_unit_exponent
    from int_invoice_lines_valued
    where counts_for_revenue
        and subscription_id is not null
        and type = 'subscription'
        and not proration
        and quantity is not null
        and unit_amount is not null
),

sequenced as (
    select
        *,
        lag(unit_amount) over subscription_lines as previous_unit_amount,
        lag(billed_months) over subscription_lines as previous_billed_months,
        lag(currency) over subscription_lines as previous_currency
    from priced_lines
    window subscription_lines as (partition by subscription_id order by period_start, line_item_id)
),

increases as (
    select
        sequenced.*,
        cast(date_trunc('month', sequenced.period_start) as date) as month
    from sequenced
    cross join int_periods as periods
    where sequenced.previous_currency = sequenced.currency
        -- new / old > 1.005, as new * 1000 * old_n > old * 1005 * new_n
        and sequenced.unit_amount * sequenced.previous_billed_months * 1000
        > sequenced.previous_unit_amount * sequenced.billed_months * 1005
        and sequenced.period_start < periods.as_of_month + interval 1 month
)

select
    subscription_id,
    month,
    account_id,
    currency,
    line_item_id,
    money(cast(previous_unit_amount as double) / previous_billed_months / power(10, minor_unit_exponent)) as old_unit_monthly,
    money(cast(unit_amount as double) / billed_months / power(10, minor_unit_exponent)) as new_unit_monthly,
    cast(unit_amount * previous_billed_months as double) / nullif(cast(previous_unit_amount * billed_months as double), 0)
    - 1 as increase_pct
from increases
qualify row_number() over (partition by subscription_id, month order by period_start desc, line_item_id desc) = 1
