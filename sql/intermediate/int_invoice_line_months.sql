-- Every calendar month that a line's service period [period_start, period_end) of at least one
-- day touches, for the lines that count for revenue or MRR. Revenue spreading and MRR both start
-- from it (one month expansion rule).
select line_item_id, cast(month_start as date) as month
from (
    select
        line_item_id,
        unnest(generate_series(
            cast(date_trunc('month', period_start) as timestamp),
            cast(date_trunc('month', period_end - interval 1 day) as timestamp),
            interval 1 month
        )) as month_start
    from int_invoice_lines_valued
    where period_days >= 1 and (counts_for_revenue or counts_for_mrr)
) as expanded
