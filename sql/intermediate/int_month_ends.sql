-- The day each month is measured on (docs/metrics.md, "Periods"): its last day, and as_of_date
-- for the month in progress (as_of_month), so that a month in progress never shows customers who
-- simply have not been invoiced yet as churn, nor invoices not yet due as receivables. Every
-- rule that looks at "the last day of M" (MRR, receivables) reads measured_on from here. Months
-- run from the month of first_day through as_of_month.
select
    cast(month_start as date) as month,
    case
        when cast(month_start as date) = periods.as_of_month then periods.as_of_date
        else cast(last_day(month_start) as date)
    end as measured_on
from (
    select
        unnest(generate_series(
            cast(date_trunc('month', first_day) as timestamp),
            cast(as_of_month as timestamp),
            interval 1 month
        )) as month_start
    from int_periods
) as months
cross join int_periods as periods
